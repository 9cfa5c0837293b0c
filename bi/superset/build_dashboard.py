"""Build the NPS starter dashboard in Apache Superset over the pipeline's published nps.duckdb.

    .venv-bi/bin/python bi/superset/build_dashboard.py --duckdb data/warehouse/nps.duckdb

Sets up Superset's metadata database (under NPS_BI_HOME, default bi/superset/.home), an admin user
(NPS_BI_ADMIN_USER / NPS_BI_ADMIN_PASSWORD, default admin / admin: change it for anything shared),
and imports one dashboard: the database connection (read-only DuckDB), a dataset per table it
uses, the charts and their layout. Running it again updates the same objects (stable uuids).
The charts are defined below; the dataset columns are read from the file, so the dashboard follows
the contract's tables as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
NAMESPACE = uuid.UUID("6f1c1d2e-4b7a-4d55-9a51-0a3c2b9e7f10")
DATABASE_NAME = "NPS warehouse"
DASHBOARD_SLUG = "nps"
NPS = "100.0 * (SUM(promoters) - SUM(detractors)) / NULLIF(SUM(responses), 0)"
OPEN = "status IN ('open', 'contacted', 'in_progress')"


def uid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def metric(sql: str, label: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label, "optionName": f"metric_{uid(label)[:8]}"}


def where(sql: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": sql, "clause": "WHERE"}


ALL_TIME = {"clause": "WHERE", "comparator": "No filter", "expressionType": "SIMPLE", "operator": "TEMPORAL_RANGE", "subject": "response_date"}

# (title, dataset, viz_type, params, width of 12): one row of the layout per inner list.
LAYOUT = [
    [
        ("NPS over the whole period", "nps_daily", "big_number_total",
         {"metric": metric(NPS, "NPS"), "adhoc_filters": [ALL_TIME], "y_axis_format": ",.1f",
          "subheader": "% promoters minus % detractors", "header_font_size": 0.4, "subheader_font_size": 0.125}, 4),
        ("Responses", "nps_daily", "big_number_total",
         {"metric": metric("SUM(responses)", "Responses"), "adhoc_filters": [ALL_TIME], "y_axis_format": ",d"}, 4),
        ("Open detractor cases", "detractor_cases", "big_number_total",
         {"metric": metric("COUNT(*)", "Open cases"), "adhoc_filters": [where(OPEN)], "y_axis_format": ",d"}, 4),
    ],
    [
        ("Daily NPS with its 95% interval", "nps_daily", "echarts_timeseries_line",
         {"x_axis": "response_date", "time_grain_sqla": "P1D", "adhoc_filters": [ALL_TIME],
          "metrics": [metric("MAX(nps)", "NPS"), metric("MAX(nps_ci_low)", "95% low"), metric("MAX(nps_ci_high)", "95% high")],
          "groupby": [], "row_limit": 10000, "y_axis_format": ",.1f", "show_legend": True, "rich_tooltip": True}, 12),
    ],
    [
        ("NPS by region", "nps_daily_segment", "table",
         {"query_mode": "aggregate", "groupby": ["segment"], "adhoc_filters": [ALL_TIME, where("dimension = 'region'")],
          "metrics": [metric(NPS, "NPS"), metric("SUM(responses)", "Responses")], "row_limit": 100,
          "order_desc": True, "timeseries_limit_metric": metric("SUM(responses)", "Responses")}, 6),
        ("Files ingested: every row accounted for", "ingest_files", "table",
         {"query_mode": "raw", "all_columns": ["source_file", "rows_read", "rows_valid", "rows_duplicate", "rows_quarantined", "status"],
          "adhoc_filters": [], "order_by_cols": [json.dumps(["source_file", True])], "row_limit": 1000}, 6),
    ],
    [
        ("Open detractor cases, most urgent first", "detractor_cases", "table",
         {"query_mode": "raw", "all_columns": ["case_id", "priority", "status", "owner", "due_at", "responses", "latest_score", "priority_reasons"],
          "adhoc_filters": [where(OPEN)], "order_by_cols": [json.dumps(["priority", True]), json.dumps(["due_at", True])],
          "row_limit": 100}, 12),
    ],
]
DATASET_TIME_COLUMNS = {"nps_daily": "response_date", "nps_daily_segment": "response_date", "detractor_cases": "opened_at", "ingest_files": "ingested_at"}


def dataset_columns(duckdb_path: Path, table: str) -> list[dict]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        described = con.execute(f'DESCRIBE "{table}"').fetchall()
    return [
        {
            "column_name": name, "type": kind, "is_dttm": kind.startswith(("DATE", "TIMESTAMP")), "is_active": True,
            "groupby": True, "filterable": True, "expression": None, "description": None, "verbose_name": None,
            "python_date_format": None, "extra": None, "advanced_data_type": None,
        }
        for name, kind, *_ in described
    ]


def bundle(duckdb_path: Path, target: Path) -> Path:
    """The dashboard as Superset's import bundle (YAML files in a zip; JSON is valid YAML)."""
    database_uuid = uid("database")
    files: dict[str, dict] = {
        "metadata.yaml": {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-11-22T00:00:00+00:00"},
        "databases/NPS_warehouse.yaml": {
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": f"duckdb:///{duckdb_path}",
            "cache_timeout": None, "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False,
            "allow_cvas": False, "allow_dml": False, "allow_csv_upload": False,
            # Read-only: the pipeline swaps in a new nps.duckdb at every publish; each query opens the current one.
            "extra": {"engine_params": {"connect_args": {"read_only": True}}, "allows_virtual_table_explore": True},
            "uuid": database_uuid, "version": "1.0.0",
        },
    }
    for table, time_column in DATASET_TIME_COLUMNS.items():
        files[f"datasets/NPS_warehouse/{table}.yaml"] = {
            "table_name": table, "main_dttm_col": time_column, "description": None, "default_endpoint": None,
            "offset": 0, "cache_timeout": None, "schema": "main", "sql": None, "params": None, "template_params": None,
            "filter_select_enabled": True, "fetch_values_predicate": None, "extra": None, "normalize_columns": False,
            "uuid": uid(f"dataset:{table}"), "metrics": [], "columns": dataset_columns(duckdb_path, table),
            "version": "1.0.0", "database_uuid": database_uuid,
        }
    position: dict[str, dict] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": "Net Promoter Score"}},
    }
    for row_number, row in enumerate(LAYOUT):
        row_id = f"ROW-{row_number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for title, table, viz_type, params, width in row:
            chart_uuid = uid(f"chart:{title}")
            chart_id = f"CHART-{chart_uuid[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART", "id": chart_id, "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id],
                # chartId is the exporting instance's id: the import maps it to this instance's by uuid.
                "meta": {"uuid": chart_uuid, "chartId": len(files), "sliceName": title, "width": width, "height": 50 if viz_type != "big_number_total" else 25},
            }
            files[f"charts/{chart_id}.yaml"] = {
                "slice_name": title, "description": None, "viz_type": viz_type,
                "params": {"viz_type": viz_type, **params}, "query_context": None, "cache_timeout": None,
                "uuid": chart_uuid, "version": "1.0.0", "dataset_uuid": uid(f"dataset:{table}"),
            }
    files["dashboards/NPS.yaml"] = {
        "dashboard_title": "Net Promoter Score", "description": None, "css": "", "slug": DASHBOARD_SLUG,
        "uuid": uid("dashboard"), "position": position, "version": "1.0.0", "published": True,
        "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "native_filter_configuration": [],
                     "cross_filters_enabled": False, "expanded_slices": {}, "label_colors": {}, "timed_refresh_immune_slices": []},
    }
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"nps_dashboard/{name}", json.dumps(content, indent=1))
    return target


def superset(*args: str) -> None:
    command = [str(Path(sys.executable).parent / "superset"), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=environment())
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def environment() -> dict[str, str]:
    return {**os.environ, "SUPERSET_CONFIG_PATH": str(HERE / "superset_config.py"), "FLASK_APP": "superset"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.environ.get("NPS_WAREHOUSE_DIR", "data/warehouse")) / "nps.duckdb"
    parser.add_argument("--duckdb", default=str(default), help="the published nps.duckdb (default: %(default)s)")
    args = parser.parse_args()
    duckdb_path = Path(args.duckdb).resolve()
    if not duckdb_path.exists():
        raise SystemExit(f"{duckdb_path} does not exist: run the pipeline first (make demo)")
    user = os.environ.get("NPS_BI_ADMIN_USER", "admin")
    superset("db", "upgrade")
    superset("fab", "create-admin", "--username", user, "--firstname", "NPS", "--lastname", "Admin",
             "--email", f"{user}@localhost", "--password", os.environ.get("NPS_BI_ADMIN_PASSWORD", "admin"))
    superset("init")
    with tempfile.TemporaryDirectory() as tmp:
        superset("import-dashboards", "--path", str(bundle(duckdb_path, Path(tmp) / "nps_dashboard.zip")), "--username", user)
    print(f"dashboard 'Net Promoter Score' imported over {duckdb_path}; serve it with: make bi (then /superset/dashboard/{DASHBOARD_SLUG}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
