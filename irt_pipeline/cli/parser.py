"""The `irt-pipeline` argument parser; `--model` choices come from the registered
models (`assets/catalog.py`)."""

from __future__ import annotations

import argparse

from irt_pipeline.cli import outputs, report, runs, sources
from irt_pipeline.partitions import CHAMBERS


def _add_verbose(parser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="Dagster's whole DEBUG log and its warnings (default: progress only)"
    )


def build_parser(description: str = "") -> argparse.ArgumentParser:
    from irt_pipeline.cli._shared import catalog

    choices = catalog().job_names()
    models = [key for key in choices if key in catalog().models]
    parser = argparse.ArgumentParser(prog="irt-pipeline", description=description)
    sub = parser.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="turn source files into canonical landing parquet")
    imp_sub = imp.add_subparsers(dest="source", required=True)
    vv = imp_sub.add_parser("voteview", help="Voteview {S|H}NNN_votes.csv + _members.csv")
    vv.add_argument("--votes", required=True)
    vv.add_argument("--members", required=True)
    vv.add_argument("--session", help="session key (default: the Congress number)")
    vv.set_defaults(func=sources.cmd_import_voteview)
    ks = imp_sub.add_parser(
        "kansas", help="Kansas session folder ({name}_votes/_rollcalls/_legislators.csv)"
    )
    ks.add_argument("--folder", required=True, help="e.g. data/91st_2025-2026 or data/2020s")
    ks.add_argument("--session", help="session key (default: the biennium of the folder name)")
    ks.set_defaults(func=sources.cmd_import_kansas)

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
    fv.set_defaults(func=sources.cmd_fetch_voteview)

    split = sub.add_parser("split", help="split source files into arrival batches (demos, tests)")
    split_sub = split.add_subparsers(dest="source", required=True)
    sv = split_sub.add_parser("voteview", help="votes file -> {S|H}NNN_votes_batch{i}.csv by roll call")
    sv.add_argument("--votes", required=True)
    sv.add_argument("--members", required=True)
    sv.add_argument("--batches", type=int, default=3)
    sv.add_argument("--out", required=True, help="folder for the batch files")
    sv.set_defaults(func=sources.cmd_split_voteview)

    demo = sub.add_parser("demo", help="write the built-in demo data and materialize it")
    demo.add_argument("--json", action="store_true", help="print each partition's JSON summary instead")
    _add_verbose(demo)
    demo.set_defaults(func=runs.cmd_demo)

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
        choices=list(choices),
        default=models[0],
        help="; ".join(
            f"{key}: {catalog().models[key].title}"
            + (" beside the default one, and the verdict between them" if catalog().models[key].beside_default else "")
            for key in models
        )
        + "; both: the default model and the models checked against it, then posterior predictive checks, "
        "the PSIS-LOO comparison and external validation",
    )
    run.set_defaults(func=runs.cmd_run)

    rank = sub.add_parser("rankings", help="print stored rankings")
    rank.add_argument("--session", required=True)
    rank.add_argument("--chamber", required=True, choices=CHAMBERS)
    rank.add_argument("--format", choices=["csv", "json"], default="csv")
    rank.add_argument("--model", choices=models, default=models[0])
    rank.set_defaults(func=outputs.cmd_rankings)

    scale = sub.add_parser(
        "scale", help="put every stored session of a chamber on one scale and print it (linking: nothing is refit)"
    )
    scale.add_argument("--chamber", required=True, choices=CHAMBERS)
    scale.add_argument(
        "--method",
        choices=list(runs.scale_methods()),
        default=runs.LINKING,
        help="linking (default): the stored per-session posteriors linked through the members who serve in "
        "adjacent sessions; dynamic: one posterior over every stored session's vote matrix (a fit of the "
        "whole chamber, cached)",
    )
    scale.add_argument("--format", choices=["csv", "json"], default="csv")
    scale.add_argument(
        "--table",
        choices=list(runs.SCALE_TABLES),
        default="sessions",
        help="sessions: one row per legislator per session (default); careers: one row per legislator",
    )
    scale.set_defaults(func=runs.cmd_scale)

    page = sub.add_parser(
        "report",
        help="write a self-contained HTML report from stored outputs (nothing is refit): of one "
        "partition with --session, else the chamber's history across sessions",
    )
    page.add_argument("--session", help="the partition's session; without it, the chamber history")
    page.add_argument("--chamber", required=True, choices=CHAMBERS)
    page.add_argument("--out", required=True, help="the HTML file to write")
    _add_verbose(page)
    page.set_defaults(func=report.cmd_report)
    return parser


