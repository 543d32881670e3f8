"""roll_calls: the canonical roll-call rows of a partition, read from its landing files
and checked against the data contract."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import ERROR, GROUP, frame_digest, where as _where
from irt_pipeline.assets.pca_init import partition_orientation
from irt_pipeline.assets.vote_matrix import filtered_matrix
from irt_pipeline.automation import root_condition
from irt_pipeline.contract import validate_or_reuse
from irt_pipeline.errors import BadInput
from irt_pipeline.landing import read_partition
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Storage, VoteFilters


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.ROLL_CALLS,
    automation_condition=root_condition(),
    check_specs=[
        dg.AssetCheckSpec(
            "roll_call_contract",
            asset="roll_calls",
            blocking=True,
            description="Landing rows satisfy data_contracts/roll_calls.suite.json and "
            "leave a usable vote matrix (some legislators and roll calls) after filtering, whose "
            "orientation a rule decides (orientation.csv or the built-in party poles).",
            partitions_def=session_chamber_partitions,
        )
    ],
)
def roll_calls(context: dg.AssetExecutionContext, storage: Storage, vote_filters: VoteFilters):
    """Canonical roll-call rows of the partition, read from its landing files and
    validated against the data contract (rows that passed it before are not validated
    again: `contract.validate_or_reuse`). A violating file is never written, nor one
    that leaves no usable vote matrix or no orientation rule (a one-party or nonpartisan
    chamber without a declaration: `pca_init.partition_orientation`), checked here, before
    writing, so that a bad landing file leaves the stored partition untouched."""
    session, chamber = session_and_chamber(context)
    try:
        frame, files = read_partition(storage.landing, session, chamber)
        where = f"{', '.join(f['file'] for f in files)} ({_where(context)})"
        rows = frame_digest(frame)
        verdict = validate_or_reuse(frame, where, rows, storage.base)
        matrix, _ = filtered_matrix(frame, vote_filters, where, rows=rows)  # usable? (vote_matrix reuses it)
        partition_orientation(storage, matrix, session, chamber, where)  # a rule says which way is positive?
        verdict.record()  # only now: a failing partition leaves no trace
    except BadInput as exc:
        yield dg.AssetCheckResult(
            check_name="roll_call_contract",
            passed=False,
            severity=ERROR,
            metadata={"where": exc.where, "problem": exc.problem},
        )
        raise dg.Failure(description=str(exc)) from None
    yield dg.Output(
        frame,
        metadata={
            "rows": len(frame),
            "roll_calls": int(frame["roll_call_id"].nunique()),
            "legislators": int(frame["legislator_id"].nunique()),
            "landing_files": dg.MetadataValue.json(files),
            "landing_root": dg.MetadataValue.path(str(storage.landing)),
            "contract": verdict.status,
            "contract_verdict": dg.MetadataValue.path(str(verdict.path)),
        },
        data_version=dg.DataVersion(rows),
    )
    yield dg.AssetCheckResult(
        check_name="roll_call_contract",
        passed=True,
        metadata={"rows": len(frame), "files": dg.MetadataValue.json(files), "contract": verdict.status},
    )
