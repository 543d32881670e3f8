"""The one Definitions object: assets, checks, jobs and resources."""

import dagster as dg

from irt_pipeline.assets import CHAIN
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import resources_from_env

irt_chain = dg.define_asset_job(
    "irt_chain",
    selection=dg.AssetSelection.assets(*CHAIN),
    partitions_def=session_chamber_partitions,
    description="The whole chain for one (session, chamber) partition, checks included.",
)

defs = dg.Definitions(
    assets=CHAIN,
    jobs=[irt_chain],
    resources=resources_from_env(),
    # One process per run: imports (PyMC, nutpie) and compiled kernels are shared by
    # the steps instead of being paid again per step.
    executor=dg.in_process_executor,
)
