"""S3-compatible object storage for the landing zone and the warehouse, mirrored to a local working copy.

DuckDB and polars work on local files; an ``s3://bucket/prefix`` landing zone or warehouse is
mirrored into NPS_LOCAL_CACHE_DIR. Landing: new or changed objects are downloaded before each scan,
with the object's LastModified as the file's mtime, so a file's fingerprint is the same on every
machine. Warehouse: each run first makes the working copy equal to the bucket (a run that died
leaves nothing behind), and its publish step uploads what changed, then ``nps_views.sql``, which
creates the same views over the bucket's Parquet for a reader with DuckDB's httpfs. Uploads are whole objects (a PUT is atomic): a reader of the
bucket sees each day file old or new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

S3_SCHEME = "s3://"
# Local-only parts of a warehouse working copy: never uploaded, never deleted by a download.
LOCAL_ONLY = (
    "snapshots/", "_internal/tmp/", "_internal/.lock", "_internal/object_index.json", "nps.duckdb", ".nps.duckdb", "nps_views.sql",
)


def is_remote(location: str) -> bool:
    return str(location).startswith(S3_SCHEME)


def _local_only(relative: str) -> bool:
    return any(relative == p or relative.startswith(p) for p in LOCAL_ONLY) or relative.endswith(".tmp")


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str
    modified: dt.datetime


class ObjectStore:
    """One ``s3://bucket/prefix`` location (AWS, MinIO, Ceph, R2, moto...)."""

    def __init__(self, url: str, endpoint_url: str | None = None):
        import boto3

        if not is_remote(url):
            raise ValueError(f"not an s3:// location: {url}")
        bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
        self.url = url.rstrip("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def list(self) -> dict[str, RemoteObject]:
        """Every object under the prefix, by its path relative to the prefix."""
        found: dict[str, RemoteObject] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(self.prefix):]
                if relative and not relative.endswith("/"):
                    found[relative] = RemoteObject(item["Key"], item["Size"], item["ETag"].strip('"'), item["LastModified"])
        return found

    def download(self, relative: str, target: Path, modified: dt.datetime | None = None) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            self.client.download_file(self.bucket, self.prefix + relative, str(tmp))
            if modified is not None:
                stamp = modified.timestamp()
                os.utime(tmp, (stamp, stamp))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def upload(self, source: Path, relative: str) -> str:
        with open(source, "rb") as handle:
            answer = self.client.put_object(Bucket=self.bucket, Key=self.prefix + relative, Body=handle)
        return answer["ETag"].strip('"')

    def put_bytes(self, data: bytes, relative: str) -> str:
        return self.client.put_object(Bucket=self.bucket, Key=self.prefix + relative, Body=data)["ETag"].strip('"')

    def delete(self, relative: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + relative)

    def object_url(self, relative: str) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}{relative}"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_files(root: Path, skip_local_only: bool) -> dict[str, Path]:
    if not root.exists():
        return {}
    files = {}
    for path in root.rglob("*"):
        if path.is_file():
            relative = path.relative_to(root).as_posix()
            if not (skip_local_only and _local_only(relative)):
                files[relative] = path
    return files


class Mirror:
    """A local directory kept equal to an object-store location, with an index of what was synced."""

    def __init__(self, store: ObjectStore, root: Path, index_file: Path, skip_local_only: bool):
        self.store, self.root, self.index_file, self.skip_local_only = store, root, index_file, skip_local_only

    def _index(self) -> dict[str, dict]:
        return json.loads(self.index_file.read_text(encoding="utf-8")) if self.index_file.exists() else {}

    def _save(self, index: dict[str, dict]) -> None:
        self.index_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.index_file.with_name(f".{self.index_file.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.index_file)

    @staticmethod
    def _stat(path: Path) -> list[int]:
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]

    def pull(self) -> dict[str, int]:
        """Make the local copy equal to the bucket: download new or changed objects, revert local edits, drop extras."""
        index, remote = self._index(), self.store.list()
        local = _local_files(self.root, self.skip_local_only)
        downloaded = removed = 0
        for relative, item in remote.items():
            if self.skip_local_only and _local_only(relative):
                continue
            known = index.get(relative)
            path = self.root / relative
            if known is None or known["etag"] != item.etag or relative not in local or self._stat(path) != known["stat"]:
                self.store.download(relative, path, item.modified)
                index[relative] = {"etag": item.etag, "stat": self._stat(path)}
                downloaded += 1
        for relative, path in local.items():
            if relative not in remote:
                path.unlink(missing_ok=True)
                index.pop(relative, None)
                removed += 1
        for relative in [r for r in index if r not in remote]:
            index.pop(relative)
        self._save(index)
        return {"downloaded": downloaded, "removed": removed, "objects": len(remote)}

    def push(self) -> dict[str, int]:
        """Upload local files that changed since the last sync, delete objects whose file is gone."""
        index, local = self._index(), _local_files(self.root, self.skip_local_only)
        uploaded = deleted = 0
        for relative, path in sorted(local.items()):
            known = index.get(relative)
            stat = self._stat(path)
            if known is not None and known["stat"] == stat:
                continue
            if known is not None and known["etag"] == _md5(path):
                index[relative] = {"etag": known["etag"], "stat": stat}
                continue
            index[relative] = {"etag": self.store.upload(path, relative), "stat": stat}
            uploaded += 1
        for relative in [r for r in index if r not in local]:
            self.store.delete(relative)
            index.pop(relative)
            deleted += 1
        self._save(index)
        return {"uploaded": uploaded, "deleted": deleted}
