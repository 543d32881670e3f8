"""report and chamber_report: the pages an analyst hands on, rendered by
`irt_pipeline.report` from stored outputs (nothing is refit).

- report, per (session, chamber), after rankings: the ranking, forest plot, party
  posteriors, gates and lineage of the default model; beside them, the plane and the
  dimensionality verdict where the 2D chain ran, and the external correlations where
  external_validation ran, each only when it was computed from the same fit (Dagster
  has no optional inputs: they are read from the storage root and checked here).
  Refused (fail closed) when the posterior's gates are not shown passed, as rankings is.
- chamber_report, per chamber, after common_scale and careers: the chamber history.

Written atomically to `{root}/report/{chamber}/{session}.html` and
`{root}/chamber_report/{chamber}.html`; the metadata holds the path, a link, the size
and the seconds it took. Materialized on request (`irt-pipeline report`, the jobs
report_job and chamber_report_job, or Materialize in the UI): automation runs neither.
`report_asset` makes the report of the default model (assets/catalog.py).
"""


import time
from dataclasses import dataclass

import dagster as dg
import numpy as np
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import LANDING_FILES
from irt_pipeline.assets.common_scale import GROUP as ACROSS_SESSIONS_GROUP
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import chamber_partitions, session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Storage
from irt_pipeline.stats.models.spec import ModelSpec

REPORT_FOLDER = "report"
HISTORY_FOLDER = "chamber_report"
# rankings' xi_mean against the posterior's mean of xi: equal up to float rounding
# when the rankings were computed from this posterior.
SAME_FIT_ATOL = 1e-9
# The tag under which Dagster records a materialization's data version.
DATA_VERSION_TAG = "dagster/data_version"


def report_path(base, session: str, chamber: str):
    """`{root}/report/{chamber}/{session}.html` (UPath)."""
    return base / REPORT_FOLDER / chamber / f"{session}.html"


def history_path(base, chamber: str):
    """`{root}/chamber_report/{chamber}.html` (UPath)."""
    return base / HISTORY_FOLDER / f"{chamber}.html"


def stored_path(base, asset: str, session: str, chamber: str, ext: str):
    """Where the IO managers keep `asset` of a partition."""
    return base / asset / chamber / f"{session}.{ext}"


def run_command(session: str, chamber: str, model: str | None = None) -> str:
    return f"irt-pipeline run --session {session} --chamber {chamber}" + (f" --model {model}" if model else "")


def _latest(instance, asset: str, partition: str):
    """The latest AssetMaterialization of `asset` in `partition`, or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return records[0].asset_materialization if records else None


def _metadata(materialization, name: str):
    entry = materialization.metadata.get(name) if materialization is not None else None
    return None if entry is None else entry.value


def _read(path, asset: str, session: str, chamber: str):
    """A stored parquet or JSON output; None when absent; BadInput when unreadable."""
    import json

    from irt_pipeline.io_managers import read_parquet, unreadable

    if not path.exists():
        return None
    try:
        return read_parquet(path) if path.suffix == ".parquet" else json.loads(path.read_text())
    except Exception as exc:  # noqa: BLE001 - every reader raises its own types
        raise unreadable(path, asset, session, chamber, exc) from None


def same_fit(rankings: pd.DataFrame, posterior) -> bool:
    """True when `rankings` ranks exactly this posterior's legislators at its posterior
    means of xi."""
    xi = posterior.posterior["xi"]
    means = pd.Series(xi.mean(("chain", "draw")).values, index=[str(v) for v in xi["legislator"].values])
    ids = rankings["legislator_id"].astype(str)
    if set(ids) != set(means.index) or len(ids) != len(means):
        return False
    return bool(np.allclose(rankings["xi_mean"].to_numpy(float), means.loc[ids].to_numpy(), rtol=0, atol=SAME_FIT_ATOL))


def gather_two_dimensional(instance, storage: Storage, session: str, chamber: str, partition: str,
                           posterior_id: str, landing_files, names) -> tuple[pd.DataFrame | None, dict | None, list[str]]:
    """(rankings_2d, dimensionality, notes) of the same data as the default fit: the 2D
    rankings when their latest materialization names the same landing files, the verdict
    when it judged this posterior and that 2D one; None where not stored or not of
    these fits (said in the notes)."""
    rankings_2d = _read(
        stored_path(storage.base, names.rankings_2d, session, chamber, "parquet"), names.rankings_2d, session, chamber
    )
    if rankings_2d is None:
        return None, None, []
    record = _latest(instance, names.rankings_2d, partition)
    files_2d = _metadata(record, LANDING_FILES)
    if landing_files is None or files_2d is None or files_2d != landing_files:
        return None, None, [
            "A two-dimensional ranking is stored but not shown: it is not recorded as computed from the same landing "
            f"files as this ranking (`{run_command(session, chamber, '2d')}` computes both from the same files)."
        ]
    verdict = _read(stored_path(storage.base, names.verdict, session, chamber, "json"), names.verdict, session, chamber)
    ids = (verdict or {}).get("posterior_ids") or {}
    if verdict is not None and (ids.get("1d") != posterior_id or ids.get("2d") != _metadata(record, "posterior_id")):
        verdict = None
    return rankings_2d, verdict, []


def gather_external(instance, storage: Storage, session: str, chamber: str, partition: str,
                    rankings: pd.DataFrame, names) -> tuple[dict | None, list[str]]:
    """(the external_validation record, notes): shown only when the rankings its latest
    materialization read (the event its provenance points to) had the content of these
    rankings (their data version is the digest of their content)."""
    record = _read(stored_path(storage.base, "external_validation", session, chamber, "json"), "external_validation", session, chamber)
    if record is None:
        return None, []
    materialization = _latest(instance, "external_validation", partition)
    provenance = dg.DataProvenance.from_tags(materialization.tags or {}) if materialization is not None else None
    pointer = provenance.input_storage_ids.get(dg.AssetKey(names.rankings)) if provenance is not None else None
    read = None
    if pointer is not None:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(names.rankings), storage_ids=[pointer]), limit=1
        ).records
        read = (records[0].asset_materialization.tags or {}).get(DATA_VERSION_TAG) if records else None
    if read != versions.data_version(frame_digest(rankings)).value:
        return None, [
            "External correlations are stored but not shown: they were not computed from this ranking "
            f"(`{run_command(session, chamber, 'both')}` computes them again)."
        ]
    return record, []


def _file_url(path) -> str:
    """A link to the written file: file:// locally, the fsspec URL elsewhere."""
    protocol = getattr(path, "protocol", "") or ""
    if protocol in ("", "file", "local"):
        from pathlib import Path

        return Path(path.path).resolve().as_uri()
    return str(path)


def _written(path, html: str, seconds: float, extra: dict, digest_parts) -> dg.MaterializeResult:
    from irt_pipeline.files import write_atomic

    data = html.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "link": dg.MetadataValue.url(_file_url(path)),
            "bytes": len(data),
            "seconds": round(time.perf_counter() - seconds, 2),
            **extra,
        },
        data_version=versions.data_version(*digest_parts),
    )


def report_asset(spec: ModelSpec, plane: ModelSpec | None, verdict: str | None) -> dg.AssetsDefinition:
    """The report of the model `spec` (the default), with `plane`'s rankings (the 2D
    model) and its verdict asset `verdict` where they were computed from the same data."""
    names = Names(spec.asset("rankings"), plane.asset("rankings") if plane else None, verdict)

    @dg.asset(
        name="report",
        partitions_def=session_chamber_partitions,
        group_name=GROUP,
        code_version=versions.REPORT,
        ins={"posterior": dg.AssetIn(spec.asset("posterior")), "diagnostics": dg.AssetIn(spec.asset("diagnostics"))},
        deps=[names.rankings],
        description="One self-contained HTML page of the partition (ranking, forest plot, parties, gates, lineage; "
        "the plane, verdict and external correlations where computed from the same fit), only from a posterior "
        "that passed its gates and the rankings of it.",
    )
    def report(context: dg.AssetExecutionContext, posterior, diagnostics: dict, storage: Storage):
        return write_session_report(context, posterior, diagnostics, storage, spec, names)

    return report


@dataclass(frozen=True)
class Names:
    """The stored outputs a report reads: the model's rankings, the plane's and the verdict's."""

    rankings: str
    rankings_2d: str | None
    verdict: str | None


def write_session_report(context, posterior, diagnostics: dict, storage: Storage, spec: ModelSpec, names: Names):
    """The body of `report`."""
    from irt_pipeline.report import fit_summary, party_posteriors, session_report

    start = time.perf_counter()
    where = _where(context)
    session, chamber = session_and_chamber(context)
    try:
        require_passed_gates(diagnostics, posterior, spec, where, action="report")
    except dg.Failure as refused:
        raise dg.Failure(
            description=f"{refused.description}. No report was written: fit the partition again until its gates "
            f"pass (e.g. more draws: `IRT_PIPELINE_MAX_DRAWS=8000 {run_command(session, chamber)}`), then report it"
        ) from None
    posterior_id = posterior.attrs["posterior_id"]
    try:
        rankings = _read(stored_path(storage.base, names.rankings, session, chamber, "parquet"), names.rankings, session, chamber)
        if rankings is None or not same_fit(rankings, posterior):
            what = "no rankings are stored" if rankings is None else "the stored rankings are not of the stored posterior"
            raise BadInput(where, f"{what}: run `{run_command(session, chamber)}` first; no report was written")
        partition = str(context.partition_key)
        ranked = _latest(context.instance, names.rankings, partition)
        landing_files = _metadata(ranked, LANDING_FILES) if _metadata(ranked, "posterior_id") == posterior_id else None
        rankings_2d, verdict, notes = gather_two_dimensional(
            context.instance, storage, session, chamber, partition, posterior_id, landing_files, names
        ) if names.rankings_2d else (None, None, [])
        external, more = gather_external(context.instance, storage, session, chamber, partition, rankings, names)
    except BadInput as exc:
        raise dg.Failure(description=str(exc)) from None
    html = session_report(
        session, chamber, rankings, diagnostics, fit_summary(posterior), landing_files,
        party=party_posteriors(posterior), rankings_2d=rankings_2d, dimensionality=verdict, external=external,
        notes=notes + more,
    )
    shown = ["ranking", "forest plot", "gates", "lineage"]
    shown += ["parties"] if "mu_party" in posterior.posterior else []
    shown += ["plane"] if rankings_2d is not None else []
    shown += ["external correlations"] if external is not None else []
    return _written(
        report_path(storage.base, session, chamber), html, start,
        {
            "legislators": len(rankings),
            "sections": ", ".join(shown),
            "dimensionality_verdict": "none" if rankings_2d is None else (
                "undetermined" if verdict is None or not isinstance(verdict.get("second_dimension_matters"), bool)
                else ("2D" if verdict["second_dimension_matters"] else "1D")
            ),
            "posterior_id": posterior_id,
            **({LANDING_FILES: dg.MetadataValue.json(landing_files)} if landing_files else {}),
        },
        (posterior_id, frame_digest(rankings), None if rankings_2d is None else frame_digest(rankings_2d), verdict, external),
    )


@dg.asset(
    partitions_def=chamber_partitions,
    group_name=ACROSS_SESSIONS_GROUP,
    code_version=versions.CHAMBER_REPORT,
    ins={"common_scale": dg.AssetIn(), "careers": dg.AssetIn()},
)
def chamber_report(
    context: dg.AssetExecutionContext, common_scale: pd.DataFrame, careers: pd.DataFrame, storage: Storage
) -> dg.MaterializeResult:
    """One self-contained HTML page of the chamber across sessions: the polarization
    chart, every career with its intervals, and a search showing one legislator's
    trajectory, from the stored common scale."""
    from irt_pipeline.report import chamber_history_report

    start = time.perf_counter()
    chamber = context.partition_key
    scale = _latest(context.instance, "common_scale", chamber)
    info = {name: _metadata(scale, name) for name in ("reference_session", "left_out", "method", "poles")}

    html = chamber_history_report(chamber, common_scale, careers, info)
    return _written(
        history_path(storage.base, chamber), html, start,
        {"sessions": int(common_scale["session"].nunique()), "legislators": int(careers["legislator_id"].nunique())},
        (frame_digest(common_scale), frame_digest(careers), info),
    )
