"""Themes: an offline, explainable tagger of comment themes, and language detection, in polars.

A theme is tagged when a comment holds one of its lexicon terms (``data/seeds/theme_lexicon.csv``
plus the user's ``NPS_THEME_LEXICON_FILE``); the terms found are kept beside the themes, so every
tag can be checked by eye. Text and terms are folded the same way first: lower case, accents and
Arabic-script variants folded, Persian zero-width non-joiners read as spaces.

Term syntax: a plain term matches whole words (``refund`` not in ``refunded``); a trailing ``*``
matches any word starting so (``refund*``). Chinese and Persian terms match anywhere in the text,
as that script does not mark words; Persian terms match at the start of a word, whatever suffix
follows (``جعبه`` in ``جعبه‌اش``). Language ``*`` applies a term to every language.

Language: the export's own (``en-US``, ``EN``, ``English`` -> ``en``) where it says; detected from
the comment's script and common words otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from nps_pipeline.storage import seed_file

SEED_LEXICON = seed_file("theme_lexicon.csv")
NO_WORD_BOUNDARIES = ("zh", "ja")  # Persian and Arabic: terms match at a word's start, as prefixes
WORD_START_ONLY = ("fa", "ar")
SUPPORTED_LANGUAGES = ("en", "es", "fr", "id", "fa", "zh")

LANGUAGE_NAMES = {
    "english": "en", "anglais": "en", "ingles": "en", "inggris": "en",
    "spanish": "es", "espanol": "es", "castellano": "es", "espagnol": "es",
    "french": "fr", "francais": "fr", "frances": "fr",
    "indonesian": "id", "bahasa indonesia": "id", "indonesia": "id", "bahasa": "id", "in": "id",
    "persian": "fa", "farsi": "fa", "فارسی": "fa",
    "chinese": "zh", "mandarin": "zh", "中文": "zh", "简体中文": "zh", "繁體中文": "zh", "zh-s": "zh", "zh-t": "zh",
    "german": "de", "deutsch": "de", "portuguese": "pt", "portugues": "pt", "japanese": "ja", "arabic": "ar",
}

# Common words that tell the Latin-script languages apart (whole words, folded).
LATIN_CUES = {
    "en": "the and is was are to it my i you your very not but for with this that of have has had they "
    "too no never after before again what would could from there their been our just don't didn't can't "
    "on an at in be me we so if or all by as out put get got still",
    "es": "el la los las muy pero que es con para por mi y una un del al lo se su nunca nada más mas "
    "está esta fue son tiene hay también cuando porque me gustaría todo bien",
    "fr": "le la les très tres mais est pas je et des une un du au pour avec ce cette mon ma mes il elle "
    "nous vous jamais rien été c'est n'est j'ai qu'il sans plus aussi trop sur dans ne qui",
    "id": "sangat tidak saya dan yang tapi agak sudah untuk dengan ini itu di ke dari aku kami belum "
    "sekali juga bisa ada karena lagi mau sama banget tolong terima kasih terlalu saja cepat sering jadi "
    "masih tetap kok deh sih dong banyak lebih kurang biasa",
}
LATIN_LETTERS = {"es": "ñ¿¡", "fr": "çœèêàùâîôûë"}

ARABIC_SCRIPT = r"[\p{Arabic}]"
PERSIAN_LETTERS = r"[پچژگیک]"
ARABIC_LETTERS = r"[ةيكى]"


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file, the row and the rule."""


def fold_text(text: pl.Expr) -> pl.Expr:
    """The form both comments and lexicon terms are compared in."""
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all("\u200c", " ")
        .str.replace_all("[يى]", "ی")
        .str.replace_all("ك", "ک")
        .str.replace_all("[’`´]", "'")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def normalise_language(language: pl.Expr) -> pl.Expr:
    """``en-US``, ``EN``, ``English``, ``zh_CN`` -> ``en``/``zh``; blanks -> null."""
    folded = fold_text(language)
    named = folded.replace_strict(LANGUAGE_NAMES, default=None)
    code = folded.str.extract(r"^([a-z]{2,3})(?:[-_ ].*)?$", 1)
    return pl.coalesce(named, code).replace("", None)


def _cue_pattern(words: str) -> str:
    folded = pl.Series([words]).to_frame("w").select(fold_text(pl.col("w"))).item()
    alternatives = sorted({re.escape(w) for w in folded.split()}, key=len, reverse=True)
    return r"(?:^|[^\p{L}'])(?:" + "|".join(alternatives) + r")(?:$|[^\p{L}'])"


_CUES = {language: _cue_pattern(words) for language, words in LATIN_CUES.items()}


def detect_language(frame: pl.DataFrame, text: str, lexicon: "Lexicon | None" = None) -> pl.Series:
    """The language of each text of ``frame[text]`` from its script, then from common words; null when it cannot tell.

    Han script is ``zh`` (``ja`` with kana), Arabic script is ``fa`` where Persian letters lead
    (``ar`` otherwise), Latin script is whichever of en/es/fr/id has most cue words, letters and
    (given a lexicon) theme terms of that language, null on a tie or none. Indonesian's ``-nya``
    suffix counts as a cue. Computed in stages, so each count is evaluated once.
    """
    raw = pl.col(text).str.to_lowercase()
    counts = frame.select(
        pl.col(text).is_null().alias("_null"),
        raw.str.count_matches(r"\p{Han}").alias("_han"),
        raw.str.count_matches(r"[\p{Hiragana}\p{Katakana}]").alias("_kana"),
        raw.str.count_matches(ARABIC_SCRIPT).alias("_arabic"),
        raw.str.count_matches(r"\p{Latin}").alias("_latin"),
        raw.str.count_matches(r"\p{Hangul}").alias("_hangul"),
        (raw.str.count_matches(PERSIAN_LETTERS) >= raw.str.count_matches(ARABIC_LETTERS)).alias("_persian"),
        raw.alias("_raw"),
        fold_text(pl.col(text)).alias("_folded"),
    ).with_columns(
        # Words are padded so a cue word at either end of the text still has a boundary to match.
        _padded=pl.lit(" ") + pl.col("_folded").str.replace_all(r"[^\p{L}']+", "  ") + pl.lit(" ")
    )
    patterns = lexicon.patterns() if lexicon is not None else {}
    scores = {}
    for language, pattern in _CUES.items():
        score = pl.col("_padded").str.count_matches(pattern).cast(pl.Int32)
        if language in LATIN_LETTERS:
            score = score + pl.col("_raw").str.count_matches(f"[{LATIN_LETTERS[language]}]").cast(pl.Int32)
        if language == "id":
            score = score + pl.col("_padded").str.count_matches(r"\pL{2,}nya ").cast(pl.Int32)
        if language in patterns:
            score = score + pl.col("_folded").str.count_matches(patterns[language]).cast(pl.Int32)
        scores[f"_score_{language}"] = score
    counts = counts.with_columns(**scores)
    names = list(scores)
    counts = counts.with_columns(_best=pl.max_horizontal(names)).with_columns(
        _ties=pl.sum_horizontal([(pl.col(n) == pl.col("_best")).cast(pl.Int32) for n in names])
    )
    latin_choice = pl.lit(None, dtype=pl.String)
    for name in names:
        latin_choice = pl.when(pl.col(name) == pl.col("_best")).then(pl.lit(name.removeprefix("_score_"))).otherwise(latin_choice)
    latin_choice = pl.when((pl.col("_best") > 0) & (pl.col("_ties") == 1)).then(latin_choice)
    return counts.select(
        pl.when(pl.col("_null"))
        .then(None)
        .when(pl.col("_kana") > 0)
        .then(pl.lit("ja"))
        .when((pl.col("_han") > 0) & (pl.col("_han") >= pl.col("_latin")))
        .then(pl.lit("zh"))
        .when((pl.col("_hangul") > 0) & (pl.col("_hangul") >= pl.col("_latin")))
        .then(pl.lit("ko"))
        .when((pl.col("_arabic") > 0) & (pl.col("_arabic") >= pl.col("_latin")))
        .then(pl.when(pl.col("_persian")).then(pl.lit("fa")).otherwise(pl.lit("ar")))
        .when(pl.col("_latin") > 0)
        .then(latin_choice)
        .otherwise(None)
        .alias("comment_language")
    ).to_series()


@dataclass(frozen=True)
class Lexicon:
    """Theme terms by language: ``terms`` has columns theme, language, term (as written), key, prefix."""

    terms: pl.DataFrame
    sources: tuple[str, ...]

    @property
    def themes(self) -> list[str]:
        return sorted(self.terms["theme"].unique().to_list())

    def patterns(self) -> dict[str, str]:
        """One regular expression per language; a match's text is the key of the term it found."""
        patterns = {}
        for (language,), group in self.terms.group_by("language", maintain_order=True):
            keys = group.unique(["key", "prefix"]).sort(pl.col("key").str.len_chars(), descending=True)
            alternatives = []
            for key, prefix in keys.select("key", "prefix").iter_rows():
                escaped = re.escape(key)
                if language in NO_WORD_BOUNDARIES and not re.search(r"[a-z]", key):
                    alternatives.append(escaped)
                elif language in WORD_START_ONLY:
                    alternatives.append(r"\b" + escaped)
                else:
                    # Whole words unless a prefix; the match itself is exactly the term's key.
                    alternatives.append(r"\b" + escaped + ("" if prefix else r"\b"))
            patterns[language] = "(?:" + "|".join(alternatives) + ")"
        return patterns


def read_lexicon_file(path: Path | str) -> pl.DataFrame:
    """A lexicon CSV (theme, language, term), checked row by row."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.PolarsError) as error:
        raise LexiconError(f"{path}: cannot be read as a UTF-8 CSV: {str(error).splitlines()[0]}") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    missing = [c for c in ("theme", "language", "term") if c not in frame.columns]
    if missing:
        raise LexiconError(f"{path}: missing column(s) {', '.join(missing)}; expected theme, language, term")
    frame = frame.select(
        pl.col("theme").str.strip_chars().str.to_lowercase(),
        pl.col("language").str.strip_chars().str.to_lowercase(),
        pl.col("term").str.strip_chars(),
    ).with_row_index("row", offset=2)
    blank = frame.filter(pl.any_horizontal(pl.col("theme", "language", "term").is_null() | (pl.col("theme", "language", "term") == "")))
    if not blank.is_empty():
        row = blank["row"][0]
        raise LexiconError(f"{path}: row {row}: theme, language and term must all be filled in")
    bad_term = frame.filter(pl.col("term").str.replace(r"\*$", "").str.contains(r"\*") | (pl.col("term") == "*"))
    if not bad_term.is_empty():
        raise LexiconError(f"{path}: row {bad_term['row'][0]}: term {bad_term['term'][0]!r}: '*' may only end a term")
    return frame.drop("row")


def load_lexicon(user_file: str | Path | None = None, seed: Path = SEED_LEXICON) -> Lexicon:
    """The shipped lexicon, extended by the user's file (its rows add terms and themes)."""
    frames, sources = [read_lexicon_file(seed)], [str(seed)]
    if user_file:
        frames.append(read_lexicon_file(user_file))
        sources.append(str(user_file))
    terms = (
        pl.concat(frames)
        .with_columns(prefix=pl.col("term").str.ends_with("*"), key=fold_text(pl.col("term").str.strip_suffix("*")))
        .unique(["theme", "language", "key", "prefix"], maintain_order=True)
    )
    return Lexicon(terms=terms, sources=tuple(sources))


def tag(frame: pl.DataFrame, lexicon: Lexicon, *, text: str = "comment", language: str = "theme_language", key: str = "response_id") -> pl.DataFrame:
    """Themes of each row of ``frame``: key, themes (sorted list), theme_terms (which term gave which theme).

    Rows without a match get an empty list. One regular expression per language runs over the
    rows of that language (and the ``*`` terms over every row); no Python loop over rows.
    """
    patterns = lexicon.patterns()
    base = frame.select(key, fold_text(pl.col(text)).alias("_text"), pl.col(language).alias("_language"))
    found = []
    for lang, pattern in patterns.items():
        rows = base if lang == "*" else base.filter(pl.col("_language") == lang)
        found.append(
            rows.select(key, pl.lit(lang).alias("language"), pl.col("_text").str.extract_all(pattern).alias("key"))
            .explode("key")
            .drop_nulls("key")
        )
    matches = (
        pl.concat(found)
        .join(lexicon.terms.select("language", "key", "theme").unique(), on=["language", "key"], how="inner")
        .unique([key, "theme", "key"])
    )
    per_theme = matches.group_by(key, "theme").agg(pl.col("key").unique().sort().str.join(", ").alias("terms"))
    tagged = per_theme.sort(key, "theme").group_by(key, maintain_order=True).agg(
        pl.col("theme").alias("themes"),
        pl.format("{}: {}", "theme", "terms").str.join("; ").alias("theme_terms"),
    )
    return (
        frame.select(key)
        .join(tagged, on=key, how="left", maintain_order="left")
        .with_columns(pl.col("themes").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )


def with_language_and_themes(frame: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame:
    """Add ``language`` (export's, normalised, else detected), ``comment_language``, ``themes``, ``theme_terms``."""
    frame = frame.with_columns(
        comment_language=detect_language(frame, "comment", lexicon),
        language=normalise_language(pl.col("language")),
    ).with_columns(
        language_detected=pl.col("language").is_null() & pl.col("comment_language").is_not_null(),
        language=pl.coalesce("language", "comment_language"),
    )
    # The comment's own language decides the terms looked for: customers answer an English survey in Spanish.
    frame = frame.with_columns(theme_language=pl.coalesce("comment_language", "language"))
    tagged = tag(frame.filter(pl.col("comment").is_not_null()), lexicon)
    return (
        frame.join(tagged, on="response_id", how="left", maintain_order="left")
        .with_columns(pl.col("themes").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .drop("theme_language")
    )


def evaluate(labelled: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame:
    """Precision and recall of themes, and language detection accuracy, per language and split.

    ``labelled``: id, split, language, comment, themes (``;``-separated, empty for none). Theme
    language is detected from the comment, as in the pipeline, not taken from the label.
    """
    data = labelled.with_columns(
        comment_language=detect_language(labelled, "comment", lexicon),
        expected=pl.col("themes").fill_null("").str.split(";").list.eval(pl.element().str.strip_chars().filter(pl.element() != "")),
    ).rename({"id": "response_id"})
    tagged = tag(data.with_columns(theme_language=pl.coalesce("comment_language", "language")), lexicon)
    scored = data.join(tagged, on="response_id").with_columns(
        true_positives=pl.col("themes_right").list.set_intersection("expected").list.len(),
        predicted=pl.col("themes_right").list.len(),
        actual=pl.col("expected").list.len(),
        language_right=pl.col("comment_language") == pl.col("language"),
    )
    summary = scored.group_by("language", "split").agg(
        pl.len().alias("comments"),
        pl.col("true_positives").sum(),
        pl.col("predicted").sum(),
        pl.col("actual").sum(),
        pl.col("language_right").cast(pl.Int64).sum().alias("language_right"),
    )
    overall = summary.group_by("language").agg(pl.lit("all").alias("split"), pl.exclude("split").sum())
    return (
        pl.concat([summary, overall.select(summary.columns)])
        .with_columns(
            precision=(pl.col("true_positives") / pl.col("predicted")).round(3),
            recall=(pl.col("true_positives") / pl.col("actual")).round(3),
            language_accuracy=(pl.col("language_right") / pl.col("comments")).round(3),
        )
        .sort("language", "split")
    )


def misses(labelled: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame:
    """The labelled comments whose themes differ from the labels (to improve the lexicon)."""
    data = labelled.with_columns(comment_language=detect_language(labelled, "comment", lexicon)).rename({"id": "response_id"})
    tagged = tag(data.with_columns(theme_language=pl.coalesce("comment_language", "language")), lexicon)
    return (
        data.join(tagged, on="response_id")
        .with_columns(found=pl.col("themes_right").list.join(";"))
        .filter((pl.col("found") != pl.col("themes").fill_null("")) | (pl.col("comment_language") != pl.col("language")))
        .select("response_id", "language", "comment_language", "comment", "themes", "found", "theme_terms")
    )
