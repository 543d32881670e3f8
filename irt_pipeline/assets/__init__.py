"""The six assets of the chain, per (session, chamber) partition, one module each:

roll_calls -> vote_matrix -> pca_init -> posterior -> diagnostics -> rankings

and the flat model's pca_init -> flat_posterior -> flat_diagnostics -> flat_rankings
(same stages, shared code), the two-dimensional model's pca_init -> posterior_2d ->
diagnostics_2d -> rankings_2d and its verdict dimensionality (2D against the default
model), then posterior_predictive / flat_posterior_predictive,
model_comparison (PSIS-LOO) and external_validation.

Across sessions, partitioned by chamber alone: common_scale and careers (one
multi-asset fed by every session's posterior and diagnostics of the chamber).

The pages to hand on, on request: report per (session, chamber) and chamber_report per
chamber (assets/report.py, with their jobs).

Each is a thin wrapper over plain functions in `irt_pipeline.stats` (and the landing and
contract modules); what Dagster adds is storage, metadata and the checks.
"""

from irt_pipeline.assets.common_scale import common_scale
from irt_pipeline.assets.diagnostics import diagnostics
from irt_pipeline.assets.dimensionality import dimensionality
from irt_pipeline.assets.external_validation import external_validation
from irt_pipeline.assets.flat_diagnostics import flat_diagnostics
from irt_pipeline.assets.flat_posterior import flat_posterior
from irt_pipeline.assets.flat_rankings import flat_rankings
from irt_pipeline.assets.model_comparison import model_comparison
from irt_pipeline.assets.pca_init import pca_init
from irt_pipeline.assets.posterior import posterior
from irt_pipeline.assets.posterior_predictive import flat_posterior_predictive, posterior_predictive
from irt_pipeline.assets.rankings import rankings
from irt_pipeline.assets.report import REPORT_JOBS, REPORTS, chamber_report, report  # noqa: F401
from irt_pipeline.assets.roll_calls import roll_calls
from irt_pipeline.assets.two_dimensional import diagnostics_2d, posterior_2d, rankings_2d
from irt_pipeline.assets.vote_matrix import vote_matrix

CHAIN = [roll_calls, vote_matrix, pca_init, posterior, diagnostics, rankings]
# The flat model on the same partitions, from the same pca_init.
FLAT_CHAIN = [roll_calls, vote_matrix, pca_init, flat_posterior, flat_diagnostics, flat_rankings]
# Checks of and between the models (materialized on request, not by automation: the
# flat chain doubles the sampling).
MODEL_CHECKS = [posterior_predictive, flat_posterior_predictive, model_comparison, external_validation]
BOTH_MODELS = [*CHAIN, flat_posterior, flat_diagnostics, flat_rankings, *MODEL_CHECKS]
# The two-dimensional model beside the default one, and the verdict between them.
TWO_DIMENSIONAL_CHAIN = [*CHAIN, posterior_2d, diagnostics_2d, rankings_2d, dimensionality]
ALL_ASSETS = [*BOTH_MODELS, posterior_2d, diagnostics_2d, rankings_2d, dimensionality]
# Partitioned by chamber, so in no job of the (session, chamber) partitions.
ACROSS_SESSIONS = [common_scale]
