"""The instance written for DAGSTER_HOME: the mcmc pool limit and the run queue follow
the machine's cores and the chain count, and Dagster reads them back."""

from __future__ import annotations

import dagster as dg
import pytest

from irt_pipeline.instance import (
    InstanceLimits,
    ensure_dagster_home,
    instance_limits,
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
        assert config.pool_config.pool_granularity.value == "op"
        assert config.run_queue_config.max_concurrent_runs == 4


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
