"""The one Definitions object: assets, checks, jobs, the landing sensor and resources."""

import dagster as dg

from irt_pipeline.assets import (
    ACROSS_SESSIONS, ALL_ASSETS, BOTH_MODELS, CHAIN, FLAT_CHAIN, MODEL_CHECKS, REPORT_JOBS, REPORTS,
    TWO_DIMENSIONAL_CHAIN,
)
from irt_pipeline.automation import automation_sensor
from irt_pipeline.deploy import executor_from_env
from irt_pipeline.partitions import chamber_partitions, session_chamber_partitions
from irt_pipeline.resources import resources_from_env
from irt_pipeline.sensors import landing_sensor

irt_chain = dg.define_asset_job(
    "irt_chain",
    selection=dg.AssetSelection.assets(*CHAIN),
    partitions_def=session_chamber_partitions,
    description="The whole chain for one (session, chamber) partition, checks included.",
)
flat_chain = dg.define_asset_job(
    "flat_chain",
    selection=dg.AssetSelection.assets(*FLAT_CHAIN),
    partitions_def=session_chamber_partitions,
    description="The flat model's chain for one partition (roll_calls to flat_rankings), checks included.",
)
both_models = dg.define_asset_job(
    "both_models",
    selection=dg.AssetSelection.assets(*BOTH_MODELS),
    partitions_def=session_chamber_partitions,
    description="Both models' chains for one partition, then posterior predictive checks, "
    "PSIS-LOO comparison and external validation.",
)
two_dimensional_chain = dg.define_asset_job(
    "two_dimensional_chain",
    selection=dg.AssetSelection.assets(*TWO_DIMENSIONAL_CHAIN),
    partitions_def=session_chamber_partitions,
    description="The two-dimensional model's chain (posterior_2d to rankings_2d) beside the default "
    "one, and the dimensionality verdict between them, checks included.",
)
model_checks = dg.define_asset_job(
    "model_checks",
    selection=dg.AssetSelection.assets(*MODEL_CHECKS),
    partitions_def=session_chamber_partitions,
    description="Posterior predictive checks, PSIS-LOO comparison and external validation "
    "from the stored posteriors and rankings of both models.",
)

common_scale_job = dg.define_asset_job(
    "common_scale_job",
    selection=dg.AssetSelection.assets(*ACROSS_SESSIONS),
    partitions_def=chamber_partitions,
    description="Every session of one chamber on one scale (common_scale, careers), from the "
    "stored posteriors and diagnostics; nothing is refit.",
)


def make_definitions(root: str | None = None, **resources) -> dg.Definitions:
    """The project's Definitions. `root` replaces IRT_PIPELINE_ROOT; keyword arguments
    replace resources by key (tests shrink the sampler this way)."""
    return dg.Definitions(
        assets=[*ALL_ASSETS, *ACROSS_SESSIONS, *REPORTS],
        jobs=[irt_chain, flat_chain, both_models, two_dimensional_chain, model_checks, common_scale_job, *REPORT_JOBS],
        sensors=[landing_sensor, automation_sensor],
        resources={**resources_from_env(root), **resources},
        # One process per run by default: imports (PyMC, nutpie) and compiled kernels are
        # shared by the steps instead of being paid again per step. IRT_PIPELINE_EXECUTOR=
        # celery spreads the steps over Celery workers instead (irt_pipeline/deploy.py).
        executor=executor_from_env(),
    )


defs = make_definitions()
