"""The landing zone: every entry in it, the files to stage (links out of it refused unread) and those left alone."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path




IGNORED_FILE = re.compile(r"(^[.~]|\.(tmp|part|crdownload|swp)$|^~\$|^nps_sources\.toml$)", re.IGNORECASE)


class FileProblem(Exception):
    """The whole file cannot be ingested; the message names the cause for a person to fix."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    relative_path: str
    size: int
    mtime_ns: int
    refusal: str | None = None  # why the entry is refused without being opened (a link out of the landing zone, ...)

    @property
    def file_id(self) -> str:
        return hashlib.sha256(self.relative_path.encode("utf-8")).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


@dataclass(frozen=True)
class IgnoredEntry:
    """A landing-zone entry that is not read, and why (it still gets its row in ``ingest_files``)."""

    relative_path: str
    reason: str


def _ignored_reason(name: str) -> str:
    if name.lower() == "nps_sources.toml":
        return "per-source settings file: read only at the top of the landing zone"
    if name.startswith("~$"):
        return "an office application's lock file (name starts with '~$'): not read"
    if name.startswith("."):
        return "hidden file (name starts with '.'): not read; rename it to ingest it"
    if name.startswith("~"):
        return "backup or temporary file (name starts with '~'): not read"
    return "file still being written or a temporary copy (.tmp, .part, .crdownload, .swp): not read"


def landing_entries(landing_dir: Path) -> tuple[list[LandedFile], list[IgnoredEntry]]:
    """Every entry under the landing directory: the files to stage (links refused included) and those ignored.

    A symbolic link is followed only to a file inside the landing zone; a link out of it, or to
    nothing, is refused without being opened. Hidden and temporary files are not read, and neither
    is anything inside a hidden folder.
    """
    landing_dir = Path(landing_dir).resolve()
    if not landing_dir.is_dir():
        return [], []
    files, ignored = [], []
    for path in sorted(landing_dir.rglob("*")):
        relative = path.relative_to(landing_dir)
        if any(IGNORED_FILE.search(part) for part in relative.parts[:-1]) or relative.as_posix().lower() == "nps_sources.toml":
            continue
        refusal = None
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                refusal = "broken symbolic link (its target does not exist): refused"
            else:
                if not target.is_relative_to(landing_dir):
                    refusal = "symbolic link to a file outside the landing zone: refused; land the file itself"
                elif target.is_dir():
                    continue  # a link to a folder inside the landing zone: its files are listed where they are
        elif path.is_dir():
            continue
        elif not path.is_file():
            refusal = "not a regular file (a pipe, socket or device): refused"
        if IGNORED_FILE.search(relative.name):
            ignored.append(IgnoredEntry(relative.as_posix(), _ignored_reason(relative.name)))
            continue
        stat = path.lstat() if refusal else path.stat()
        files.append(LandedFile(path, relative.as_posix(), stat.st_size, stat.st_mtime_ns, refusal))
    return files, ignored


def scan_landing_zone(landing_dir: Path) -> list[LandedFile]:
    """Every export file under the landing directory, in any sub-folder, skipping hidden and temp files."""
    return landing_entries(landing_dir)[0]
