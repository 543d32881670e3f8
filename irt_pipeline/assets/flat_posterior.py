"""flat_posterior: draws of the flat 2PL model (stats/models/flat.py) from nutpie,
stored as NetCDF. The posterior stage is shared with `posterior` (`fit_posterior`)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.posterior import fit_posterior
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.models import flat


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version=versions.FLAT_POSTERIOR,
    pool="mcmc",
    op_tags=MCMC_OP_TAGS,  # with Celery: the MCMC workers' queue
)
def flat_posterior(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
) -> dg.Output:
    """Draws of the flat 2PL model (NetCDF): no party in the prior, xi standardized
    (chamber mean 0, sd 1) with each chain oriented by party. Cached like `posterior`
    (under {root}/cache/flat_posterior/)."""
    return fit_posterior(context, flat.SPEC, vote_matrix, pca_init, sampler, storage)
