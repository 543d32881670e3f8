"""What reading the landing area costs: per landing file, how often a sensor look and a
roll_calls run open it, how many bytes they read and how often they compute its sha256,
and their seconds, on one shared Voteview chamber copied into a temporary landing folder.

    python bench/landing_reads.py --chamber H117                      # this tree
    python bench/landing_reads.py --chamber H117 --against b1b1e6b    # beside a commit

`--against COMMIT` measures that commit too, exported by `git archive` into a temporary
folder and imported through PYTHONPATH with this tree's venv, alternating with this
tree round by round so both sides share the machine's load.

Stages, each after a warm-up in the same process (imports, a first roll_calls run whose
contract validation the measured runs reuse):
- look: `watch.scan` with an empty cursor (every file new), what the sensor computes;
- sensor tick: the landing sensor evaluated by Dagster (`evaluate_tick`) on a fresh cursor;
- read_partition: the landing read of roll_calls alone;
- roll_calls run: `dg.materialize([roll_calls])` of the partition (contract reused).

Opens are counted through Python's "open" audit event (whichever library opens the
file); sha256 computations by wrapping hashlib.new / hashlib.sha256 and matching the
result to a landing file's digest; bytes read from /proc/self/io (rchar: all the
process read in that span, so a little more than the landing files: the instance's
database in a tick or a run). Seconds: medians of wall and CPU (this process) time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "irt_pipeline_tests"))

from read_audit import watching

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = REPO.parent / "shared" / "data" / "voteview"
STAGES = ("look", "sensor tick", "read_partition", "roll_calls run")


def _rchar() -> int | None:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child(chamber: str, repeats: int) -> dict:
    """Measure in this process, with whichever irt_pipeline is on the import path."""
    names = [f"{chamber}_members.csv", f"{chamber}_votes.csv"]
    known = {hashlib.sha256((SHARED / n).read_bytes()).hexdigest(): n for n in names}
    import dagster as dg
    from upath import UPath

    import irt_pipeline
    from irt_pipeline.assets import roll_calls
    from irt_pipeline.definitions import make_definitions
    from irt_pipeline.landing import read_partition
    from irt_pipeline.partitions import partition_key
    from irt_pipeline.watch import Cursor, scan

    session, house = str(int(chamber[1:])), {"S": "Senate", "H": "House"}[chamber[0]]
    key = partition_key(session, house)
    out = {"tree": str(Path(irt_pipeline.__file__).parent.parent), "landing_bytes": 0, "stages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        landing = root / "landing"
        landing.mkdir(parents=True)
        for n in names:
            shutil.copy(SHARED / n, landing / n)
        out["landing_bytes"] = sum((landing / n).stat().st_size for n in names)
        os.makedirs(Path(tmp) / "home")
        defs = make_definitions(str(root))
        sensor = defs.resolve_sensor_def("landing_sensor")
        with dg.instance_for_test(temp_dir=str(Path(tmp) / "home")) as instance:
            instance.add_dynamic_partitions("session", [session])

            def look():
                assert [str(r.partition_key) for r in scan(UPath(str(landing)), Cursor(), set()).runs] == [str(key)]

            def tick():
                with dg.build_sensor_context(
                    instance_ref=instance.get_ref(), definitions=defs, resources=defs.resources, cursor=None
                ) as context:
                    sensor.evaluate_tick(context)

            def run():
                result = dg.materialize([roll_calls], instance=instance, partition_key=key, resources=defs.resources)
                assert result.success
                files = result.asset_materializations_for_node("roll_calls")[0].metadata["landing_files"].value
                assert {f["file"]: f["sha256"] for f in files} == {n: s for s, n in known.items()}

            stages = {
                "look": look,
                "sensor tick": tick,
                "read_partition": lambda: read_partition(UPath(str(landing)), session, house),
                "roll_calls run": run,
            }
            run()  # warm-up: imports, the contract's validation recorded for the measured runs
            look()
            for _ in range(repeats):
                for stage, fn in stages.items():
                    with watching(landing) as counts:
                        r0, c0, w0 = _rchar(), time.process_time(), time.perf_counter()
                        fn()
                        wall, cpu, r1 = time.perf_counter() - w0, time.process_time() - c0, _rchar()
                    out["stages"].setdefault(stage, []).append(
                        {"wall": wall, "cpu": cpu, "read": None if r0 is None else r1 - r0,
                         "opens": dict(counts["opens"]), "hashes": {known[d]: n for d, n in counts["hashes"].items()}}
                    )  # fmt: skip
    return out


def export(commit: str, into: Path) -> Path:
    """`commit`'s tree under `into` (git archive; no worktree)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(tree: Path, chamber: str, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--chamber", chamber, "--repeats", str(repeats)],
        env=env, cwd=tempfile.gettempdir(), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_file(samples: list[dict], key: str, files: list[str]) -> str:
    seen = {tuple(s[key].get(f, 0) for f in files) for s in samples}
    return " / ".join("-".join(str(v) for v in sorted({t[i] for t in seen})) for i in range(len(files)))


def table(results: dict[str, list[dict]], chamber: str) -> str:
    files = [f"{chamber}_members.csv", f"{chamber}_votes.csv"]
    landing = next(iter(results.values()))[0]["landing_bytes"]
    lines = [
        f"{chamber}: {' + '.join(files)}, {landing:,} bytes",
        "",
        f"| stage | tree | opens per file ({' / '.join(files)}) | sha256 per file | all bytes read / landing bytes | wall s (median) | CPU s (median) | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stage in STAGES:
        for label, runs in results.items():
            samples = [s for r in runs for s in r["stages"][stage]]
            reads = [s["read"] / landing for s in samples if s["read"] is not None]
            lines.append(
                f"| {stage} | {label} | {per_file(samples, 'opens', files)} | {per_file(samples, 'hashes', files)} | "
                f"{statistics.median(reads):.2f} | {statistics.median(s['wall'] for s in samples):.2f} | "
                f"{statistics.median(s['cpu'] for s in samples):.2f} | {len(samples)} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chamber", default="H117", help="stem of a shared Voteview pair (H117, S117, ...)")
    parser.add_argument("--against", help="a commit to measure beside this tree")
    parser.add_argument("--rounds", type=int, default=2, help="processes per tree, alternating")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (SHARED / f"{args.chamber}_votes.csv").exists():
        raise SystemExit(f"--chamber: no {SHARED}/{args.chamber}_votes.csv")
    if args.child:
        print(json.dumps(child(args.chamber, args.repeats)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": REPO}
        if args.against:
            trees[args.against] = export(args.against, Path(tmp) / "against")
        results: dict[str, list[dict]] = {label: [] for label in trees}
        loads = []
        for _ in range(args.rounds):
            for label, tree in trees.items():
                loads.append(os.getloadavg()[0])
                results[label].append(measure(tree, args.chamber, args.repeats))
    print(table(results, args.chamber))
    print(f"\nLoad average (1 min) at each process's start: {', '.join(f'{x:.1f}' for x in loads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
