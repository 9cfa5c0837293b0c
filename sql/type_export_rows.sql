-- Type an export's text rows: the score as a whole number; submitted_at as UTC (ISO 8601, the source's $formats, or Unix seconds; a trailing GMT/UTC or spaced offset, IANA zone name or unambiguous abbreviation in $zone_abbreviations (offsets in $zone_offset_minutes) honoured, any other zone word unparsed; naive times read in $source_timezone); its day in $timezone.
WITH trimmed AS (
    SELECT
        * EXCLUDE (response_id, score, submitted_at),
        -- The caller strips spaces, tabs, no-break spaces and NUL bytes around each value.
        nullif(response_id, '') AS response_id,
        nullif(score, '') AS score,
        nullif(submitted_at, '') AS submitted_at,
        -- Plain ISO 8601 (a date, a time, an offset or Z joined to it) has no zone written apart: the zone parsing below is skipped for it.
        coalesce(regexp_full_match(
            submitted_at,
            '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?)?'
        ), false) AS plain_iso,
        -- The source's own formats are tried on plain ISO text only when one of them could read it otherwise ($formats_read_iso).
        CASE WHEN NOT plain_iso OR $formats_read_iso THEN try_strptime(submitted_at, $formats) END AS format_value
    FROM export_rows
),
zoned AS (
    -- A zone after the time, spaced or as GMT/UTC ("10:15:33 AM GMT+1", "10:00:00 -0800"): the local time and its offset apart.
    SELECT
        *,
        CASE WHEN plain_iso THEN '' ELSE regexp_extract(submitted_at, '\s+(?:(?:GMT|UTC)(?:[+-][0-9]{1,2}(?::?[0-9]{2})?)?|[+-][0-9]{2}(?::?[0-9]{2})?)$', 0) END AS zone_suffix,
        CASE WHEN zone_suffix <> '' THEN rtrim(left(submitted_at, length(submitted_at) - length(zone_suffix))) END AS zoned_local,
        CASE WHEN zone_suffix <> '' THEN
            (CASE WHEN contains(zone_suffix, '-') THEN -1 ELSE 1 END) * (
                coalesce(CAST(nullif(regexp_extract(zone_suffix, '[+-]([0-9]{1,2}?):?([0-9]{2})?$', 1), '') AS INTEGER), 0) * 60
                + coalesce(CAST(nullif(regexp_extract(zone_suffix, '[+-]([0-9]{1,2}?):?([0-9]{2})?$', 2), '') AS INTEGER), 0)
            )
        END AS zone_offset_minutes,
        CASE WHEN zone_suffix <> '' THEN coalesce(try_strptime(zoned_local, $formats), try_cast(zoned_local AS TIMESTAMP)) END AS zoned_local_value,
        -- A zone written as a word after the time ("10:00 PST", "10:00 Europe/Paris"); AM/PM is not one.
        CASE WHEN zone_suffix = '' AND NOT plain_iso THEN regexp_extract(submitted_at, '[0-9](?:\s*[AaPp][Mm])?\s+([A-Za-z][A-Za-z_]*(?:[/+-][A-Za-z0-9_+-]+)*)$', 1) ELSE '' END AS zone_word_found,
        CASE WHEN upper(zone_word_found) IN ('AM', 'PM') THEN '' ELSE zone_word_found END AS zone_word,
        CASE WHEN zone_word <> '' THEN rtrim(left(submitted_at, length(submitted_at) - length(zone_word))) END AS named_local,
        CASE WHEN zone_word <> '' THEN coalesce(try_strptime(named_local, $formats), try_cast(named_local AS TIMESTAMP)) END AS named_local_value
    FROM trimmed
),
typed AS (
    SELECT
        * EXCLUDE (plain_iso, format_value, zone_suffix, zoned_local, zone_offset_minutes, zoned_local_value, zone_word_found, zone_word, named_local, named_local_value),
        CASE WHEN regexp_full_match(score, '[+-]?[0-9]{1,9}([.,]0+)?')
            THEN CAST(regexp_replace(score, '[.,]0+$', '') AS BIGINT) END AS score_value,
        CASE
            WHEN regexp_full_match(submitted_at, '[0-9]{9,10}(\.[0-9]+)?')
                THEN to_timestamp(CAST(submitted_at AS DOUBLE))
            WHEN format_value IS NOT NULL
                THEN timezone($source_timezone, format_value)
            WHEN zoned_local_value IS NOT NULL
                THEN timezone('UTC', zoned_local_value - to_minutes(zone_offset_minutes))
            -- A zone word that is neither an IANA name nor a known abbreviation leaves the time unparsed, for the rules to report.
            WHEN zone_word <> '' THEN CASE
                WHEN list_contains($zone_abbreviations, upper(zone_word))
                    THEN timezone('UTC', named_local_value - to_minutes($zone_offset_minutes[list_position($zone_abbreviations, upper(zone_word))]))
                -- Other capitals are abbreviations, many ambiguous (CST, IST, BST), that ICU would resolve to one guess.
                WHEN regexp_full_match(zone_word, '[A-Z]{2,5}') AND NOT list_contains($zone_names_in_capitals, zone_word) THEN NULL
                WHEN zone_word IN (SELECT name FROM pg_timezone_names()) THEN timezone(zone_word, named_local_value)
            END
            -- The offset must follow a time: a bare date such as 2026-11-02 is local midnight, not UTC.
            WHEN regexp_matches(submitted_at, ':[0-9]{2}(\.[0-9]+)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                THEN try_cast(submitted_at AS TIMESTAMPTZ)
            ELSE timezone($source_timezone, try_cast(submitted_at AS TIMESTAMP))
        END AS submitted_at_value
    FROM zoned
)
SELECT *, CAST(timezone($timezone, submitted_at_value) AS DATE) AS response_date
FROM typed
