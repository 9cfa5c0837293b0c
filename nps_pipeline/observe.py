"""Time per stage inside an asset: code marks its stages, the asset wrapper reports them.

Stages: ``waiting_for_lock`` (another run held the warehouse), ``query_and_write`` (DuckDB running a
query into Parquet), ``swap_in`` (renaming finished files into place) and ``other`` (the rest:
reading in polars, previews, charts), so a slow run says where its time went.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

_stages: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("nps_stages", default=None)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Collect stage times for the code run inside; yields the dict they are added to."""
    token = _stages.set({})
    try:
        yield _stages.get()
    finally:
        _stages.reset(token)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        stages = _stages.get()
        if stages is not None:
            stages[name] = stages.get(name, 0.0) + time.monotonic() - started
