"""flat_rankings: legislators ordered by the flat model's posterior mean, only from a
posterior that passed its gates (shared stage: `rank_posterior`)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.rankings import rank_posterior
from irt_pipeline.partitions import session_chamber_partitions


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.RANKINGS,
)
def flat_rankings(
    context: dg.AssetExecutionContext, flat_posterior, flat_diagnostics: dict
) -> dg.Output[pd.DataFrame]:
    """The columns of `rankings`, from the flat model (the same standardized scale, so
    the two tables compare directly). 1 = most conservative."""
    return rank_posterior(context, flat_posterior, flat_diagnostics, upstream="flat_posterior")
