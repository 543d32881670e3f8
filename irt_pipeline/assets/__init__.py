"""The assets, one module per stage, thin over plain functions in `irt_pipeline.stats`
(and the landing and contract modules); what Dagster adds is storage, metadata and the
checks.

Per (session, chamber) partition: roll_calls -> vote_matrix -> pca_init, then every
registered model's stages (`models.py`, an asset factory over `stats/models/`):
posterior -> diagnostics -> rankings, posterior_predictive and loo beside them; between
models: model_comparison, dimensionality and external_validation; the page to hand on,
report. Across sessions, partitioned by chamber alone: common_scale and careers, and
chamber_report.

`CATALOG` (catalog.py) holds them all, derived from the registered models;
the names below are the default model's chain, for tests and scripts.
"""

from irt_pipeline.assets.catalog import COMMON, Catalog
from irt_pipeline.stats.models import DEFAULT, MODELS

CATALOG = Catalog(MODELS)
roll_calls, vote_matrix, pca_init = COMMON
CHAIN = CATALOG.chain(DEFAULT)
posterior, diagnostics, rankings = CHAIN[3:]
ALL_ASSETS = CATALOG.assets()

__all__ = ["ALL_ASSETS", "CATALOG", "CHAIN", "diagnostics", "pca_init", "posterior", "rankings", "roll_calls",
           "vote_matrix"]
