"""`irt-pipeline`: fetch and import vote files, run partitions, print rankings and the
common scale across sessions.

Everything runs through Dagster on the instance at $DAGSTER_HOME (the project's
`.dagster_home/` when unset), so what the CLI does shows in the UI.
"""

from __future__ import annotations

import sys

from irt_pipeline.cli import _shared  # noqa: F401 - tests replace _shared.definitions
from irt_pipeline.cli.parser import build_parser
from irt_pipeline.cli.runs import _root_cause, run_failures, run_partition  # noqa: F401
from irt_pipeline.errors import BadInput
from irt_pipeline.instance import register_sessions  # noqa: F401


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
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" not in argv:  # set before the parser loads the definitions (its --model choices)
        import warnings

        warnings.filterwarnings("ignore", module="dagster")  # Beta/Preview notes on our definitions
        warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)
    args = build_parser(__doc__).parse_args(argv)
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
