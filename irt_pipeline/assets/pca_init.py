"""pca_init: the samplers' starts and the scale's orientation: the first two principal
components of the vote matrix, oriented by the partition's orientation rule
(stats/orientation.py: the user's `{root}/orientation.csv`, else the built-in party
poles, else a refusal that says how to declare it), and the rule itself (the column
`orientation`, r per legislator; attrs `orientation_rule` and `orientation_poles`)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Storage
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.orientation import DECLARATIONS, orientation, read_declarations
from irt_pipeline.stats.pca import pca_scores


def declarations(storage: Storage) -> tuple[list[dict] | None, str]:
    """(rows, path) of `{root}/orientation.csv` (rows None where it does not exist), read
    and checked: a bad file is refused (BadInput naming it)."""
    path = storage.base / DECLARATIONS
    if not path.exists():
        return None, str(path)
    with path.open("r", encoding="utf-8") as handle:
        return read_declarations(handle, str(path)), str(path)


def partition_orientation(storage: Storage, matrix: VoteMatrix, session: str, chamber: str, where: str,
                          declared=None):
    """The partition's Orientation, from `{root}/orientation.csv` where it exists and
    the built-in party poles (declared: `declarations(storage)` when already read)."""
    rows, path = declarations(storage) if declared is None else declared
    return orientation(
        matrix.legislators["legislator_id"], matrix.legislators["party"], session, chamber, rows,
        declarations_path=path, where=where,
    )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.PCA_INIT,
    automation_condition=downstream_condition(),
)
def pca_init(context: dg.AssetExecutionContext, vote_matrix: VoteMatrix, storage: Storage) -> dg.Output[pd.DataFrame]:
    """First two principal components, standardized and oriented by the partition's
    orientation rule (positive = conservative): the samplers' starts, with the rule's r
    per legislator (`orientation`) and the rule stated in the metadata."""
    session, chamber = session_and_chamber(context)
    try:
        rule = partition_orientation(storage, vote_matrix, session, chamber, _where(context))
    except BadInput as exc:
        raise dg.Failure(description=str(exc)) from None
    scores = pca_scores(vote_matrix, rule.weights)
    scores["orientation"] = rule.weights
    scores.attrs.update(orientation_rule=rule.rule, orientation_poles=",".join(rule.poles or ()))
    means = scores.groupby("party")["pc1"].mean().round(3).to_dict()
    return dg.Output(
        scores,
        metadata={
            "orientation": rule.rule,
            "explained_variance": round(scores.attrs["explained_variance"], 4),
            "party_means": dg.MetadataValue.json(means),
            **landing_lineage(context, "vote_matrix"),
        },
        data_version=versions.data_version(frame_digest(scores)),
    )
