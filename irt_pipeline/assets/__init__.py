"""The six assets of the chain, per (session, chamber) partition, one module each:

roll_calls -> vote_matrix -> pca_init -> posterior -> diagnostics -> rankings

Each is a thin wrapper over plain functions in `irt_pipeline.stats` (and the landing and
contract modules); what Dagster adds is storage, metadata and the checks.
"""

from irt_pipeline.assets.diagnostics import diagnostics
from irt_pipeline.assets.pca_init import pca_init
from irt_pipeline.assets.posterior import posterior
from irt_pipeline.assets.rankings import rankings
from irt_pipeline.assets.roll_calls import roll_calls
from irt_pipeline.assets.vote_matrix import vote_matrix

CHAIN = [roll_calls, vote_matrix, pca_init, posterior, diagnostics, rankings]
