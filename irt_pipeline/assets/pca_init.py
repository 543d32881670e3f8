"""pca_init: first principal component of the vote matrix, the sampler's start."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.pca import pca_scores


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.PCA_INIT,
    automation_condition=downstream_condition(),
)
def pca_init(context: dg.AssetExecutionContext, vote_matrix: VoteMatrix) -> dg.Output[pd.DataFrame]:
    """First two principal components, standardized and oriented (positive =
    conservative): the samplers' starts."""
    scores = pca_scores(vote_matrix)
    means = scores.groupby("party")["pc1"].mean().round(3).to_dict()
    return dg.Output(
        scores,
        metadata={
            "explained_variance": round(scores.attrs["explained_variance"], 4),
            "party_means": dg.MetadataValue.json(means),
            **landing_lineage(context, "vote_matrix"),
        },
        data_version=versions.data_version(frame_digest(scores)),
    )
