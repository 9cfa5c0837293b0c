"""Superset settings for the NPS starter dashboard: a local metadata database and read-only DuckDB."""

import os
import secrets
from pathlib import Path

HOME = Path(os.environ.get("NPS_BI_HOME", Path(__file__).resolve().parent / ".home"))
HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SUPERSET_SECRET_KEY, else one made once for this home (it encrypts the saved connection)."""
    if os.environ.get("SUPERSET_SECRET_KEY"):
        return os.environ["SUPERSET_SECRET_KEY"]
    path = HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(42), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}"
# The DuckDB file is the pipeline's published nps.duckdb, opened read-only by path.
PREVENT_UNSAFE_DB_CONNECTIONS = False
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
ROW_LIMIT = 50000
