"""vote_matrix: the filtered Yea/Nay matrix of a partition (long form, observed cells)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import ERROR, GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import VoteFilters
from irt_pipeline.stats.matrix import build_vote_matrix


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.VOTE_MATRIX,
    automation_condition=downstream_condition(),
    check_specs=[
        dg.AssetCheckSpec(
            "vote_matrix_usable",
            asset="vote_matrix",
            blocking=True,
            description="Both major parties and some votes remain after filtering.",
            partitions_def=session_chamber_partitions,
        )
    ],
)
def vote_matrix(context: dg.AssetExecutionContext, roll_calls: pd.DataFrame, vote_filters: VoteFilters):
    """Yea/Nay matrix after dropping lopsided roll calls and rarely voting legislators,
    stored in long form (observed cells only)."""
    try:
        matrix, manifest = build_vote_matrix(
            roll_calls,
            min_minority_share=vote_filters.min_minority_share,
            min_votes=vote_filters.min_votes,
            where=_where(context),
        )
    except BadInput as exc:
        yield dg.AssetCheckResult(
            check_name="vote_matrix_usable",
            passed=False,
            severity=ERROR,
            metadata={"where": exc.where, "problem": exc.problem},
        )
        raise dg.Failure(description=str(exc)) from None
    n, m = matrix.shape
    frame = matrix.to_frame()
    filters = {"min_minority_share": vote_filters.min_minority_share, "min_votes": vote_filters.min_votes}
    yield dg.Output(
        frame,
        metadata={
            "legislators": n,
            "roll_calls": m,
            "observed_votes": matrix.n_observed,
            "share_missing": round(1 - matrix.n_observed / (n * m), 4),
            "filtering_manifest": dg.MetadataValue.json(manifest),
            **landing_lineage(context, "roll_calls"),
        },
        data_version=versions.data_version(frame_digest(frame), filters),
    )
    parties = matrix.legislators["party"].value_counts().to_dict()
    yield dg.AssetCheckResult(
        check_name="vote_matrix_usable",
        passed=True,
        metadata={"legislators_by_party": dg.MetadataValue.json(parties)},
    )
