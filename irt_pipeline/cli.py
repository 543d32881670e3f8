"""`irt-pipeline`: fetch and import vote files, run partitions, print rankings and the
common scale across sessions, write reports.

Everything runs through Dagster on the instance at $DAGSTER_HOME (the project's
`.dagster_home/` when unset), so what the CLI does shows in the UI.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from irt_pipeline.errors import BadInput
from irt_pipeline.instance import register_sessions
from irt_pipeline.partitions import CHAMBERS, partition_key, validate_session_key


def _definitions():
    """The project's definitions, configured from the environment as it is now."""
    from irt_pipeline.definitions import make_definitions

    return make_definitions()


def _storage():
    return _definitions().resources["storage"]


def _root_cause(error) -> str:
    """The innermost error message of a Dagster SerializableErrorInfo chain, without
    the exception's class name when it is a Failure or a BadInput (their messages say
    what is wrong)."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    head, _, rest = message.partition(": ")
    if error.cls_name in ("Failure", "BadInput") and head.endswith(error.cls_name) and rest:
        return rest
    return message


def step_outcomes(result) -> dict[str, str]:
    """Per asset of the run, in chain order: "computed", "reused" (its output came from
    the posterior cache: metadata cache=hit), "failed" or "not run"."""
    layer = result.job_def.asset_layer
    selected = layer.selected_asset_keys
    failed = {event.step_key for event in result.all_events if event.is_step_failure}
    materialized = {
        event.event_specific_data.materialization.asset_key: event.event_specific_data.materialization
        for event in result.get_asset_materialization_events()
    }
    outcomes = {}
    for key in layer.asset_graph.toposorted_asset_keys:
        if key not in selected:
            continue
        if key in materialized:
            cache = materialized[key].metadata.get("cache")
            outcomes[key.to_user_string()] = "reused" if cache and cache.value == "hit" else "computed"
        elif str(layer.get_op_output_handle(key).node_handle) in failed:
            outcomes[key.to_user_string()] = "failed"
        else:
            outcomes[key.to_user_string()] = "not run"
    return outcomes


# --model: the job `run` executes and the asset `rankings` prints.
MODEL_JOBS = {"hierarchical": "irt_chain", "flat": "flat_chain", "both": "both_models", "2d": "two_dimensional_chain"}
MODEL_RANKINGS = {"hierarchical": "rankings", "flat": "flat_rankings", "2d": "rankings_2d"}


def console_logging(verbose: bool) -> dict:
    """Run config for the console: Dagster's whole DEBUG stream with --verbose, else INFO
    (the steps' own lines: cache status, sampling progress, failures)."""
    return {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO"}}}}


def run_partition(
    instance, session: str, chamber: str, force_refit: bool = False, model: str = "hierarchical",
    verbose: bool = False,
) -> dict:
    """Materialize the whole chain of one partition in-process; a JSON-ready summary.
    `force_refit` samples the posterior even when the cache holds the same fit. `model`:
    "hierarchical", "flat" or "both" (both chains, then the model checks)."""
    from pathlib import Path

    from irt_pipeline.cache import FORCE_REFIT_TAG
    from irt_pipeline.cli_runs import owner_tags
    from irt_pipeline.landing import no_sources, sources_for

    key = partition_key(session, chamber)
    defs = _definitions()
    landing = defs.resources["storage"].landing
    if not sources_for(landing, session, chamber):
        raise BadInput(
            f"session={session} chamber={chamber}",
            f"{no_sources(landing)}: drop them there or `irt-pipeline import ...` first; nothing "
            "was run, and the session was not registered",
        )
    register_sessions(instance, [session])
    tags = owner_tags(Path(instance.root_directory))
    if force_refit:
        tags[FORCE_REFIT_TAG] = "true"
    result = defs.resolve_job_def(MODEL_JOBS[model]).execute_in_process(
        instance=instance, partition_key=key, raise_on_error=False, tags=tags,
        run_config=console_logging(verbose),
    )
    checks = []
    for evaluation in result.get_asset_check_evaluations():
        value = evaluation.metadata.get("value")
        checks.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "name": evaluation.check_name,
                "passed": evaluation.passed,
                "value": None if value is None else value.value,
            }
        )
    outputs = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        path = materialization.metadata.get("path")
        outputs[materialization.asset_key.to_user_string()] = path.value if path else None
    return {
        "session": session,
        "chamber": chamber,
        "success": result.success,
        "run_id": result.run_id,
        "steps": step_outcomes(result),
        "checks": checks,
        "outputs": outputs,
        "failures": run_failures(result),
    }


def run_failures(result) -> list[str]:
    """"step: root cause" of every failed step of an in-process run."""
    return [
        f"{event.step_key}: {_root_cause(event.event_specific_data.error)}"
        for event in result.all_events
        if event.is_step_failure and event.event_specific_data and event.event_specific_data.error
    ]


def import_rows(frame: pd.DataFrame, where: str, name, command: str, sources: list[str]) -> int:
    """Validate canonical rows, write one landing parquet per (session, chamber) named
    `name(session, chamber)` (never over a file the importers did not write:
    irt_pipeline.imports), register the sessions and print what was done."""
    from irt_pipeline.contract import validate_roll_calls
    from irt_pipeline.imports import summary, write_landing
    from irt_pipeline.instance import get_instance

    validate_roll_calls(frame, where).raise_if_failed()
    files = {
        name(validate_session_key(session), chamber): rows.to_parquet(index=False)
        for (session, chamber), rows in frame.groupby(["session", "chamber"])
    }
    writes = write_landing(_landing(), files, command, sources)
    sessions = register_sessions(get_instance(), frame["session"].unique())
    print(json.dumps({"written": summary(writes), "sessions_added": sessions}, indent=2))
    return 0


def cmd_import_voteview(args) -> int:
    from irt_pipeline.contract import conform
    from irt_pipeline.sources.voteview import read_voteview

    if args.session:
        validate_session_key(args.session, where="--session")
    frame = conform(read_voteview(args.votes, args.members, session=args.session))
    return import_rows(
        frame, args.votes, lambda s, c: f"{s}_{c}.parquet", "import voteview", [args.votes, args.members]
    )


def _landing():
    """The landing folder of the storage root (IRT_PIPELINE_ROOT, read now)."""
    return _storage().landing


def cmd_import_kansas(args) -> int:
    """Kansas session folder -> `{session}_{chamber}_{folder}.parquet` in landing (one
    file per chamber, named after the folder so a special session does not replace
    its biennium's regular one)."""
    from irt_pipeline.contract import conform
    from irt_pipeline.sources.kansas import read_folder

    if args.session:
        validate_session_key(args.session, where="--session")
    frame = conform(read_folder(args.folder, session=args.session))
    folder = args.folder.rstrip("/").rsplit("/", 1)[-1]
    return import_rows(
        frame, args.folder, lambda s, c: f"{s}_{c}_{folder}.parquet", "import kansas", [args.folder]
    )


def cmd_fetch_voteview(args) -> int:
    from dataclasses import asdict

    from irt_pipeline.sources.download import fetch_voteview

    results = fetch_voteview(
        args.congress, args.chamber, _landing(), base=args.base_url, progress=not args.quiet
    )
    print(json.dumps([asdict(r) for r in results], indent=2))
    return 0


def cmd_split_voteview(args) -> int:
    from irt_pipeline.sources.batches import write_batches

    written = write_batches(args.votes, args.members, args.out, args.batches)
    print(json.dumps([str(p) for p in written], indent=2))
    return 0


def readable(summary: dict) -> str:
    """A few lines for a person: the partition and its outcome, each step, each check
    (value where it has one), failures, and the recovery of the truth on the demo."""
    outcome = "ok" if summary["success"] else "FAILED"
    lines = [f"{summary['chamber']} {summary['session']}: {outcome} (run {summary['run_id'][:8]})"]
    lines.append("  steps: " + ", ".join(f"{step} {how}" for step, how in summary["steps"].items()))
    checks = [
        f"{c['name']} {'pass' if c['passed'] else 'FAIL'}" + (f" ({c['value']:.4g})" if isinstance(c["value"], (int, float)) else "")
        for c in summary["checks"]
    ]
    if checks:
        lines.append("  checks: " + ", ".join(checks))
    if "recovery" in summary:
        r = summary["recovery"]
        lines.append(f"  recovered the truth: r {r['pearson_r']:.3f}, 94% HDI coverage {r['hdi94_coverage']:.2f} "
                     f"over {r['legislators']} legislators")
    lines += [f"  failure: {f}" for f in summary["failures"]]
    return "\n".join(lines)


def cmd_demo(args) -> int:
    from irt_pipeline.demo import DEMO_CHAMBERS, copy_demo_landing, demo_truth
    from irt_pipeline.instance import get_instance
    from irt_pipeline.stats.validation import recovery

    instance = get_instance()
    landing = _landing()
    copy_demo_landing(landing)
    register_sessions(instance, [c.session for c in DEMO_CHAMBERS])
    truth = demo_truth()
    summaries = []
    for spec in DEMO_CHAMBERS:
        summary = run_partition(instance, spec.session, spec.chamber, verbose=args.verbose)
        if summary["success"]:
            rankings = read_rankings(spec.session, spec.chamber)
            summary["recovery"] = recovery(
                rankings, truth[(truth.session == spec.session) & (truth.chamber == spec.chamber)]
            )
        summaries.append(summary)
        print(json.dumps(summary, indent=2) if args.json else readable(summary), flush=True)
    return 0 if all(s["success"] for s in summaries) else 1


def cmd_run(args) -> int:
    from irt_pipeline.instance import get_instance

    summary = run_partition(
        get_instance(), args.session, args.chamber, force_refit=args.force_refit, model=args.model,
        verbose=args.verbose,
    )
    print(json.dumps(summary, indent=2))  # stdout: the JSON summary, for scripts
    print(readable(summary), file=sys.stderr)
    return 0 if summary["success"] else 1


def read_rankings(session: str, chamber: str, model: str = "hierarchical") -> pd.DataFrame:
    from irt_pipeline.io_managers import read_parquet, unreadable

    asset = MODEL_RANKINGS[model]
    path = _storage().base / asset / chamber / f"{validate_session_key(session)}.parquet"
    if not path.exists():
        raise BadInput(
            f"session={session} chamber={chamber}",
            f"no {asset} stored at {path} (run `irt-pipeline run --session {session} "
            f"--chamber {chamber} --model {model}` first)",
        )
    try:
        return read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise unreadable(path, asset, session, chamber, exc) from None


def print_table(table: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print(table.to_json(orient="records", indent=2))


def cmd_rankings(args) -> int:
    print_table(read_rankings(args.session, args.chamber, args.model), args.format)
    return 0


# --table of `scale`: which output of the common scale to print.
SCALE_TABLES = {"sessions": "common_scale", "careers": "careers"}


def run_common_scale(instance, chamber: str) -> dict:
    """Materialize the chamber's common scale in-process from the stored posteriors and
    diagnostics (nothing is refit); a JSON-ready summary."""
    result = _definitions().resolve_job_def("common_scale_job").execute_in_process(
        instance=instance, partition_key=chamber, raise_on_error=False
    )
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "common_scale":
            metadata = {k: v.value for k, v in materialization.metadata.items()}
    return {
        "chamber": chamber,
        "success": result.success,
        "run_id": result.run_id,
        "sessions": metadata.get("sessions"),
        "reference_session": metadata.get("reference_session"),
        "left_out": metadata.get("left_out"),
        "failures": run_failures(result),
    }


def cmd_scale(args) -> int:
    from irt_pipeline.instance import get_instance

    summary = run_common_scale(get_instance(), args.chamber)
    print(json.dumps(summary), file=sys.stderr)  # one line among the run's log lines
    if not summary["success"]:
        return 1
    path = _storage().base / SCALE_TABLES[args.table] / f"{args.chamber}.parquet"
    with path.open("rb") as handle:
        print_table(pd.read_parquet(handle), args.format)
    return 0


def cmd_report(args) -> int:
    from irt_pipeline.cli_report import cmd_report as write

    return write(args)


def _add_verbose(parser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="Dagster's whole DEBUG log and its warnings (default: progress only)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="irt-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="turn source files into canonical landing parquet")
    imp_sub = imp.add_subparsers(dest="source", required=True)
    vv = imp_sub.add_parser("voteview", help="Voteview {S|H}NNN_votes.csv + _members.csv")
    vv.add_argument("--votes", required=True)
    vv.add_argument("--members", required=True)
    vv.add_argument("--session", help="session key (default: the Congress number)")
    vv.set_defaults(func=cmd_import_voteview)
    ks = imp_sub.add_parser(
        "kansas", help="Kansas session folder ({name}_votes/_rollcalls/_legislators.csv)"
    )
    ks.add_argument("--folder", required=True, help="e.g. data/91st_2025-2026 or data/2020s")
    ks.add_argument("--session", help="session key (default: the biennium of the folder name)")
    ks.set_defaults(func=cmd_import_kansas)

    fetch = sub.add_parser("fetch", help="download source files into the landing area")
    fetch_sub = fetch.add_subparsers(dest="source", required=True)
    fv = fetch_sub.add_parser("voteview", help="one Congress's votes + members files")
    fv.add_argument("--congress", required=True, type=int)
    fv.add_argument("--chamber", required=True, choices=["senate", "house"])
    fv.add_argument(
        "--base-url",
        help="site root (default: $IRT_PIPELINE_VOTEVIEW_URL, else https://voteview.com); "
        "http(s):// or file://",
    )
    fv.add_argument("--quiet", action="store_true", help="no progress bars")
    fv.set_defaults(func=cmd_fetch_voteview)

    split = sub.add_parser("split", help="split source files into arrival batches (demos, tests)")
    split_sub = split.add_subparsers(dest="source", required=True)
    sv = split_sub.add_parser("voteview", help="votes file -> {S|H}NNN_votes_batch{i}.csv by roll call")
    sv.add_argument("--votes", required=True)
    sv.add_argument("--members", required=True)
    sv.add_argument("--batches", type=int, default=3)
    sv.add_argument("--out", required=True, help="folder for the batch files")
    sv.set_defaults(func=cmd_split_voteview)

    demo = sub.add_parser("demo", help="write the built-in demo data and materialize it")
    demo.add_argument("--json", action="store_true", help="print each partition's JSON summary instead")
    _add_verbose(demo)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="materialize one partition's whole chain (JSON summary on stdout)")
    _add_verbose(run)
    run.add_argument("--session", required=True)
    run.add_argument("--chamber", required=True, choices=CHAMBERS)
    run.add_argument(
        "--force-refit",
        action="store_true",
        help="sample the posterior even if the cache holds an identical fit (run tag irt/force_refit=true)",
    )
    run.add_argument(
        "--model",
        choices=list(MODEL_JOBS),
        default="hierarchical",
        help="hierarchical (default), flat, both (both chains, then posterior predictive "
        "checks, the PSIS-LOO comparison and external validation), or 2d (the two-dimensional "
        "model beside the default one, and the dimensionality verdict)",
    )
    run.set_defaults(func=cmd_run)

    rank = sub.add_parser("rankings", help="print stored rankings")
    rank.add_argument("--session", required=True)
    rank.add_argument("--chamber", required=True, choices=CHAMBERS)
    rank.add_argument("--format", choices=["csv", "json"], default="csv")
    rank.add_argument("--model", choices=list(MODEL_RANKINGS), default="hierarchical")
    rank.set_defaults(func=cmd_rankings)

    scale = sub.add_parser(
        "scale", help="put every stored session of a chamber on one scale and print it (nothing is refit)"
    )
    scale.add_argument("--chamber", required=True, choices=CHAMBERS)
    scale.add_argument("--format", choices=["csv", "json"], default="csv")
    scale.add_argument(
        "--table",
        choices=list(SCALE_TABLES),
        default="sessions",
        help="sessions: one row per legislator per session (default); careers: one row per legislator",
    )
    scale.set_defaults(func=cmd_scale)

    report = sub.add_parser(
        "report",
        help="write a self-contained HTML report from stored outputs (nothing is refit): of one "
        "partition with --session, else the chamber's history across sessions",
    )
    report.add_argument("--session", help="the partition's session; without it, the chamber history")
    report.add_argument("--chamber", required=True, choices=CHAMBERS)
    report.add_argument("--out", required=True, help="the HTML file to write")
    _add_verbose(report)
    report.set_defaults(func=cmd_report)
    return parser


def mark_dead_runs() -> None:
    """Report failed the runs of earlier `irt-pipeline` processes that died mid-run."""
    from irt_pipeline.cli_runs import mark_dead_runs_failed
    from irt_pipeline.instance import get_instance

    for run_id in mark_dead_runs_failed(get_instance()):
        print(
            f"note: run {run_id} was left unfinished by an irt-pipeline process that died; "
            "marked failed",
            file=sys.stderr,
        )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "verbose", False):
        import warnings

        warnings.filterwarnings("ignore", module="dagster")  # Beta/Preview notes on our definitions
        warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)
    try:
        if args.command != "split":  # the only command that never opens the instance
            mark_dead_runs()
        return args.func(args)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, permissions, the network (every write is atomic)
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
