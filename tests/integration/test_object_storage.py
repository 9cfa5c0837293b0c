"""Landing zone and warehouse in S3-compatible object storage (moto in server mode), two machines in turn."""

from __future__ import annotations

import boto3
import duckdb
import pytest

from nps_pipeline.object_store import Mirror, ObjectStore
from nps_pipeline.resources import NpsPipelineResource
from tests.conftest import Pipeline, rows_csv
from tests.integration.dagster_dev import free_port


@pytest.fixture
def s3(monkeypatch):
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="exports")
    client.create_bucket(Bucket="lake")
    yield endpoint, client
    server.stop()


def _machine(tmp_path, name: str, endpoint: str) -> Pipeline:
    """A machine with nothing on its disk but its own cache folder."""
    pipeline = Pipeline(tmp_path / name)
    pipeline.resource = NpsPipelineResource(
        landing_dir="s3://exports/nps/landing", warehouse_dir="s3://lake/warehouse", local_cache_dir=str(tmp_path / name / "cache"),
        s3_endpoint_url=endpoint, pseudonym_key="test-key", case_updates_dir=str(tmp_path / name / "updates"),
    )
    return pipeline


def _keys(client, bucket: str, prefix: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"][len(prefix):] for page in pages for item in page.get("Contents", [])}


def test_two_machines_share_a_landing_zone_and_warehouse_in_object_storage(tmp_path, s3):
    endpoint, client = s3
    client.put_object(Bucket="exports", Key="nps/landing/march/a.csv", Body=rows_csv(
        "r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "r2,2024-03-01T11:00:00Z,2,,c2,,web,,,,,").encode())
    first = _machine(tmp_path, "first", endpoint)
    assert first.run("2024-03-01").success

    published = _keys(client, "lake", "warehouse/")
    assert {"nps_views.sql", "nps_daily/response_date=2024-03-01/data.parquet", "responses/_schema.parquet",
            "ingest_files/data.parquet"} <= published
    assert not [k for k in published if k.startswith(("snapshots/", "_internal/tmp/")) or k.endswith(".tmp")]

    # A second machine, empty disk: it takes the warehouse from the bucket, stages only the new export.
    client.put_object(Bucket="exports", Key="nps/landing/march/b.csv", Body=rows_csv(
        "r3,2024-03-02T10:00:00Z,9,,c3,,web,,,,,", "r2,2024-03-01T11:00:00Z,8,,c2,,web,,,,,").encode())
    second = _machine(tmp_path, "second", endpoint)
    result = second.run("2024-03-01", "2024-03-02")
    assert result.success
    staged = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "validated_responses"]
    assert staged[0].event_specific_data.materialization.metadata["files_staged_this_run"].value == 1

    # What the bucket holds now, read back as a BI tool on a third machine would (downloaded Parquet).
    reader = tmp_path / "reader"
    Mirror(ObjectStore("s3://lake/warehouse", endpoint), reader, tmp_path / "reader-index.json", True).pull()
    daily = duckdb.sql(f"SELECT response_date::VARCHAR, responses, detractors FROM '{reader}/nps_daily/*/data.parquet' ORDER BY 1")
    assert daily.fetchall() == [("2024-03-01", 2, 0), ("2024-03-02", 1, 0)]
    files = duckdb.sql(f"SELECT source_file, rows_read FROM '{reader}/ingest_files/data.parquet' ORDER BY 1").fetchall()
    assert files == [("march/a.csv", 2), ("march/b.csv", 2)]

    # For readers of the bucket, nps_views.sql creates the views over its s3:// Parquet, never a machine's disk.
    script = client.get_object(Bucket="lake", Key="warehouse/nps_views.sql")["Body"].read().decode()
    assert "s3://lake/warehouse/nps_daily/**/*.parquet" in script and str(tmp_path) not in script
    # The same script, pointed at the downloaded copy, gives working views.
    with duckdb.connect() as con:
        con.execute(script.replace("s3://lake/warehouse", str(reader)))
        assert con.sql("SELECT sum(responses) FROM nps_daily").fetchall() == [(3,)]
        assert con.sql("SELECT round(nps_score(5, 2, 10), 1)").fetchall() == [(30.0,)]


def test_a_working_copy_is_reset_to_the_bucket_before_a_run(tmp_path, s3):
    endpoint, client = s3
    store = ObjectStore("s3://lake/wh", endpoint)
    root = tmp_path / "copy"
    (root / "nps_daily").mkdir(parents=True)
    (root / "nps_daily" / "data.parquet").write_bytes(b"v1")
    mirror = Mirror(store, root, tmp_path / "index.json", True)
    assert mirror.push() == {"uploaded": 1, "deleted": 0}
    assert mirror.push() == {"uploaded": 0, "deleted": 0}
    # A run that died left an edited file and a stray one: the next pull puts the bucket's state back.
    (root / "nps_daily" / "data.parquet").write_bytes(b"half-written")
    (root / "nps_daily" / "stray.parquet").write_bytes(b"x")
    assert mirror.pull() == {"downloaded": 1, "removed": 1, "objects": 1}
    assert (root / "nps_daily" / "data.parquet").read_bytes() == b"v1"
    assert not (root / "nps_daily" / "stray.parquet").exists()
    # A file deleted locally is deleted in the bucket on the next push.
    (root / "nps_daily" / "data.parquet").unlink()
    assert mirror.push() == {"uploaded": 0, "deleted": 1}
    assert _keys(client, "lake", "wh/") == set()
