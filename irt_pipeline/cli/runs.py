"""`irt-pipeline run`, `demo` and `scale`: materialize partitions in-process on the
shared instance and summarize them (JSON for scripts, a few lines for people)."""

from __future__ import annotations

import json
import sys

from irt_pipeline.cli import _shared
from irt_pipeline.errors import BadInput
from irt_pipeline.instance import register_sessions
from irt_pipeline.partitions import partition_key


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


def console_logging(verbose: bool) -> dict:
    """Run config for the console: Dagster's whole DEBUG stream with --verbose, else INFO
    (the steps' own lines: cache status, sampling progress, failures)."""
    return {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO"}}}}


def run_partition(
    instance, session: str, chamber: str, force_refit: bool = False, model: str | None = None,
    verbose: bool = False,
) -> dict:
    """Materialize the whole chain of one partition in-process; a JSON-ready summary.
    `force_refit` samples the posterior even when the cache holds the same fit. `model`:
    a registered model's key (default: the default model's) or "both" (the default and
    the checked models' chains, then the model checks): `Catalog.job_names`."""
    from pathlib import Path

    from irt_pipeline.cache import FORCE_REFIT_TAG
    from irt_pipeline.cli_runs import owner_tags
    from irt_pipeline.landing import no_sources, sources_for

    key = partition_key(session, chamber)
    defs = _shared.definitions()
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
    job = _shared.catalog().job_names()[model or _shared.catalog().default.key]
    result = defs.resolve_job_def(job).execute_in_process(
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
    outputs, orientation = {}, None
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        path = materialization.metadata.get("path")
        outputs[materialization.asset_key.to_user_string()] = path.value if path else None
        rule = materialization.metadata.get("orientation")
        if rule is not None and materialization.asset_key.to_user_string() == "pca_init":
            orientation = rule.value
    return {
        "session": session,
        "chamber": chamber,
        "success": result.success,
        "run_id": result.run_id,
        "orientation": orientation,
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


def readable(summary: dict) -> str:
    """A few lines for a person: the partition and its outcome, each step, each check
    (value where it has one), failures, and the recovery of the truth on the demo."""
    outcome = "ok" if summary["success"] else "FAILED"
    lines = [f"{summary['chamber']} {summary['session']}: {outcome} (run {summary['run_id'][:8]})"]
    lines.append("  steps: " + ", ".join(f"{step} {how}" for step, how in summary["steps"].items()))
    if summary.get("orientation"):
        lines.append(f"  orientation: {summary['orientation']}")
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
    from irt_pipeline.cli.outputs import read_rankings
    from irt_pipeline.demo import DEMO_CHAMBERS, copy_demo_landing, demo_truth
    from irt_pipeline.instance import get_instance
    from irt_pipeline.stats.validation import recovery

    instance = get_instance()
    landing = _shared.landing()
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


# --table of `scale`: which output of the scale to print, and --method: whose.
SCALE_TABLES = {"sessions": 0, "careers": 1}
LINKING = "linking"


def scale_methods() -> dict[str, tuple[str, tuple[str, str]]]:
    """--method of `scale` -> (its job, its (sessions, careers) assets): the linking of
    the stored per-session posteriors, then every panel model (`PANEL_MODELS`)."""
    from irt_pipeline.stats.models import PANEL_MODELS

    return {
        LINKING: ("common_scale_job", ("common_scale", "careers")),
        **{key: (spec.job, (f"{key}_scale", f"{key}_careers")) for key, spec in PANEL_MODELS.items()},
    }


def run_common_scale(instance, chamber: str, method: str = LINKING) -> dict:
    """Materialize the chamber's scale in-process (the linking: from the stored
    posteriors and diagnostics, nothing is refit; a panel model: its posterior over the
    stored vote matrices, through its cache); a JSON-ready summary (a panel model's with
    its agreement with the linking, as its scale's metadata states it)."""
    job, (sessions_asset, _) = scale_methods()[method]
    result = _shared.definitions().resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=chamber, raise_on_error=False
    )
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == sessions_asset:
            metadata = {k: v.value for k, v in materialization.metadata.items()}
    return {
        "chamber": chamber,
        "method": method,
        "success": result.success,
        "run_id": result.run_id,
        "sessions": metadata.get("sessions"),
        "reference_session": metadata.get("reference_session"),
        "left_out": metadata.get("left_out"),
        **({"agreement_with_linking": metadata["agreement_with_linking"]} if "agreement_with_linking" in metadata else {}),
        "failures": run_failures(result),
    }


def cmd_scale(args) -> int:
    import pandas as pd

    from irt_pipeline.cli.outputs import print_table
    from irt_pipeline.instance import get_instance

    method = getattr(args, "method", LINKING)
    summary = run_common_scale(get_instance(), args.chamber, method)
    print(json.dumps(summary), file=sys.stderr)  # one line among the run's log lines
    if not summary["success"]:
        return 1
    asset = scale_methods()[method][1][SCALE_TABLES[args.table]]
    path = _shared.storage().base / asset / f"{args.chamber}.parquet"
    with path.open("rb") as handle:
        print_table(pd.read_parquet(handle), args.format)
    return 0
