"""`irt-pipeline import`, `fetch` and `split`: source files into the landing area."""

from __future__ import annotations

import json

import pandas as pd

from irt_pipeline.cli import _shared
from irt_pipeline.instance import register_sessions
from irt_pipeline.partitions import validate_session_key


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
    writes = write_landing(_shared.landing(), files, command, sources)
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
        args.congress, args.chamber, _shared.landing(), base=args.base_url, progress=not args.quiet
    )
    print(json.dumps([asdict(r) for r in results], indent=2))
    return 0


def cmd_split_voteview(args) -> int:
    from irt_pipeline.sources.batches import write_batches

    written = write_batches(args.votes, args.members, args.out, args.batches)
    print(json.dumps([str(p) for p in written], indent=2))
    return 0


