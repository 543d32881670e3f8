"""The instance written for DAGSTER_HOME: the mcmc pool limit and the run queue follow
the machine's cores and the chain count, and Dagster reads them back."""

from __future__ import annotations

import dagster as dg
import pytest

from irt_pipeline.instance import (
    InstanceLimits,
    ensure_dagster_home,
    initialize_pools,
    instance_limits,
    prepare_dagster_home,
    write_instance_config,
)


@pytest.mark.parametrize(
    ("cores", "chains", "pool", "runs"),
    [(2, 4, 1, 2), (4, 4, 1, 2), (8, 4, 2, 3), (16, 4, 4, 5), (16, 2, 8, 9), (1, 1, 1, 2)],
)
def test_pool_limit_is_cores_over_chains_at_least_one(cores, chains, pool, runs):
    limits = instance_limits(cores=cores, chains=chains)
    assert (limits.mcmc_pool_limit, limits.max_concurrent_runs) == (pool, runs)


def test_chains_default_to_the_sampler_environment(monkeypatch):
    monkeypatch.setenv("IRT_PIPELINE_CHAINS", "2")
    assert instance_limits(cores=8).mcmc_pool_limit == 4


def test_dagster_reads_the_written_pool_and_queue(tmp_path):
    write_instance_config(tmp_path, InstanceLimits(cores=12, chains=4, mcmc_pool_limit=3, max_concurrent_runs=4))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 3
        assert config.pool_config.pool_granularity.value == "run"
        assert config.run_queue_config.max_concurrent_runs == 4
        assert instance.run_coordinator.dequeue_interval_seconds == 1  # a queued run waits at most a second
        assert instance.run_monitoring_enabled  # dead queued runs are marked failed
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_max_resume_run_attempts == 0


def test_an_existing_config_is_kept(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert ensure_dagster_home() == home
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    (home / "dagster.yaml").unlink()
    ensure_dagster_home()
    assert "max_concurrent_runs: " in (home / "dagster.yaml").read_text()


def pool_limit(home, pool="mcmc"):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        if pool not in instance.event_log_storage.get_concurrency_keys():
            return None
        return instance.event_log_storage.get_concurrency_info(pool).slot_count


def test_a_new_home_knows_the_mcmc_pool_and_its_limit_before_any_run(tmp_path):
    limits = InstanceLimits(cores=8, chains=4, mcmc_pool_limit=2, max_concurrent_runs=3)
    write_instance_config(tmp_path, limits)
    assert pool_limit(tmp_path) is None  # what the run queue would first see
    prepare_dagster_home(tmp_path, limits)
    assert pool_limit(tmp_path) == 2


def test_a_limit_set_by_hand_is_kept(tmp_path):
    prepare_dagster_home(tmp_path, InstanceLimits(cores=2, chains=4, mcmc_pool_limit=1, max_concurrent_runs=2))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots("mcmc", 3)
    assert initialize_pools(tmp_path) == []
    assert pool_limit(tmp_path) == 3


def test_sessions_are_registered_once_whoever_asks(tmp_path, monkeypatch):
    from irt_pipeline.instance import get_instance, register_sessions

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance = get_instance()
    assert register_sessions(instance, ["117", "118", "117"]) == ["117", "118"]
    assert register_sessions(instance, ["118", "119"]) == ["119"]
    assert instance.get_dynamic_partitions("session") == ["117", "118", "119"]
