"""The instance of deploy/dagster.yaml on a real PostgreSQL server (services.py): run,
event-log and schedule storage in PostgreSQL, the pool and the run queue from the
file, the connection and its password from the environment only. Four `irt-pipeline
run` processes on two partitions at once all succeed on it, the pool limit holds
across them, the rankings equal a sequential single-machine run's, and the instance
is left healthy."""

from __future__ import annotations

import io
import json
import os
import subprocess

import dagster as dg
import pandas as pd
import pytest
import yaml
from services import (
    BIN,
    CHAIN_CHECKS,
    DEPLOY_CONFIG,
    SAMPLER_ENV,
    check_results,
    deploy_home,
    environ,
    landing_files,
    most_at_once,
    pool_state,
    step_events,
)

CONNECTION = ("hostname", "port", "username", "password", "db_name")


def messages(error: BaseException) -> str:
    """The messages of an exception and of those it was raised from or during."""
    found = []
    while error is not None and len(found) < 20:
        found.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(found)


def test_the_deploy_config_names_variables_not_values():
    config = yaml.safe_load(DEPLOY_CONFIG.read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    assert {name: db[name] for name in CONNECTION} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }


def test_the_deploy_instance_is_postgres_with_the_pool_and_queue_of_the_file(postgres, tmp_path):
    home = deploy_home(tmp_path)
    env = postgres.create_database("config_check")
    with environ(env), dg.DagsterInstance.from_config(str(home)) as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        assert [type(s).__name__ for s in storages] == [
            "PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage",
        ]  # fmt: skip
        config = instance.get_concurrency_config()
        assert (config.pool_config.pool_granularity.value, config.pool_config.default_pool_limit) == ("op", 1)
        assert config.run_queue_config.max_concurrent_runs == 8
        assert instance.run_monitoring_enabled
        instance.add_dynamic_partitions("session", ["117"])
    tables = {row[0] for row in postgres.query("config_check", "SELECT tablename FROM pg_tables")}
    assert {"runs", "event_logs", "dynamic_partitions", "concurrency_limits", "jobs"} <= tables
    assert postgres.query("config_check", "SELECT partition FROM dynamic_partitions") == [("117",)]

    # the password comes from the environment only: a wrong one is refused, a missing
    # one is named
    with environ({**env, "DAGSTER_PG_PASSWORD": "wrong"}), pytest.raises(Exception) as refused:
        dg.DagsterInstance.from_config(str(home))
    assert "password authentication failed" in messages(refused.value)
    saved = os.environ.pop("DAGSTER_PG_PASSWORD", None)
    try:
        with environ({k: v for k, v in env.items() if k != "DAGSTER_PG_PASSWORD"}), pytest.raises(Exception) as missing:
            dg.DagsterInstance.from_config(str(home))
    finally:
        if saved is not None:
            os.environ["DAGSTER_PG_PASSWORD"] = saved
    assert "DAGSTER_PG_PASSWORD" in str(missing.value)


CLI_RUNS = [("demo-2023", "Senate"), ("demo-2025", "Senate"), ("demo-2023", "Senate"), ("demo-2025", "Senate")]


def test_a_pool_limit_another_process_created_meanwhile_is_no_error(postgres, tmp_path):
    """Processes on one shared PostgreSQL instance initialize the pools at once: one sees
    no limit, another creates it, and the first one's insert hits the unique key (seen:
    a posterior step of four CLI runs started together failed there). That counts as
    known, not as a failed run."""
    from irt_pipeline.instance import initialize_instance_pools

    home = deploy_home(tmp_path)
    with environ(postgres.create_database("pool_race")), dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("mcmc")  # "the other process"
        real_keys, looks = storage.get_concurrency_keys, []

        def keys():  # this process's first look is stale (nothing yet), later ones are not
            looks.append(1)
            return set() if len(looks) == 1 else real_keys()

        storage.get_concurrency_keys = keys
        assert initialize_instance_pools(instance) == ["mcmc"]  # it tried, and found it made
        assert len(looks) == 2
        assert storage.get_concurrency_info("mcmc").slot_count == 1


def test_four_cli_runs_at_once_on_the_postgres_instance(postgres, s3_server, single_machine, tmp_path):
    """The commands a user types, four at once on a fresh instance (two per partition:
    the sessions are registered by all four at the same time)."""
    home = deploy_home(tmp_path)
    db = "cli_runs"
    pg_env = postgres.create_database(db)
    root = s3_server.bucket("cli-runs")
    for name, data in landing_files(voteview=False).items():
        s3_server.fs.pipe_file(f"{root.removeprefix('s3://')}/landing/{name}", data)
    env = {
        **os.environ, "DAGSTER_HOME": str(home), **pg_env, "IRT_PIPELINE_ROOT": root, **s3_server.env,
        **SAMPLER_ENV, "MPLBACKEND": "Agg",
    }  # fmt: skip
    single_machine.start(list(dict.fromkeys(CLI_RUNS)))  # meanwhile, one after another
    processes = [
        subprocess.Popen(
            [str(BIN / "irt-pipeline"), "run", "--session", session, "--chamber", chamber],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for session, chamber in CLI_RUNS
    ]
    outputs = [process.communicate() for process in processes]
    for (session, chamber), process, (out, err) in zip(CLI_RUNS, processes, outputs):
        assert process.returncode == 0, f"{session} {chamber}:\n{out}\n{err[-3000:]}"
    summaries = [json.loads(out) for out, _ in outputs]
    assert all(s["success"] and s["failures"] == [] for s in summaries)
    assert all(all(c["passed"] for c in s["checks"]) for s in summaries)

    with environ(pg_env), dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.run_id for r in runs) == sorted(s["run_id"] for s in summaries)
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        # each session registered once, though four processes registered them at once
        assert sorted(instance.get_dynamic_partitions("session")) == ["demo-2023", "demo-2025"]
        posterior = {}
        for run in runs:
            checks = check_results(instance, run.run_id)
            assert set(checks) == CHAIN_CHECKS and all(checks.values()), checks
            events = step_events(instance, run.run_id, "posterior")
            assert [e["kind"] for e in events] == ["start", "success"], events
            posterior[run.run_id] = (events[0]["t"], events[1]["t"])
        # the pool limit (1, op granularity) held across the four processes
        assert most_at_once(list(posterior.values())) == 1
        assert pool_state(instance) == (1, 0, 0)
    assert postgres.query(db, "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'") == [(0,)]

    for session, chamber in dict.fromkeys(CLI_RUNS):
        path = f"{root.removeprefix('s3://')}/rankings/{chamber}/{session}.parquet"
        stored = pd.read_parquet(io.BytesIO(s3_server.fs.cat_file(path)))
        pd.testing.assert_frame_equal(stored, single_machine.rankings(session, chamber))
    report = [
        {"partition": f"{s['session']} {s['chamber']}", "posterior": s["steps"]["posterior"],
         "posterior cache": [line.split(" - ")[-1] for line in err.splitlines() if "posterior cache" in line]}
        for s, (_, err) in zip(summaries, outputs)
    ]  # fmt: skip
    print(json.dumps(report, indent=1))
