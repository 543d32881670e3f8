"""The one Definitions object: assets, checks, jobs, the landing sensor and resources,
all derived from the registered models (`stats/models/`, `assets/catalog.py`)."""

import dagster as dg

from irt_pipeline.assets import CATALOG
from irt_pipeline.assets.catalog import Catalog
from irt_pipeline.automation import automation_sensor
from irt_pipeline.deploy import executor_from_env
from irt_pipeline.resources import resources_from_env
from irt_pipeline.sensors import landing_sensor


def make_definitions(root: str | None = None, catalog: Catalog | None = None, **resources) -> dg.Definitions:
    """The project's Definitions. `root` replaces IRT_PIPELINE_ROOT; `catalog` replaces
    the registered models' (a test registers a model of its own this way); keyword
    arguments replace resources by key (tests shrink the sampler this way)."""
    catalog = catalog or CATALOG
    return dg.Definitions(
        assets=catalog.assets(),
        jobs=catalog.jobs(),
        sensors=[landing_sensor, automation_sensor],
        resources={**resources_from_env(root, rebuild=catalog.rebuild_models()), **resources},
        # One process per run by default: imports (PyMC, nutpie) and compiled kernels are
        # shared by the steps instead of being paid again per step. IRT_PIPELINE_EXECUTOR=
        # celery spreads the steps over Celery workers instead (irt_pipeline/deploy.py).
        executor=executor_from_env(),
    )


defs = make_definitions()
