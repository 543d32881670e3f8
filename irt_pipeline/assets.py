"""The six assets of the chain, per (session, chamber) partition:

roll_calls -> vote_matrix -> pca_init -> posterior -> diagnostics -> rankings

Each is a thin wrapper over a plain function in `irt_pipeline.stats` (or the landing
and contract modules); what Dagster adds is storage, metadata and the checks.
"""


import hashlib

import dagster as dg
import numpy as np
import pandas as pd
import xarray as xr

from irt_pipeline.contract import validate_roll_calls
from irt_pipeline.errors import BadInput
from irt_pipeline.landing import read_partition
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage, VoteFilters
from irt_pipeline.stats.diagnostics import GATES, evaluate_gates
from irt_pipeline.stats.matrix import VoteMatrix, build_vote_matrix
from irt_pipeline.stats.pca import pca_scores
from irt_pipeline.stats.rankings import rank_legislators
from irt_pipeline.stats.sampling import sample_hierarchical

GROUP = "ideal_points"
ERROR = dg.AssetCheckSeverity.ERROR


def _where(context) -> str:
    session, chamber = session_and_chamber(context)
    return f"partition session={session} chamber={chamber}"


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's content (column names, values, order)."""
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version="1",
    check_specs=[
        dg.AssetCheckSpec(
            "roll_call_contract",
            asset="roll_calls",
            blocking=True,
            description="Landing rows satisfy data_contracts/roll_calls.suite.json.",
        )
    ],
)
def roll_calls(context: dg.AssetExecutionContext, storage: Storage):
    """Canonical roll-call rows of the partition, read from its landing files and
    validated against the data contract. A violating file is never written."""
    session, chamber = session_and_chamber(context)
    try:
        frame, files = read_partition(storage.landing, session, chamber)
        where = f"{', '.join(f['file'] for f in files)} ({_where(context)})"
        validate_roll_calls(frame, where).raise_if_failed()
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
        },
        data_version=dg.DataVersion(frame_digest(frame)),
    )
    yield dg.AssetCheckResult(
        check_name="roll_call_contract",
        passed=True,
        metadata={"rows": len(frame), "files": dg.MetadataValue.json(files)},
    )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version="1",
    check_specs=[
        dg.AssetCheckSpec(
            "vote_matrix_usable",
            asset="vote_matrix",
            blocking=True,
            description="Both major parties and some votes remain after filtering.",
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
            metadata={"problem": exc.problem},
        )
        raise dg.Failure(description=str(exc)) from None
    n, m = matrix.shape
    yield dg.Output(
        matrix.to_frame(),
        metadata={
            "legislators": n,
            "roll_calls": m,
            "observed_votes": matrix.n_observed,
            "share_missing": round(1 - matrix.n_observed / (n * m), 4),
            "filtering_manifest": dg.MetadataValue.json(manifest),
        },
    )
    parties = matrix.legislators["party"].value_counts().to_dict()
    yield dg.AssetCheckResult(
        check_name="vote_matrix_usable",
        passed=True,
        metadata={"legislators_by_party": dg.MetadataValue.json(parties)},
    )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version="1",
)
def pca_init(vote_matrix: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """First principal component, standardized and oriented (positive = conservative):
    the sampler's start."""
    scores = pca_scores(VoteMatrix.from_frame(vote_matrix))
    means = scores.groupby("party")["pc1"].mean().round(3).to_dict()
    return dg.Output(
        scores,
        metadata={
            "explained_variance": round(scores.attrs["explained_variance"], 4),
            "party_means": dg.MetadataValue.json(means),
        },
    )


def posterior_fingerprint(idata) -> str:
    """Content hash of the ideal-point draws: ties diagnostics to the posterior they
    judged."""
    return hashlib.sha256(np.ascontiguousarray(idata.posterior["xi"].values).tobytes()).hexdigest()


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version="1",
    pool="mcmc",
)
def posterior(
    context: dg.AssetExecutionContext, vote_matrix: pd.DataFrame, pca_init: pd.DataFrame, sampler: Sampler
) -> dg.Output:
    """Draws of the hierarchical 2PL model from nutpie (NetCDF). xi is standardized:
    chamber mean 0, sd 1."""
    matrix = VoteMatrix.from_frame(vote_matrix)
    start = pca_init.set_index("legislator_id").loc[matrix.legislators["legislator_id"], "pc1"]
    settings = sampler.settings()
    idata = sample_hierarchical(matrix, start.to_numpy(), settings)
    legislators = matrix.legislators.set_index("legislator_id")
    idata.add_groups(
        constant_data=xr.Dataset(
            {
                "legislator_name": ("legislator", legislators["legislator_name"].astype(str).to_numpy()),
                "party": ("legislator", legislators["party"].astype(str).to_numpy()),
            },
            coords={"legislator": legislators.index.astype(str).to_numpy()},
        )
    )
    idata.attrs["posterior_id"] = posterior_fingerprint(idata)
    idata.attrs["partition"] = _where(context)
    return dg.Output(
        idata,
        metadata={
            "compile_seconds": idata.attrs["compile_seconds"],
            "sampling_seconds": idata.attrs["sampling_seconds"],
            "sampler": dg.MetadataValue.json(settings.as_dict()),
            "posterior_id": idata.attrs["posterior_id"],
        },
    )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version="1",
    check_specs=[
        dg.AssetCheckSpec(g.name, asset="diagnostics", blocking=True, description=g.description)
        for g in GATES
    ],
)
def diagnostics(posterior):
    """Convergence summary of the posterior and the four gates (blocking checks)."""
    from irt_pipeline.stats.diagnostics import convergence_summary

    summary = convergence_summary(posterior)
    gates = evaluate_gates(summary)
    summary.update(
        posterior_id=posterior.attrs["posterior_id"],
        gates=gates,
        gates_passed=all(g["passed"] for g in gates),
    )
    table = "\n".join(
        ["| gate | value | threshold | passed |", "|---|---|---|---|"]
        + [f"| {g['gate']} | {g['value']:.4g} | {g['op']} {g['threshold']:g} | {g['passed']} |" for g in gates]
    )
    yield dg.Output(
        summary,
        metadata={
            "gates": dg.MetadataValue.md(table),
            "gates_passed": summary["gates_passed"],
            "compile_seconds": summary["compile_seconds"],
            "sampling_seconds": summary["sampling_seconds"],
            "leapfrog_steps_per_draw": round(summary["leapfrog_steps_per_draw"], 1),
        },
    )
    for g in gates:
        yield dg.AssetCheckResult(
            check_name=g["gate"],
            passed=g["passed"],
            severity=ERROR,
            metadata={"value": float(g["value"]), "threshold": f"{g['op']} {g['threshold']:g}"},
        )


def require_passed_gates(diagnostics: dict, posterior, where: str) -> None:
    """Refuse a posterior that failed its gates or was never judged (a later run of
    rankings alone must not rank from it)."""
    if diagnostics.get("posterior_id") != posterior.attrs.get("posterior_id"):
        raise dg.Failure(
            description=f"{where}: refusing to rank: the stored diagnostics are not of the "
            "stored posterior (materialize diagnostics first)"
        )
    failed = [g for g in diagnostics["gates"] if not g["passed"]]
    if failed:
        detail = ", ".join(f"{g['gate']}={g['value']:.4g} (needs {g['op']} {g['threshold']:g})" for g in failed)
        raise dg.Failure(
            description=f"{where}: refusing to rank from a posterior that failed its "
            f"convergence gates: {detail}"
        )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version="1",
)
def rankings(context: dg.AssetExecutionContext, posterior, diagnostics: dict) -> dg.Output[pd.DataFrame]:
    """One row per legislator: posterior mean, sd, 94% HDI of xi and rank
    (1 = most conservative)."""
    require_passed_gates(diagnostics, posterior, _where(context))
    constant = posterior.constant_data
    legislators = pd.DataFrame(
        {
            "legislator_id": constant["legislator"].values.astype(str),
            "legislator_name": constant["legislator_name"].values.astype(str),
            "party": constant["party"].values.astype(str),
        }
    )
    table = rank_legislators(posterior, legislators)
    return dg.Output(
        table,
        metadata={
            "legislators": len(table),
            "posterior_id": posterior.attrs["posterior_id"],
            "most_conservative": dg.MetadataValue.md(table.head(5).to_markdown(index=False)),
            "most_liberal": dg.MetadataValue.md(table.tail(5).to_markdown(index=False)),
        },
    )


CHAIN = [roll_calls, vote_matrix, pca_init, posterior, diagnostics, rankings]
