"""The CLI's own runs, and marking failed those whose process died.

`irt-pipeline run` executes its run inside its own process (not through the run
queue), so if that process is killed (`kill -9`, a closed terminal, an out-of-memory
kill) nothing is left to record the end of the run and Dagster shows it STARTED for
ever. Each CLI process therefore holds an exclusive lock on a file of its own under
`$DAGSTER_HOME/cli-runs/` for as long as it lives, and tags its runs with that file, its
host and its pid. When a CLI command starts, it looks at the unfinished runs carrying
such tags: a run whose lock can be taken (the operating system releases a lock when
its process ends, however it ends) belongs to a dead process and is reported failed,
with a message naming the process. Runs of another host are left alone (their process
cannot be seen from here).

Runs launched from the UI, the sensors or a backfill go through the run queue and the
code server, which marks a run failed when its run worker dies; Dagster's run
monitoring (dagster.yaml) covers runs that never start.
"""

from __future__ import annotations

import atexit
import os
import socket
import uuid
from pathlib import Path

FOLDER = "cli-runs"
LOCK_TAG = "irt/cli_lock"
HOST_TAG = "irt/cli_host"
PID_TAG = "irt/cli_pid"

_held: dict[str, object] = {}  # home -> this process's lock there, held until exit


def owner_tags(home: Path) -> dict[str, str]:
    """Tags for a run executed by this process; takes this process's lock in `home` on
    first use."""
    from filelock import FileLock

    key = str(Path(home).resolve())
    if key not in _held:
        folder = Path(home) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"))
        lock.acquire()
        if not _held:
            atexit.register(_release)
        _held[key] = lock
    return {LOCK_TAG: Path(_held[key].lock_file).name, HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _release() -> None:
    for lock in _held.values():
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)


def _mine(name: str) -> bool:
    return any(Path(lock.lock_file).name == name for lock in _held.values())


def _take_if_free(path: Path) -> bool:
    """Whether no live process holds the lock at `path`; if so the file is removed."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    path.unlink(missing_ok=True)
    return True


def _owner_is_dead(home: Path, tags) -> bool:
    if tags.get(HOST_TAG) != socket.gethostname():
        return False
    if tags.get(PID_TAG) == str(os.getpid()) or _mine(tags.get(LOCK_TAG, "")):
        return False  # this very process
    path = Path(home) / FOLDER / tags.get(LOCK_TAG, "")
    if not path.is_file():
        try:  # no lock file: fall back on the pid
            os.kill(int(tags.get(PID_TAG, "0")), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            return False
        return False
    return _take_if_free(path)


def mark_dead_runs_failed(instance) -> list[str]:
    """Report failed every unfinished CLI run of this host whose process has died;
    returns their run ids."""
    import dagster as dg

    home = Path(instance.root_directory)
    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=unfinished, tags={HOST_TAG: socket.gethostname()})
    )
    marked = []
    for run in runs:
        if LOCK_TAG not in run.tags or not _owner_is_dead(home, run.tags):
            continue
        run = instance.get_run_by_id(run.run_id)
        if run is None or run.is_finished:  # another command got there first
            continue
        instance.report_run_failed(
            run,
            message=f"The irt-pipeline process that ran this run (pid {run.tags.get(PID_TAG)} on "
            f"{run.tags.get(HOST_TAG)}) ended before the run did (killed?); marked failed by "
            "the next irt-pipeline command. Run it again to rebuild what it did not finish.",
        )
        marked.append(run.run_id)
    folder = home / FOLDER
    if folder.is_dir():  # the lock files of processes that ended without a run left open
        for path in folder.glob(f"{socket.gethostname()}-*.lock"):
            if not _mine(path.name):
                _take_if_free(path)
    return marked
