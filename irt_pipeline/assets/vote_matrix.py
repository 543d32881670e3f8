"""vote_matrix: the filtered Yea/Nay matrix of a partition, a `VoteMatrix` (stored in long
form, observed cells only; read back dense by the vote_matrix_io manager, once per file
and process)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import ERROR, GROUP, where as _where
from irt_pipeline.assets._lineage import landing_lineage, latest_materialization
from irt_pipeline.automation import downstream_condition
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import VoteFilters
from irt_pipeline.stats.matrix import build_vote_matrix

DATA_VERSION_TAG = "dagster/data_version"
# (rows digest, filters) -> (VoteMatrix, manifest) built by roll_calls' usability check
# in this process, so that vote_matrix, next in the same run, does not build it again.
_BUILT: dict = {}


def filtered_matrix(rows_frame: pd.DataFrame, filters: VoteFilters, where: str, rows: str | None = None):
    """(VoteMatrix, manifest) of canonical rows under `filters` (`build_vote_matrix`),
    remembered under `rows`, the rows' content digest (roll_calls' data version), and
    reused when asked again for the same digest and filters in this process. Raises
    BadInput naming `where` when nothing usable is left."""
    key = (rows, filters.min_minority_share, filters.min_votes)
    if rows is not None and key in _BUILT:
        return _BUILT[key]
    built = build_vote_matrix(
        rows_frame, min_minority_share=filters.min_minority_share, min_votes=filters.min_votes, where=where
    )
    if rows is not None:
        _BUILT.clear()  # one partition at a time: keep only the latest
        _BUILT[key] = built
    return built


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="vote_matrix_io",
    group_name=GROUP,
    code_version=versions.VOTE_MATRIX,
    automation_condition=downstream_condition(),
    check_specs=[
        dg.AssetCheckSpec(
            "vote_matrix_usable",
            asset="vote_matrix",
            blocking=True,
            description="Some legislators and roll calls remain after filtering.",
            partitions_def=session_chamber_partitions,
        )
    ],
)
def vote_matrix(context: dg.AssetExecutionContext, roll_calls: pd.DataFrame, vote_filters: VoteFilters):
    """Yea/Nay matrix after dropping lopsided roll calls and rarely voting legislators,
    stored in long form (observed cells only)."""
    upstream = latest_materialization(context.instance, "roll_calls", context.partition_key)
    try:
        matrix, manifest = filtered_matrix(
            roll_calls, vote_filters, _where(context), rows=upstream and upstream.tags.get(DATA_VERSION_TAG)
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
    filters = {"min_minority_share": vote_filters.min_minority_share, "min_votes": vote_filters.min_votes}
    yield dg.Output(
        matrix,
        metadata={
            "legislators": n,
            "roll_calls": m,
            "observed_votes": matrix.n_observed,
            "share_missing": round(1 - matrix.n_observed / (n * m), 4),
            "filtering_manifest": dg.MetadataValue.json(manifest),
            **landing_lineage(context, "roll_calls", upstream),
        },
        data_version=versions.data_version(matrix.digest(), filters),
    )
    parties = matrix.legislators["party"].value_counts().to_dict()
    yield dg.AssetCheckResult(
        check_name="vote_matrix_usable",
        passed=True,
        metadata={"legislators_by_party": dg.MetadataValue.json(parties)},
    )
