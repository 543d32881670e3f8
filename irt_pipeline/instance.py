"""The Dagster instance the CLI and `make ui` share: `$DAGSTER_HOME`, or the project's
own `.dagster_home/` when unset, so CLI runs show up in the UI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

DEFAULT_HOME = ".dagster_home"
# The concurrency pools the assets use (posterior: pool="mcmc").
POOLS = ("mcmc",)


@dataclass(frozen=True)
class InstanceLimits:
    """How much MCMC the instance runs at once on this machine."""

    cores: int
    chains: int
    mcmc_pool_limit: int  # runs holding a posterior step in progress at once
    max_concurrent_runs: int  # runs in progress at once; the rest wait in the queue


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def instance_limits(cores: int | None = None, chains: int | None = None) -> InstanceLimits:
    """Pool limit cores // chains (at least 1), so sampling never oversubscribes the
    cores, and one run more than that in progress. chains: IRT_PIPELINE_CHAINS, else
    the sampler's default."""
    from irt_pipeline.stats.sampling import SamplerSettings

    cores = cores or available_cores()
    chains = chains or int(os.environ.get("IRT_PIPELINE_CHAINS", SamplerSettings.chains))
    pool = max(1, cores // max(1, chains))
    return InstanceLimits(cores=cores, chains=chains, mcmc_pool_limit=pool, max_concurrent_runs=pool + 1)


def write_instance_config(home: Path, limits: InstanceLimits | None = None) -> Path:
    """Write `home`/dagster.yaml from the packaged template, filled in for this
    machine (or for `limits`); returns its path."""
    limits = limits or instance_limits()
    template = Template(files("irt_pipeline").joinpath("dagster.yaml").read_text())
    config = Path(home) / "dagster.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        template.substitute(
            mcmc_pool_limit=limits.mcmc_pool_limit, max_concurrent_runs=limits.max_concurrent_runs
        )
    )
    return config


def initialize_pools(home: Path) -> list[str]:
    """Give each pool of POOLS not yet known to the instance at `home` its default limit
    (from dagster.yaml) now; returns the pools initialized. Dagster otherwise creates a
    pool's limit when the run queue first sees it, after launching that first batch of
    runs unlimited (seen: a backfill's first two runs sampling together under a limit
    of 1). A limit already set (CLI, UI) is left alone."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        known = set(storage.get_concurrency_keys())
        new = [pool for pool in POOLS if pool not in known]
        for pool in new:
            storage.initialize_concurrency_limit_to_default(pool)
    return new


def prepare_dagster_home(home: Path, limits: InstanceLimits | None = None) -> Path:
    """A new DAGSTER_HOME at `home`: dagster.yaml from the template, pools initialized."""
    write_instance_config(home, limits)
    initialize_pools(home)
    return Path(home)


def ensure_dagster_home(pools: bool = False) -> Path:
    """Set DAGSTER_HOME if unset and give it the project's dagster.yaml if it has none;
    `pools`: also initialize the pools' limits (`make ui` does, before the daemon runs)."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path(DEFAULT_HOME).resolve())
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    if not (home / "dagster.yaml").exists():
        write_instance_config(home)
    if pools:
        initialize_pools(home)
    return home


def get_instance():
    import dagster as dg

    ensure_dagster_home()
    return dg.DagsterInstance.get()
