"""What the bench scripts share: their folders, the shared Voteview chambers (landing
one as the CLI does, running a job on its partition), markdown tables, the marked
blocks of bench/RESULTS.md and docs/models.md they rewrite, and the command line and
processor a table is stamped with.

Only the standard library and numpy at module level: bench/run.py imports this module
in the baseline's venv too, where `irt_pipeline` is the older commit's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"  # git-ignored: results, storage roots, the baseline tree
RESULTS = BENCH / "RESULTS.md"
MODELS_DOC = REPO / "docs" / "models.md"  # the validation tables of validate_chambers.py, validate_2d.py
# Voteview's CSV files (S117_votes.csv, S117_members.csv, ...); BENCH_VOTEVIEW overrides.
SHARED = Path(os.environ.get("BENCH_VOTEVIEW", REPO.parent / "shared" / "data" / "voteview"))
CHAMBERS = {"S": "Senate", "H": "House"}


def fmt(value, spec: str) -> str:
    """`value` formatted by `spec`; '-' for None, NaN or infinity."""
    missing = value is None or (isinstance(value, float) and not np.isfinite(value))
    return "-" if missing else format(value, spec)


def ratio(a, b) -> float:
    """a / b, NaN when either is missing or zero."""
    return a / b if a and b else float("nan")


def markdown_table(head: str, rows) -> list[str]:
    """A markdown table's lines: the header row `head`, its separator, then `rows`."""
    return [head, "|" + "---|" * (head.count("|") - 1), *rows]


def write_block(path: Path, begin: str, end: str, text: str, before: str | None = None) -> None:
    """Replace what stands between the markers `begin` and `end` in `path` with `text`.
    Missing markers are added just ahead of the marker `before` if given (an error
    otherwise). Written to a temporary file, then renamed over `path`."""
    current = path.read_text()
    if begin not in current:
        if before is None or before not in current:
            raise SystemExit(f"{path}: no marker {begin!r}")
        current = current.replace(before, f"{begin}\n{end}\n{before}")
    head, _, rest = current.partition(begin)
    _, _, tail = rest.partition(end)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(f"{head}{begin}\n{text}\n{end}{tail}")
    os.replace(partial, path)


def publish(text: str, begin: str, end: str, write_docs: bool) -> None:
    """Print a script's tables; with --write-docs also put them between the script's
    markers in docs/models.md."""
    print(text)
    if write_docs:
        write_block(MODELS_DOC, begin, end, text)


def write_measured(label: str, text: str) -> None:
    """Replace the block of bench/RESULTS.md measured under `label` (a new one goes at
    the end of the measured part), so blocks measured by separate commands each keep
    their own command line."""
    write_block(RESULTS, f"<!-- measured {label}: begin -->", f"<!-- measured {label}: end -->", text,
                before="<!-- measured: end -->")


def command_line(script: str, argv) -> str:
    """'python bench/<script> <arguments>' as this invocation was given."""
    return f"python bench/{script} " + " ".join(argv if argv is not None else sys.argv[1:])


def processor() -> str:
    """The CPU's model name, cores and widest vector extension (from /proc/cpuinfo)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"{os.cpu_count()} cores"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model}, {os.cpu_count()} cores, {vector}{' + FMA' if 'fma' in flags else ''}"


# ---------------------------------------------------------------- shared Voteview chambers


def voteview_files(stem: str) -> tuple[Path, Path]:
    """The votes and members files of a chamber named like 'S117' (Senate, 117th)."""
    return SHARED / f"{stem}_votes.csv", SHARED / f"{stem}_members.csv"


def shared_chambers() -> list[str]:
    """'S117', 'H117', ... for every votes file in SHARED, oldest Congress first."""
    stems = [p.name.split("_")[0] for p in SHARED.glob("*_votes.csv")]
    return sorted(stems, key=lambda s: (int(s[1:]), s[0]))


def land_chamber(stem: str, root: Path) -> tuple[str, str, Path]:
    """A shared chamber's canonical rows, validated by the data contract, written to the
    landing area of storage root `root` as the CLI's import does (rewritten only when
    their content changed); its session key, chamber and landing file."""
    from irt_pipeline.contract import conform, validate_roll_calls
    from irt_pipeline.sources.voteview import read_voteview

    votes, members = voteview_files(stem)
    session, chamber = str(int(stem[1:])), CHAMBERS[stem[0]]
    rows = conform(read_voteview(str(votes), str(members), session=session))
    validate_roll_calls(rows, str(votes)).raise_if_failed()
    target = root / "landing" / f"{session}_{chamber}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = rows.to_parquet(index=False)
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return session, chamber, target


def run_partition(defs, job: str, instance, session: str, chamber: str):
    """Register `session` on `instance` and run `job` of `defs` in this process on the
    (session, chamber) partition; its result, wall seconds and step failures' messages."""
    from irt_pipeline.cli import register_sessions
    from irt_pipeline.partitions import partition_key

    register_sessions(instance, [session])
    start = time.perf_counter()
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition_key(session, chamber), raise_on_error=False
    )
    seconds = time.perf_counter() - start
    failures = [
        e.event_specific_data.error.message.strip()
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]
    return result, seconds, failures
