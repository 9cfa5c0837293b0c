"""The whole code location loads; the nightly schedule asks for yesterday's partition."""

import datetime as dt

import dagster as dg

from nps_pipeline.defs.automation.schedules import nightly_schedule
from nps_pipeline.definitions import defs


def test_definitions_load_and_every_asset_is_described():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "responses", "nps_daily", "detractor_followups", "quarantine", "ingest_files", "nps_windows",
        "nps_windows_weighted", "nps_benchmark_comparison", "nps_report",
    } <= keys
    # Daily partitions only on the per-day facts: a year's range costs every other asset one event.
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert partitioned == {"responses", "nps_daily"}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        spec = defs.resolve_assets_def(key).specs_by_key[key]
        assert spec.description, key
        assert spec.group_name and spec.group_name != "default", key
        assert spec.kinds, key
        assert spec.owners, key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_nightly_schedule_materialises_yesterday():
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc))
    requests = list(nightly_schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    assert nightly_schedule.cron_schedule == "0 2 * * *"


def test_the_landing_zone_sensor_and_both_jobs_are_defined():
    assert defs.resolve_sensor_def("landing_zone_sensor").minimum_interval_seconds == 60
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"daily_nps", "stage_landing_zone"}


def test_dg_checks_and_lists_the_project():
    """`dg check defs` and `dg list defs` work on the project ([tool.dg] in pyproject.toml)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dg_bin = Path(sys.executable).parent / "dg"
    checked = subprocess.run([str(dg_bin), "check", "defs"], cwd=root, capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-3000:]
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr
    listed = subprocess.run([str(dg_bin), "list", "defs", "--json"], cwd=root, capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr[-3000:]
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert keys == {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}


def test_readme_and_docs_links_stay_inside_the_repository():
    """Every link of the README and docs/ resolves to a file of the repository, and to a heading there."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def anchor(title: str) -> str:
        return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")

    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    # In a checkout, a link must reach a committed file: one that `make demo` writes does not exist in a clone.
    import subprocess

    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    committed = {(root / f).resolve() for f in listed.stdout.split()} if listed.returncode == 0 else None
    committed_dirs = {d for f in committed for d in f.parents} if committed else set()
    assert (root / "docs" / "contract.md") in pages
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text.replace("(../shared/contract.md where it is written)", "")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, fragment = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists() or not dest.is_relative_to(root):
                broken.append(f"{page.name}: {target}")
            elif committed is not None and dest not in committed and dest not in committed_dirs:
                broken.append(f"{page.name}: {target} (not a committed file)")
            elif fragment and dest.suffix == ".md":
                headings = {anchor(h) for h in re.findall(r"^#{1,4} (.*)$", dest.read_text(encoding="utf-8"), re.M)}
                if fragment not in headings:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200  # a ten-minute read; depth in docs/
    assert not re.findall(r"\]\((?:https?:|\.\./)", readme)  # the README links only inside the repository


def test_settings_are_declared_once_and_the_docs_table_is_theirs():
    """The settings table (docs/operations.md), the resource's fields and Settings all come from settings.SETTINGS."""
    from pathlib import Path

    import pytest

    from nps_pipeline.resources import NpsPipelineResource
    from nps_pipeline.settings import READ_BY_US, Settings, SettingsError, markdown_table

    operations = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    assert markdown_table() in operations, "paste `python -m nps_pipeline.settings` into docs/operations.md's settings table"
    resource_fields = set(NpsPipelineResource.model_fields) - {"pseudonym_key"}
    assert resource_fields == {s.field for s in READ_BY_US if s.resource}
    defaults = Settings.from_env({})
    assert all(getattr(defaults, s.field) == s.default for s in READ_BY_US)
    # The same rule guards the environment and the resource.
    with pytest.raises(SettingsError, match="NPS_MIN_ROWS_FOR_REJECTED_SHARE: 0 must be a whole number, 1 or more"):
        Settings.from_env({"NPS_MIN_ROWS_FOR_REJECTED_SHARE": "0"})
    with pytest.raises(Exception, match="NPS_FRESHNESS_DEADLINE_HOUR: 24 must be an hour of the day, 0-23"):
        NpsPipelineResource(landing_dir="a", warehouse_dir="b", freshness_deadline_hour=24)
