"""The resources every asset, check and sensor uses, from the environment's settings, and the executor."""

from __future__ import annotations

import dagster as dg

from nps_pipeline.defs.automation.alerts import AlertWebhook
from nps_pipeline.defs.shared import SETTINGS
from nps_pipeline.resources import NpsPipelineResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"nps": NpsPipelineResource.from_settings(SETTINGS), "alerts": AlertWebhook(url=SETTINGS.alert_webhook_url)},
        # Steps take turns on the warehouse anyway (pool and lock): one process per run saves a
        # Python start-up per step, which is most of a nightly run's cost.
        executor=dg.in_process_executor,
    )
