"""Backfill throughput: the shared Senates as one partition backfill through the run
queue and the `mcmc` pool, shipped (this checkout) against "now" (an older commit,
d214495 by default, checked out with its own venv by bench/baseline.py into
bench/out/baseline-<commit>/ and kept there), one after the other in one invocation on
one machine.

    python bench/backfill.py                                   # 110th-118th Senates, both
    python bench/backfill.py --sessions 117,118 --configs shipped,now
    python bench/backfill.py --configs shipped,now --now-commit 5d99ca6   # another baseline
    python bench/backfill.py --write-results                   # also bench/RESULTS.md

What exactly is compared. Each configuration goes through what a user of that tree does,
with that tree's own code, venv, instance template and sampler defaults:

1. a fresh temporary DAGSTER_HOME, prepared by the tree's own
   `irt_pipeline.instance.prepare_dagster_home` (its dagster.yaml: the QueuedRunCoordinator
   with `concurrency.runs.max_concurrent_runs`, pool `mcmc` with its default limit,
   granularity "run"; the pool's limit set before the daemon starts), and a fresh
   temporary storage root and kernel caches (NUMBA_CACHE_DIR, IRT_PIPELINE_KERNEL_CACHE):
   the first partition compiles the kernels, the later ones load them;
2. `dagster dev -w workspace.yaml` of the tree (webserver, daemon, code server), started
   as the UI tests start it (irt_pipeline_tests/ui_server.py); its sensors (landing,
   automation) stopped through GraphQL before any file lands, so the backfill alone runs
   the partitions, as in the UI tests;
3. `irt-pipeline import voteview --votes ../shared/data/voteview/S1xx_votes.csv --members
   ..._members.csv` of the tree, once per Senate: landing parquet, session registered
   (dynamic partition);
4. one partition backfill of the default job's assets (`irt_chain`: roll_calls ->
   vote_matrix -> pca_init -> posterior -> diagnostics -> rankings, with their checks)
   over every (session, Senate) partition, launched through the webserver's GraphQL
   `launchPartitionBackfill` as the UI's "Materialize" -> "Launch backfill" does. The
   daemon queues one run per partition; the queue admits `max_concurrent_runs` runs and
   the pool `mcmc` as many posterior steps as its limit.

Wall seconds run from the backfill's creation (its timestamp in the instance) to the last
`rankings` materialization of its runs, both read from the instance's event log. CPU
seconds: every process of the `dagster dev` tree (webserver, daemon, code server, run
workers and whatever they start), from /proc at the launch and at the end of the backfill
(processes that ended were reaped by their parents, whose child times hold them; this
process is a child subreaper, so orphans are counted too), and the tree's whole life from
this process's child rusage after it is stopped. Gates: every asset check of every asset
of the chain in that tree (the checks each tree defines: shipped's every gate of its
specification, now's four on the ideal points plus its data checks) must have been
evaluated and passed in the partition's backfill run. Machine-wide load from others'
work is not controlled: on a shared machine compare the two rows of one invocation.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
CONFIGS = ("shipped", "now")
SESSIONS = tuple(str(c) for c in range(110, 119))
RESULTS_BLOCK = "backfill"  # <!-- measured backfill: begin/end --> in bench/RESULTS.md
SAMPLER_VARIABLES = ("IRT_PIPELINE_CHAINS", "IRT_PIPELINE_TUNE", "IRT_PIPELINE_DRAWS", "IRT_PIPELINE_SEED",
                     "IRT_PIPELINE_BACKEND", "IRT_PIPELINE_EXECUTOR", "NUMBA_CACHE_DIR", "IRT_PIPELINE_KERNEL_CACHE")

sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "irt_pipeline_tests"))
import baseline  # noqa: E402
from _common import OUT, REPO, command_line, fmt, markdown_table, processor, ratio, voteview_files  # noqa: E402
from _common import write_measured  # noqa: E402
from services import most_at_once  # noqa: E402
from test_ui_backfill import checks_by_asset  # noqa: E402
from ui_server import (  # noqa: E402
    CHAIN,
    launch_backfill,
    start_dagster_dev,
    stop_dagster_dev,
    stop_sensors,
    wait_for_backfill,  # noqa: E402
)


@dataclass(frozen=True)
class Tree:
    """A tree of the project (this checkout, or the baseline's), its commit and venv."""

    name: str
    repo: Path
    commit: str

    @property
    def bin(self) -> Path:
        return self.repo / ".venv" / "bin"


# ---------------------------------------------------------------- CPU of a process tree

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def become_subreaper() -> bool:
    """Orphans of the processes this one starts are re-parented here instead of to init,
    so their CPU time is not lost (Linux prctl PR_SET_CHILD_SUBREAPER)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def tree_cpu_seconds(root: int = 0) -> float:
    """CPU seconds (user + system, own and of reaped children) of every descendant of
    `root` (default: this process), zombies included, from /proc."""
    root = root or os.getpid()
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # fields from 3 (state) on
        stats[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))  # ppid, utime..cstime
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total / CLOCK_TICKS


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reap_children(seconds: float = 30.0) -> None:
    """Wait for every child of this process (the stopped tree's processes, re-parented
    here), so their CPU time joins RUSAGE_CHILDREN; gives up after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.2)


# ---------------------------------------------------------------- one configuration


def clean_environment(extra: dict) -> dict:
    """This process's environment without sampler, executor or cache settings (each tree
    runs with its own defaults), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SAMPLER_VARIABLES and k != "VIRTUAL_ENV"}
    return {**env, **extra}


def prepare_home(tree: Tree, home: Path, env: dict) -> dict:
    """The tree's own dagster.yaml in `home`, pools initialized; the limits it wrote."""
    code = ("import json, sys; from dataclasses import asdict; from pathlib import Path; "
            "from irt_pipeline.instance import instance_limits, prepare_dagster_home; "
            "limits = instance_limits(); prepare_dagster_home(Path(sys.argv[1]), limits); "
            "print(json.dumps(asdict(limits)))")
    proc = subprocess.run([str(tree.bin / "python"), "-c", code, str(home)], cwd=tree.repo, env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def import_senate(tree: Tree, session: str, env: dict) -> float:
    """`irt-pipeline import voteview` of one shared Senate with the tree's CLI; its CPU s."""
    stem = f"S{int(session):03d}"
    votes, members = voteview_files(stem)
    before = children_cpu_seconds()
    proc = subprocess.run([str(tree.bin / "irt-pipeline"), "import", "voteview", "--votes", str(votes),
                           "--members", str(members)], cwd=tree.repo, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{tree.name}: import of {stem} failed:\n{proc.stderr[-3000:]}")
    added = json.loads(proc.stdout)["sessions_added"]
    if added != [session]:
        raise RuntimeError(f"{tree.name}: import of {stem} registered {added}, not [{session!r}]")
    return children_cpu_seconds() - before


def partition_name(session: str, chamber: str) -> str:
    from irt_pipeline.partitions import partition_key

    return str(partition_key(session, chamber))


def run_config(tree: Tree, sessions: list[str], chamber: str, base: Path, timeout_s: float) -> dict:
    """One configuration end to end (module docstring); a JSON-ready record."""
    home, root, caches = base / "dagster_home", base / "root", base / "kernel_cache"
    for folder in (root / "landing", caches):
        folder.mkdir(parents=True)
    env = clean_environment({"DAGSTER_HOME": str(home), "IRT_PIPELINE_ROOT": str(root), "MPLBACKEND": "Agg",
                             "NUMBA_CACHE_DIR": str(caches), "IRT_PIPELINE_KERNEL_CACHE": str(caches)})
    limits = prepare_home(tree, home, env)
    partitions = [partition_name(s, chamber) for s in sessions]
    print(f"# {tree.name} ({tree.repo}, {tree.commit}): {len(partitions)} partitions, limits {limits}", flush=True)
    started = time.time()
    cpu_before_tree = children_cpu_seconds()
    ui = start_dagster_dev(home, root, base / "dagster_dev.log", env=env, repo=tree.repo, venv_bin=tree.bin,
                           sampler_env={})
    import_cpu = 0.0
    try:
        loaded = time.time()
        stop_sensors(ui)
        for session in sessions:
            import_cpu += import_senate(tree, session, env)
        expected_checks = checks_by_asset(ui)
        cpu_at_launch = tree_cpu_seconds()
        launched_here = time.time()
        backfill_id = launch_backfill(ui, partitions, assets=CHAIN, title=f"bench backfill ({tree.name})")
        print(f"# {tree.name}: backfill {backfill_id} launched", flush=True)
        status = wait_for_backfill(ui, backfill_id, seconds=timeout_s)
        cpu_backfill = tree_cpu_seconds() - cpu_at_launch
        finished_here = time.time()
        measured = read_instance(home, backfill_id, partitions, expected_checks)
    finally:
        stop_dagster_dev(ui)
        reap_children()
    cpu_tree = children_cpu_seconds() - cpu_before_tree - import_cpu
    return {
        "config": tree.name, "repo": str(tree.repo), "commit": tree.commit, "chamber": chamber,
        "sessions": sessions, "backfill_id": backfill_id, "backfill_status": status, "limits": limits,
        "cpu_startup_s": cpu_at_launch, "cpu_backfill_s": cpu_backfill, "cpu_tree_total_s": cpu_tree, "cpu_imports_s": import_cpu,
        "startup_s": loaded - started, "wall_observed_s": finished_here - launched_here,
        "whole_config_s": time.time() - started, **measured,
    }


# ---------------------------------------------------------------- the instance's record


def _unix(moment) -> float:
    """Seconds since the epoch of a datetime the run storage returns (naive: UTC)."""
    from datetime import UTC

    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def read_instance(home: Path, backfill_id: str, partitions: list[str], expected_checks: dict) -> dict:
    """From the instance at `home`: the backfill's launch, its runs, their posterior
    steps, check evaluations and rankings materializations; the limits in effect."""
    import dagster as dg
    from dagster._core.events import DagsterEventType as T

    wanted = {T.STEP_START, T.STEP_SUCCESS, T.STEP_FAILURE, T.ASSET_CHECK_EVALUATION, T.ASSET_MATERIALIZATION}
    expected = sorted((asset, name) for asset, names in expected_checks.items() for name in names)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        launched = instance.get_backfill(backfill_id).backfill_timestamp
        config = instance.get_concurrency_config()
        pool = instance.event_log_storage.get_concurrency_info("mcmc")
        records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        runs = []
        for record in records:
            run = record.dagster_run
            row = {"partition": run.tags.get("dagster/partition"), "run_id": run.run_id, "status": run.status.value,
                   "created": _unix(record.create_timestamp), "start": record.start_time, "end": record.end_time}
            checks, steps = {}, {}
            for entry in instance.all_logs(run.run_id, of_type=wanted):
                event = entry.dagster_event
                if event.event_type in (T.STEP_START, T.STEP_SUCCESS, T.STEP_FAILURE):
                    steps.setdefault(event.step_key, {})[event.event_type.value] = entry.timestamp
                elif event.event_type == T.ASSET_CHECK_EVALUATION:
                    evaluation = event.event_specific_data
                    checks[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = bool(evaluation.passed)
                else:
                    materialization = event.event_specific_data.materialization
                    asset = materialization.asset_key.to_user_string()
                    if asset == "rankings":
                        row["rankings_at"] = entry.timestamp
                    elif asset == "posterior":
                        meta = materialization.metadata
                        for key in ("compile_seconds", "sampling_seconds", "draws_used", "cache"):
                            if key in meta:
                                row[key] = meta[key].value
                        sampler = meta["sampler"].value if "sampler" in meta else {}
                        row["tune"] = sampler.get("tune")
                        row.setdefault("draws_used", sampler.get("draws"))  # now: a fixed length
            posterior = steps.get("posterior", {})
            if "STEP_START" in posterior and "STEP_SUCCESS" in posterior:
                row["posterior_step"] = (posterior["STEP_START"], posterior["STEP_SUCCESS"])
                row["posterior_step_s"] = posterior["STEP_SUCCESS"] - posterior["STEP_START"]
            row["checks_passed"] = sum(checks.get(c, False) for c in expected)
            row["checks_total"] = len(expected)
            row["checks_failed"] = [f"{a}.{n}" for a, n in expected if not checks.get((a, n), False)]
            runs.append(row)
        coordinator = type(instance.run_coordinator).__name__
    runs.sort(key=lambda r: partitions.index(r["partition"]) if r["partition"] in partitions else len(partitions))
    ranked = [r["rankings_at"] for r in runs if "rankings_at" in r]
    return {
        "launched_at": launched,
        "wall_s": (max(ranked) - launched) if len(ranked) == len(partitions) else None,
        "rankings_done": len(ranked),
        "run_coordinator": coordinator,
        "max_concurrent_runs": config.run_queue_config.max_concurrent_runs if config.run_queue_config else None,
        "pool_granularity": str(config.pool_config.pool_granularity.value) if config.pool_config.pool_granularity else None,
        "mcmc_pool_limit": pool.slot_count,
        "observed_max_runs": most_at_once([(r["start"], r["end"]) for r in runs if r["start"] and r["end"]]),
        "observed_max_posteriors": most_at_once([r["posterior_step"] for r in runs if "posterior_step" in r]),
        "runs_succeeded": sum(r["status"] == "SUCCESS" for r in runs),
        "all_gates_passed": len(runs) == len(partitions) and all(not r["checks_failed"] for r in runs),
        "runs": runs,
    }


# ---------------------------------------------------------------- report


def table(results: list[dict]) -> str:
    """Markdown: one row per configuration, then one per partition."""
    now = next((r for r in results if r["config"] == "now" and "error" not in r), {})
    head = ("| config | commit | partitions | wall s (launch -> last rankings) | x now (wall) | CPU s (backfill) "
            "| x now (CPU) | CPU s (tree, with start-up) | pool mcmc limit | max concurrent runs | most runs / posteriors at once "
            "| runs succeeded | every gate passed | posterior step s per partition |")
    rows = []
    for r in results:
        if "error" in r:
            rows.append(f"| {r['config']} | failed: {r['error'].splitlines()[-1][:100]} |")
            continue
        wall_x = ratio(now.get("wall_s"), r.get("wall_s"))
        cpu_x = ratio(now.get("cpu_backfill_s"), r["cpu_backfill_s"])
        posteriors = ", ".join(fmt(run.get("posterior_step_s"), ".0f") for run in r["runs"])
        gates = "yes" if r["all_gates_passed"] else "NO: " + "; ".join(
            f"{run['partition']} {', '.join(run['checks_failed'])}" for run in r["runs"] if run["checks_failed"])
        rows.append(
            f"| {r['config']} | {r['commit']} | {len(r['sessions'])} | {fmt(r['wall_s'], '.0f')} | {fmt(wall_x, '.2f')} "
            f"| {r['cpu_backfill_s']:.0f} | {fmt(cpu_x, '.2f')} | {r['cpu_tree_total_s']:.0f} | {r['mcmc_pool_limit']} "
            f"| {r['max_concurrent_runs']} | {r['observed_max_runs']} / {r['observed_max_posteriors']} "
            f"| {r['runs_succeeded']}/{len(r['sessions'])} | {gates} | {posteriors} |"
        )
    per_run = []
    for r in results:
        for run in r.get("runs", []):
            queued = run["start"] - run["created"] if run["start"] else None
            took = run["end"] - run["start"] if run["start"] and run["end"] else None
            at = run["rankings_at"] - r["launched_at"] if "rankings_at" in run else None
            per_run.append(
                f"| {r['config']} | {' '.join(str(run['partition']).split('|'))} | {run['status']} | {fmt(queued, '.0f')} | {fmt(took, '.0f')} "
                f"| {fmt(run.get('posterior_step_s'), '.1f')} | {fmt(run.get('compile_seconds'), '.1f')} "
                f"| {fmt(run.get('sampling_seconds'), '.1f')} | {run.get('tune', '-')}+{run.get('draws_used', '-')} "
                f"| {run.get('cache', '-')} "
                f"| {run['checks_passed']}/{run['checks_total']} | {fmt(at, '.0f')} |"
            )
    per_run_head = ("| config | partition | run status | queued s | run s | posterior step s | compile s | sampling s "
                    "| tune+draws per chain | posterior cache | checks passed | rankings at s after launch |")
    return "\n".join([*markdown_table(head, rows), "", *markdown_table(per_run_head, per_run)])


def notes(results: list[dict]) -> str:
    out = []
    for r in results:
        if "error" in r:
            continue
        out.append(
            f"- {r['config']}: {r['run_coordinator']}, max_concurrent_runs {r['max_concurrent_runs']}, pool mcmc "
            f"limit {r['mcmc_pool_limit']} (granularity {r['pool_granularity']}; written for {r['limits']['cores']} "
            f"cores and {r['limits']['chains']} chains); dagster dev loaded in {r['startup_s']:.0f} s; its "
            f"tree used {r['cpu_startup_s']:.0f} CPU-s before the launch; "
            f"imports {r['cpu_imports_s']:.0f} CPU-s (not in the backfill's figures); the whole configuration "
            f"{r['whole_config_s']:.0f} s wall"
        )
    return "\n".join(out)


def make_tree(name: str, now_commit: str) -> Tree:
    """shipped: this checkout with the running venv's tools; now: the baseline commit's
    tree and venv (bench/baseline.py: prepared if missing, before any measurement)."""
    if name == "shipped":
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return Tree("shipped", REPO, head.stdout.strip())
    if name == "now":
        return Tree("now", baseline.tree(now_commit), baseline.resolve(now_commit)[:7])
    raise SystemExit(f"--configs: unknown {name!r}; expected some of {CONFIGS}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="shipped (this checkout), now (--now-commit)")
    parser.add_argument("--sessions", default=",".join(SESSIONS), help="Congresses of the shared Voteview files")
    parser.add_argument("--chamber", default="Senate", choices=["Senate"], help="the shared files are Senates")
    parser.add_argument("--now-commit", default=baseline.NOW_COMMIT,
                        help="the commit `now` runs (default %(default)s; bench/baseline.py checks it out)")
    parser.add_argument("--timeout-hours", type=float, default=8.0, help="give up on a backfill after this long")
    parser.add_argument("--keep", action="store_true", help="keep each configuration's DAGSTER_HOME and root")
    parser.add_argument("--out", type=Path, default=OUT / "backfill.json")
    parser.add_argument("--write-results", action="store_true", help="replace the backfill block of bench/RESULTS.md")
    args = parser.parse_args(argv)

    sessions = [s.strip() for s in args.sessions.split(",") if s.strip()]
    for session in sessions:
        votes, _ = voteview_files(f"S{int(session):03d}")
        if not votes.exists():
            raise SystemExit(f"--sessions: no {votes}")
    trees = {}
    for name in args.configs.split(","):
        try:
            trees[name] = make_tree(name, args.now_commit)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            trees[name] = f"baseline {args.now_commit}: {exc}"
    reaper = become_subreaper()
    load = os.getloadavg()[0]
    results = []
    for name, checkout in trees.items():
        if isinstance(checkout, str):
            results.append({"config": name, "error": checkout})
            continue
        base = Path(tempfile.mkdtemp(prefix=f"bench-backfill-{name}-"))
        try:
            results.append(run_config(checkout, sessions, args.chamber, base, args.timeout_hours * 3600))
        except Exception as exc:  # noqa: BLE001 - one configuration's failure is a row of the table
            results.append({"config": name, "error": f"{type(exc).__name__}: {exc}"})
        if args.keep:
            print(f"# {name}: kept {base}", flush=True)
        else:
            subprocess.run(["rm", "-rf", str(base)], check=False)
    title = (f"### Backfill: {len(sessions)} {args.chamber}s ({', '.join(sessions)}), one partition backfill of "
             f"irt_chain through the run queue and the mcmc pool")
    text = "\n".join([
        f"Command: `{command_line('backfill.py', argv).strip()}`", "", f"Machine: {processor()}; load average before: "
        f"{load:.1f}" + ("" if reaper else "; not a child subreaper: CPU of orphans not counted"), "",
        title, "", table(results), "", notes(results), "",
    ])
    print(text, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str))
    if args.write_results:
        write_measured(RESULTS_BLOCK, text)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
