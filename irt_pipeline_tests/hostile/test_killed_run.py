"""Issue case 11: `kill -9` of `irt-pipeline run` while it samples. The storage root keeps
only whole files, the run is left STARTED until the next irt-pipeline command marks it
failed (naming the dead process), and a rerun succeeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
from ui_server import SAMPLER_ENV

from irt_pipeline.cli_runs import LOCK_TAG, PID_TAG
from irt_pipeline.demo import DEMO_DATA
from irt_pipeline.instance import home_lock

SESSION, CHAMBER = "demo-2023", "Senate"
CLI = str(Path(sys.executable).parent / "irt-pipeline")
# Long enough to be killed while sampling; the rerun uses settings that pass the gates.
SLOW = {"IRT_PIPELINE_CHAINS": "4", "IRT_PIPELINE_TUNE": "1000", "IRT_PIPELINE_DRAWS": "100000"}
GOOD = SAMPLER_ENV


def cli(env, *argv, **popen):
    return subprocess.Popen(
        [CLI, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, **popen,
    )


def instance_at(home):
    """The instance at `home`, opened under the lock its creator holds while creating it."""
    with home_lock(home):
        return dg.DagsterInstance.from_config(str(home))


def runs(home):
    with instance_at(home) as instance:
        return [(r.run_id, r.status, dict(r.tags)) for r in instance.get_runs()]


def posterior_started(home, run_id) -> bool:
    with instance_at(home) as instance:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
        return any(r.event_log_entry.step_key == "posterior" for r in records)


def test_killed_run_is_marked_failed_by_the_next_command_and_a_rerun_works(tmp_path):
    home, root = tmp_path / "home", tmp_path / "root"
    (root / "landing").mkdir(parents=True)
    with DEMO_DATA.joinpath(f"{SESSION}_{CHAMBER}.parquet").open("rb") as handle:
        (root / "landing" / f"{SESSION}_{CHAMBER}.parquet").write_bytes(handle.read())
    env = {**os.environ, "DAGSTER_HOME": str(home), "IRT_PIPELINE_ROOT": str(root), "PYTHONWARNINGS": "ignore"}

    victim = cli({**env, **SLOW}, "run", "--session", SESSION, "--chamber", CHAMBER)
    run_id = None
    while victim.poll() is None:  # until the posterior step samples
        found = runs(home) if (home / "dagster.yaml").exists() else []
        if found and posterior_started(home, found[0][0]):
            run_id = found[0][0]
            break
        time.sleep(1)
    assert run_id is not None, f"the run ended before sampling: {victim.communicate()}"
    time.sleep(3)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()

    [(_, status, tags)] = runs(home)
    assert status == dg.DagsterRunStatus.STARTED  # nothing recorded the end
    assert tags[PID_TAG] == str(victim.pid) and LOCK_TAG in tags
    # Only whole files under the root: no temporary leftovers, every output readable.
    files = [p for p in root.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".")]
    for name in ("roll_calls", "vote_matrix", "pca_init"):
        assert len(pd.read_parquet(root / name / CHAMBER / f"{SESSION}.parquet")) > 0
    assert not (root / "posterior").exists()

    # Any next command marks the dead run failed, and says so.
    listing = cli(env, "rankings", "--session", SESSION, "--chamber", CHAMBER)
    _, err = listing.communicate()
    assert listing.returncode == 2  # no rankings yet
    assert f"note: run {run_id} was left unfinished by an irt-pipeline process that died; marked failed" in err
    [(_, status, _)] = runs(home)
    assert status == dg.DagsterRunStatus.FAILURE
    with instance_at(home) as instance:
        [failure] = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        message = failure.event_log_entry.dagster_event.message
    assert f"(pid {victim.pid} on " in message and "ended before the run did" in message
    assert not list((home / "cli-runs").glob("*")), "the dead process's lock file is cleaned up"

    rerun = cli({**env, **GOOD}, "run", "--session", SESSION, "--chamber", CHAMBER)
    out, err = rerun.communicate()
    summary = json.loads(out)
    assert rerun.returncode == 0 and summary["success"], summary["failures"]
    assert summary["steps"]["posterior"] == "computed"
    statuses = sorted(status.value for _, status, _ in runs(home))
    assert statuses == ["FAILURE", "SUCCESS"]
