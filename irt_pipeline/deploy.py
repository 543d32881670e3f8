"""Running on several machines: the executor chosen by the environment, the Celery
settings the executor and the workers share, and the worker command.

    IRT_PIPELINE_EXECUTOR     "in_process" (default: every step in the run's own process)
                              or "celery" (each step a task for Celery workers)
    IRT_PIPELINE_BROKER_URL   the Celery broker, e.g. amqp://user:password@host:5672/vhost
                              (required with "celery"; read from the environment only, so
                              the password is in no file and no stored run config)

With Celery, steps in the pool "mcmc" (the posterior steps) go to the queue "mcmc",
whose workers run `cores // chains` tasks at once (at least one); every other step
goes to dagster-celery's default queue "dagster". A worker:

    python -m irt_pipeline.deploy worker --queue mcmc      # slots: cores // chains
    python -m irt_pipeline.deploy worker --queue dagster   # light steps

See docs/deploy.md for what runs where.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

EXECUTOR_ENV = "IRT_PIPELINE_EXECUTOR"
BROKER_ENV = "IRT_PIPELINE_BROKER_URL"
EXECUTORS = ("in_process", "celery")

MCMC_QUEUE = "mcmc"
LIGHT_QUEUE = "dagster"  # dagster-celery's default queue: every step without a queue tag
# dagster-celery reads a step's queue from this op tag (dagster_celery.tags, kept in
# step with it by a test; importing dagster_celery here would load it for local runs).
QUEUE_TAG = "dagster-celery/queue"
# The posterior steps' op tags: with Celery they run on the MCMC workers.
MCMC_OP_TAGS = {QUEUE_TAG: MCMC_QUEUE}

# Celery settings of both the executor (which sends tasks) and the workers (which run
# them). acks_late + reject_on_worker_lost: a task is acknowledged only once it has
# finished, so when a worker dies mid-step (machine lost, process killed) the broker
# gives the task to another worker instead of dropping it. With acks_late a worker
# also reserves no task beyond those it is running (prefetch 1 per slot), so a busy
# worker never holds a posterior step back from an idle one.
CELERY_SETTINGS = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
}
RESULT_BACKEND = "rpc://"  # results travel back through the broker (AMQP)


class DeployConfigError(ValueError):
    """The environment asks for a deployment it does not fully describe."""


def executor_kind() -> str:
    kind = os.environ.get(EXECUTOR_ENV, "in_process").strip() or "in_process"
    if kind not in EXECUTORS:
        raise DeployConfigError(f"{EXECUTOR_ENV}={kind!r}: expected one of {', '.join(EXECUTORS)}")
    return kind


def broker_url() -> str:
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url:
        raise DeployConfigError(f"{EXECUTOR_ENV}=celery needs {BROKER_ENV} (e.g. amqp://user:password@host:5672/vhost)")
    return url


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor of the project's jobs: in-process unless IRT_PIPELINE_EXECUTOR=celery.
    Checked when the definitions load, so a half-configured machine fails at once
    rather than at run launch."""
    if executor_kind() == "in_process":
        return dg.in_process_executor
    from dagster_celery import celery_executor

    broker_url()  # present now; the executor reads it from the environment at run time
    return celery_executor.configured(
        {"broker": {"env": BROKER_ENV}, "backend": RESULT_BACKEND, "config_source": CELERY_SETTINGS},
        name="celery",
    )


def celery_app():
    """The Celery app of a worker, configured as the executor configures its own
    (dagster-celery's make_app and execute_plan task)."""
    from dagster._core.execution.retries import RetryMode
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    executor = CeleryExecutor(
        retries=RetryMode.DISABLED, broker=broker_url(), backend=RESULT_BACKEND, config_source=CELERY_SETTINGS
    )
    app = make_app(executor.app_args())
    create_task(app)
    return app


def mcmc_slots(cores: int | None = None, chains: int | None = None) -> int:
    """Posterior steps one MCMC worker runs at once: cores // chains, at least 1
    (chains: IRT_PIPELINE_CHAINS, else the sampler's default)."""
    from irt_pipeline.instance import instance_limits

    return instance_limits(cores=cores, chains=chains).mcmc_pool_limit


def worker_command(queue: str, name: str, slots: int | None = None, loglevel: str = "INFO") -> list[str]:
    """The `celery worker` command line of a worker on `queue`: `slots` tasks at once
    (default: mcmc_slots() on the MCMC queue, 1 on others), named `name@<host>`."""
    slots = slots or (mcmc_slots() if queue == MCMC_QUEUE else 1)
    return [
        sys.executable, "-m", "celery", "-A", "irt_pipeline.celery_app", "worker",
        "-Q", queue, "-c", str(slots), "-n", f"{name}@%h",
        "--prefetch-multiplier=1", "--loglevel", loglevel, "--without-heartbeat", "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m irt_pipeline.deploy", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run a Celery worker for the pipeline's steps (foreground)")
    worker.add_argument("--queue", required=True, help=f"{MCMC_QUEUE} (posterior steps) or {LIGHT_QUEUE} (the rest)")
    worker.add_argument("--name", help="worker name (default: the queue's name); the host is appended")
    worker.add_argument("--slots", type=int, help="tasks at once (default: cores // chains on mcmc, else 1)")
    worker.add_argument("--loglevel", default="INFO")
    slots = sub.add_parser("slots", help="print cores // chains (at least 1) for this machine")
    slots.add_argument("--chains", type=int)
    args = parser.parse_args(argv)
    if args.command == "slots":
        print(mcmc_slots(chains=args.chains))
        return 0
    broker_url()  # fail before starting Celery when the broker is not configured
    command = worker_command(args.queue, args.name or args.queue, args.slots, args.loglevel)
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
