"""The code location: everything under nps_pipeline/defs/, found by Dagster's defs-folder loading.

- defs/ingest, defs/nps, defs/follow_up, defs/serve: one folder per asset group, its assets
  (``assets.py``) beside the logic they use; the checks on the published tables in defs/serve.
- defs/automation: jobs, schedules, sensors and alerts; defs/resources.py: resources and executor.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import nps_pipeline.defs

CHECKOUT = Path(__file__).resolve().parent.parent


def _load() -> dg.Definitions:
    if (CHECKOUT / "pyproject.toml").exists():
        return dg.load_from_defs_folder(path_within_project=CHECKOUT)
    # An installed wheel has no pyproject.toml ([tool.dg]): the same folder, loaded as a module.
    return dg.components.load_defs(nps_pipeline.defs, project_root=CHECKOUT)


defs = _load()
