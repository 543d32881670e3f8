"""Posterior steps spread over Celery workers (services.py: real PostgreSQL, RabbitMQ,
a local S3 server, dagster-webserver + dagster-daemon, two MCMC workers and a worker
for the light steps, each its own process).

A backfill of six partitions (the demo legislature and two small real Senates) runs
each posterior step on an MCMC worker, both workers sample, the pool limit holds
across them, every gate passes and the rankings are those of a single-machine run
with the same seed. A worker killed in the middle of a posterior step loses nothing:
the broker hands the step to the other worker and the run succeeds.
"""

from __future__ import annotations

import io
import json
import time

import dagster as dg
import pandas as pd
import pytest
from dagster._core.events import DagsterEventType
from services import (
    CHAIN_CHECKS,
    LIGHT_WORKER,
    MCMC_WORKERS,
    check_results,
    most_at_once,
    partitions_for_backfill,
    pool_state,
    step_events,
)
from ui_server import add_session, backfill_runs, launch_backfill, wait_for_backfill

from irt_pipeline.cache import FORCE_REFIT_TAG
from irt_pipeline.deploy import (
    BROKER_ENV,
    EXECUTOR_ENV,
    MCMC_OP_TAGS,
    MCMC_QUEUE,
    QUEUE_TAG,
    DeployConfigError,
    executor_from_env,
    mcmc_slots,
    worker_command,
)
from irt_pipeline.partitions import partition_key


def stored_rankings(cluster, session: str, chamber: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(cluster.read_s3(f"{cluster.root}/rankings/{chamber}/{session}.parquet")))


def worker_name(cluster, name: str) -> str:
    """The full Celery node name (name@host) a worker reported when ready."""
    for line in cluster.workers[name].text().splitlines():
        if f" {name}@" in line and line.rstrip().endswith("ready."):
            return line.rsplit(" ", 2)[-2]
    raise AssertionError(f"worker {name} never reported ready:\n{cluster.workers[name].tail()}")


def test_the_executor_is_in_process_unless_the_environment_asks_for_celery(monkeypatch):
    from irt_pipeline.definitions import make_definitions

    monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    assert executor_from_env() is dg.in_process_executor
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    monkeypatch.delenv(BROKER_ENV, raising=False)
    with pytest.raises(DeployConfigError, match=BROKER_ENV):
        make_definitions()
    monkeypatch.setenv(BROKER_ENV, "amqp://irt:secret@broker:5672//")
    executor = make_definitions().resolve_job_def("irt_chain").executor_def
    assert executor.name == "celery"
    # the broker is read from the environment when a run starts its executor
    monkeypatch.setenv(BROKER_ENV, "amqp://irt:other@broker:5672//")
    config = executor.config_schema.resolve_config({}).value["config"]
    assert config["broker"] == "amqp://irt:other@broker:5672//"
    assert config["config_source"]["task_acks_late"] and config["config_source"]["task_reject_on_worker_lost"]
    monkeypatch.setenv(EXECUTOR_ENV, "dask")
    with pytest.raises(DeployConfigError, match="in_process, celery"):
        executor_from_env()


def test_an_mcmc_worker_runs_cores_over_chains_tasks_at_once(monkeypatch):
    monkeypatch.setenv("IRT_PIPELINE_CHAINS", "4")
    assert mcmc_slots(cores=16) == 4 and mcmc_slots(cores=2) == 1
    command = worker_command(MCMC_QUEUE, "mcmc-a")
    assert command[command.index("-Q") + 1] == MCMC_QUEUE
    assert command[command.index("-c") + 1] == str(mcmc_slots())
    assert command[command.index("-n") + 1] == "mcmc-a@%h"
    assert "--prefetch-multiplier=1" in command
    light = worker_command("dagster", "light")
    assert light[light.index("-c") + 1] == "1"


def test_only_the_posterior_steps_are_routed_to_the_mcmc_queue():
    from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

    from irt_pipeline.definitions import defs

    assert QUEUE_TAG == DAGSTER_CELERY_QUEUE_TAG
    job = defs.resolve_job_def("both_models")
    queues = {node.name: node.tags.get(QUEUE_TAG) for node in job.graph.nodes}
    assert {name for name, queue in queues.items() if queue == MCMC_QUEUE} == {"posterior", "flat_posterior"}
    assert {queue for name, queue in queues.items() if name not in ("posterior", "flat_posterior")} == {None}
    assert MCMC_OP_TAGS == {QUEUE_TAG: MCMC_QUEUE}


@pytest.fixture(scope="module")
def backfill(cluster, single_machine):
    """A backfill of the whole chain over six partitions, launched through the UI's
    GraphQL API and waited for; the single-machine runs of the same partitions go on
    meanwhile."""
    ui = cluster.ui
    partitions = partitions_for_backfill()
    for session in dict.fromkeys(s for s, _ in partitions):
        add_session(ui, session)
    keys = [str(partition_key(s, c)) for s, c in partitions]
    started = time.monotonic()
    backfill_id = launch_backfill(ui, keys, title="six partitions on two workers")
    single_machine.start(partitions)
    try:
        status = wait_for_backfill(ui, backfill_id)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{cluster.tails()}") from None
    return {
        "id": backfill_id,
        "status": status,
        "seconds": time.monotonic() - started,
        "partitions": dict(zip(keys, partitions)),
        "runs": backfill_runs(ui, backfill_id),
    }


def test_a_backfill_over_two_workers_equals_a_single_machine_run(cluster, backfill, single_machine):
    runs = {run["tag_map"]["dagster/partition"]: run for run in backfill["runs"]}
    # zero partitions lost: one successful run per requested partition
    assert sorted(runs) == sorted(backfill["partitions"]), (sorted(runs), cluster.tails())
    assert {key: run["status"] for key, run in runs.items()} == dict.fromkeys(runs, "SUCCESS"), cluster.tails()
    assert backfill["status"] == "COMPLETED_SUCCESS"

    mcmc = {worker_name(cluster, name) for name in MCMC_WORKERS}
    light = worker_name(cluster, LIGHT_WORKER)
    posterior_on, posterior_intervals, report = {}, [], {}
    with cluster.instance() as instance:
        for key, run in runs.items():
            checks = check_results(instance, run["runId"])
            assert set(checks) == CHAIN_CHECKS and all(checks.values()), (key, checks)
            events = step_events(instance, run["runId"], "posterior")
            assert [e["kind"] for e in events] == ["worker", "start", "success"], (key, events)
            posterior_on[key] = events[0]["worker"]
            posterior_intervals.append((events[1]["t"], events[2]["t"], posterior_on[key]))
            for step in ("roll_calls", "vote_matrix", "pca_init", "diagnostics", "rankings"):
                assert [e["worker"] for e in step_events(instance, run["runId"], step) if e["worker"]] == [light], step
            report[key] = {
                "posterior on": posterior_on[key],
                "posterior seconds": round(events[2]["t"] - events[1]["t"], 1),
            }
        # the pool limit (1) held across the workers; no slot left held or waiting
        limit, held, waiting = pool_state(instance)
        assert (limit, held, waiting) == (1, 0, 0)

    # every posterior step ran on an MCMC worker, and both of them sampled
    assert set(posterior_on.values()) == mcmc, posterior_on
    assert most_at_once([(start, end) for start, end, _ in posterior_intervals]) == 1
    for worker in mcmc:  # and no worker ran more than its one slot
        assert most_at_once([(s, e) for s, e, w in posterior_intervals if w == worker]) == 1

    for session, chamber in backfill["partitions"].values():
        pd.testing.assert_frame_equal(
            stored_rankings(cluster, session, chamber), single_machine.rankings(session, chamber)
        )
    print(json.dumps({"backfill seconds": round(backfill["seconds"]), "partitions": report}, indent=1))


def test_a_worker_killed_mid_step_loses_nothing(cluster, backfill, single_machine):
    """The MCMC worker that took a posterior step is killed (SIGKILL, the whole worker:
    as if its machine died) once the step has started. The broker gives the
    unacknowledged step to the other worker, the run succeeds, and what it stores
    equals the single-machine run."""
    session, chamber = "118", "Senate"
    key = str(partition_key(session, chamber))
    backfill_id = launch_backfill(cluster.ui, [key], title="worker killed mid-step", tags={FORCE_REFIT_TAG: "true"})
    by_name = {worker_name(cluster, name): name for name in MCMC_WORKERS}

    with cluster.instance() as instance:

        def posterior_started():
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            if not runs:
                return None
            events = step_events(instance, runs[0].run_id, "posterior")
            if [e["kind"] for e in events[:2]] == ["worker", "start"]:
                return runs[0].run_id, events[0]["worker"]
            return None

        deadline = time.monotonic() + 600
        started = None
        while started is None and time.monotonic() < deadline:
            started = posterior_started()
            time.sleep(0.2)
        assert started, f"the posterior step never started:\n{cluster.tails()}"
        run_id, first = started
        cluster.workers[by_name[first]].kill()

        try:
            status = wait_for_backfill(cluster.ui, backfill_id)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{cluster.tails()}") from None
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS, cluster.tails()
        assert status == "COMPLETED_SUCCESS"
        events = step_events(instance, run_id, "posterior")
        # taken by the killed worker, started, never finished there; then the other
        # worker took it again and finished it
        assert [e["kind"] for e in events] == ["worker", "start", "worker", "start", "success"], events
        second = events[2]["worker"]
        assert {first, second} == set(by_name), (first, second)
        checks = check_results(instance, run_id)
        assert set(checks) == CHAIN_CHECKS and all(checks.values()), checks
        materializations = [
            e.dagster_event.step_materialization_data.materialization
            for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
        ]
        materialized = {m.asset_key.to_user_string(): m for m in materializations}
        assert materialized["posterior"].metadata["cache"].value != "hit"  # refit, not reused

        # PostgreSQL healthy: nothing left in progress, no pool slot held or waiting,
        # no session stuck in a transaction
        in_progress = instance.get_runs(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING]
            )
        )
        assert in_progress == []
        assert pool_state(instance) == (1, 0, 0)
    stuck = cluster.query("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
    assert stuck == [(0,)]

    # nothing half-written: no temporary file left on S3, and the stored posterior is
    # the one the diagnostics judged and the rankings came from
    leftovers = [p for p in cluster.s3.fs.find(cluster.root.removeprefix("s3://")) if p.endswith((".tmp", ".part"))]
    assert leftovers == []
    diagnostics = json.loads(cluster.read_s3(f"{cluster.root}/diagnostics/{chamber}/{session}.json"))
    assert diagnostics["posterior_id"] == materialized["posterior"].metadata["posterior_id"].value
    pd.testing.assert_frame_equal(stored_rankings(cluster, session, chamber), single_machine.rankings(session, chamber))
    print(json.dumps({"killed": first, "retried on": second, "posterior events": events}, indent=1, default=str))
