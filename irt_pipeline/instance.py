"""The Dagster instance the CLI and `make ui` share: `$DAGSTER_HOME`, or the project's
own `.dagster_home/` when unset, so CLI runs show up in the UI."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from irt_pipeline.files import write_atomic

DEFAULT_HOME = ".dagster_home"
LOCK_FILE = ".irt-pipeline.lock"
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
    write_atomic(
        config,
        template.substitute(
            mcmc_pool_limit=limits.mcmc_pool_limit, max_concurrent_runs=limits.max_concurrent_runs
        ),
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
        return initialize_instance_pools(instance)


def initialize_instance_pools(instance) -> list[str]:
    """`initialize_pools` on an open instance. Safe when other processes do the same at
    once (on a shared PostgreSQL instance the file lock of one home does not reach the
    others): a limit another process created meanwhile counts as known. Without it,
    Dagster creates the limit when a step first claims a slot, and four runs started
    together on a fresh PostgreSQL instance raced there: one run's posterior step failed
    on the duplicate key (Dagster 1.13.27 catches that and then fails on the aborted
    transaction, so any database error here is checked the same way)."""
    from sqlalchemy.exc import SQLAlchemyError

    storage = instance.event_log_storage
    new = [pool for pool in POOLS if pool not in set(storage.get_concurrency_keys())]
    for pool in new:
        try:
            storage.initialize_concurrency_limit_to_default(pool)
        except SQLAlchemyError:
            if pool not in set(storage.get_concurrency_keys()):
                raise
    return new


def prepare_dagster_home(home: Path, limits: InstanceLimits | None = None) -> Path:
    """A new DAGSTER_HOME at `home`: dagster.yaml from the template, pools initialized."""
    Path(home).mkdir(parents=True, exist_ok=True)
    with home_lock(home):
        write_instance_config(home, limits)
        initialize_pools(home)
    return Path(home)


def home_lock(home: Path):
    """The lock that serializes, across processes, what must not run twice at once on
    one DAGSTER_HOME: creating and migrating its SQLite storage (several commands
    started together on a fresh home otherwise race to create the same tables, and
    leave the schema's version history broken) and registering sessions."""
    from filelock import FileLock

    return FileLock(str(Path(home) / LOCK_FILE))


def ensure_dagster_home(pools: bool = False) -> Path:
    """Set DAGSTER_HOME if unset and give it the project's dagster.yaml if it has none;
    `pools`: also initialize the pools' limits (`make ui` does, before the daemon runs)."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path(DEFAULT_HOME).resolve())
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    with home_lock(home):
        if not (home / "dagster.yaml").exists():
            write_instance_config(home)
        if pools:
            initialize_pools(home)
    return home


def get_instance():
    """The instance at DAGSTER_HOME, created (on first use) under `home_lock`, with its
    pools' limits set (`initialize_instance_pools`)."""
    import dagster as dg

    home = ensure_dagster_home()
    with home_lock(home):
        instance = dg.DagsterInstance.get()
        instance.get_dynamic_partitions(session_partitions_name())  # storage created and current
        initialize_instance_pools(instance)
    return instance


def session_partitions_name() -> str:
    from irt_pipeline.partitions import session_partitions

    return session_partitions.name


def register_sessions(instance, sessions) -> list[str]:
    """Add the sessions not yet known to the instance; returns the ones added. Safe to
    call from several processes at once (the CLI, the UI's sensor): registration is
    serialized on the instance's home, and a session someone else added meanwhile
    counts as known."""
    from sqlalchemy.exc import IntegrityError

    from irt_pipeline.partitions import validate_session_key

    wanted = [validate_session_key(s) for s in dict.fromkeys(sessions)]
    name = session_partitions_name()
    home = getattr(instance, "root_directory", None)
    lock = home_lock(home) if home and Path(home).is_dir() else nullcontext()
    with lock:
        new = [s for s in wanted if s not in set(instance.get_dynamic_partitions(name))]
        if new:
            try:
                instance.add_dynamic_partitions(name, new)
            except IntegrityError:  # added by a process that does not take the lock
                known = set(instance.get_dynamic_partitions(name))
                if any(s not in known for s in new):
                    raise
    return new
