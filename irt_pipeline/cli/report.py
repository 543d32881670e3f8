"""`irt-pipeline report`: the page of one partition (`--session S --chamber C`) or of a
chamber's history (`--chamber C`), written to `--out FILE.html` from stored outputs.

The report asset (or chamber_report) is materialized in-process on the instance, so
the page is also kept under the storage root and shows in the UI; nothing is refit.
A missing input is named with the command that makes it before anything runs (exit
2); a refusal of the asset (failed gates, rankings not of the posterior) is printed as
the asset says it (exit 1), and no file is written.
"""

from __future__ import annotations

import json
import sys
import time

from irt_pipeline.errors import BadInput


def _missing(storage, session: str | None, chamber: str) -> BadInput | None:
    """The first stored input the page needs that is absent, as the error to show."""
    from irt_pipeline.assets.report import run_command, stored_path

    base = storage.base
    if session is None:
        needed = [(asset, base / asset / f"{chamber}.parquet") for asset in ("common_scale", "careers")]
        command = f"irt-pipeline scale --chamber {chamber}"
        where = f"chamber={chamber}"
    else:
        needed = [
            ("posterior", stored_path(base, "posterior", session, chamber, "nc")),
            ("diagnostics", stored_path(base, "diagnostics", session, chamber, "json")),
        ]
        command = run_command(session, chamber)
        where = f"session={session} chamber={chamber}"
    for asset, path in needed:
        if not path.exists():
            return BadInput(where, f"no {asset} stored at {path}: run `{command}` first; no report was written")
    return None


def write_report(instance, defs, out: str, chamber: str, session: str | None = None, verbose: bool = False) -> dict:
    """Materialize the page (report of the partition, or chamber_report when `session`
    is None) and copy it to `out`; a JSON-ready summary (success False and the
    failures when the asset refused). Dagster's log goes to stderr only with
    `verbose` (a refusal is in the summary either way)."""
    from pathlib import Path

    from irt_pipeline.cli.runs import run_failures
    from irt_pipeline.cli_runs import owner_tags
    from irt_pipeline.files import as_upath, write_atomic
    from irt_pipeline.instance import register_sessions
    from irt_pipeline.partitions import partition_key, validate_chamber, validate_session_key

    validate_chamber(chamber, where="--chamber")
    if session is not None:
        validate_session_key(session, where="--session")
    problem = _missing(defs.resources["storage"], session, chamber)
    if problem is not None:
        raise problem
    start = time.perf_counter()
    if session is None:
        job, key, asset = "chamber_report_job", chamber, "chamber_report"
    else:
        register_sessions(instance, [session])
        job, key, asset = "report_job", partition_key(session, chamber), "report"
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=key, raise_on_error=False, tags=owner_tags(Path(instance.root_directory)),
        run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}},
    )
    summary = {"session": session, "chamber": chamber, "success": result.success, "run_id": result.run_id}
    if not result.success:
        return {**summary, "failures": run_failures(result)}
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset:
            metadata = {k: v.value for k, v in materialization.metadata.items()}
    stored = as_upath(metadata["path"])
    target = as_upath(out)
    if getattr(target, "protocol", "") in ("", "file", "local"):
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, stored.read_bytes())
    return {
        **summary,
        "report": str(out),
        "stored": metadata["path"],
        "bytes": metadata.get("bytes"),
        "render_seconds": metadata.get("seconds"),
        "seconds": round(time.perf_counter() - start, 2),
        **({"sections": metadata["sections"]} if "sections" in metadata else {}),
    }


def cmd_report(args) -> int:
    from irt_pipeline.cli import _shared
    from irt_pipeline.instance import get_instance

    summary = write_report(get_instance(), _shared.definitions(), args.out, args.chamber, args.session, args.verbose)
    if not summary["success"]:
        for failure in summary["failures"]:
            print(f"error: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    print(f"wrote {summary['report']} ({summary['bytes']:,} bytes, {summary['seconds']} s)", file=sys.stderr)
    return 0
