"""flat_rankings: legislators ordered by the flat model's posterior mean, only from a
posterior that passed its gates (shared stage: `rank_posterior`)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.flat_posterior import flat_metadata
from irt_pipeline.assets.rankings import rank_posterior
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.flat_model import standardized_xi

SCALE = "standardized per draw (chamber mean 0, sd 1), as in rankings; flat_posterior keeps the anchored scale"


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.RANKINGS,
)
def flat_rankings(
    context: dg.AssetExecutionContext, flat_posterior, flat_diagnostics: dict
) -> dg.Output[pd.DataFrame]:
    """The columns of `rankings`, from the flat model: xi restated per draw on the
    hierarchical model's scale (chamber mean 0, sd 1) so the two tables compare
    directly; ranks are the same on either scale. 1 = most conservative."""
    return rank_posterior(
        context,
        flat_posterior,
        flat_diagnostics,
        upstream="flat_posterior",
        ranked=standardized_xi(flat_posterior),
        metadata={"xi_scale": SCALE, **{k: v for k, v in flat_metadata(flat_posterior).items() if k != "xi_scale"}},
    )
