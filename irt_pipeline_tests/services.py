"""Real services for the tests of running on several machines, each a local process on
127.0.0.1 started here and killed with its whole process group at teardown (these
machines may ignore SIGTERM):

- PostgreSQL from Debian's packages (`initdb` + `postgres`, as the `postgres` user when
  the tests run as root: the server refuses to run as root), password authentication;
- RabbitMQ from Debian's packages, with an epmd of its own on a free port;
- a moto S3 server (ThreadedMotoServer) in the test process;
- a Dagster cluster on them: `dagster-webserver` and `dagster-daemon` with DAGSTER_HOME
  holding deploy/dagster.yaml, and Celery workers started as separate processes with
  `python -m irt_pipeline.deploy worker`, as docs/deploy.md tells a team to;
- the same partitions run on a single machine (in-process, SQLite, local folder) to
  compare against.

`make test` installs PostgreSQL and RabbitMQ when missing (apt, as root). Without them
the tests skip with the reason, except under CI (CI set), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from ui_server import REPO, SAMPLER_ENV, DagsterUI, _wait_until_loaded, free_port, stop_sensors

from irt_pipeline.cache import CACHE_FOLDER
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import hierarchical

SHARED_VOTEVIEW = REPO.parent / "shared" / "data" / "voteview"
BIN = Path(sys.executable).parent
DEPLOY_CONFIG = REPO / "deploy" / "dagster.yaml"
STARTUP_SECONDS = 120  # limits, not measurements: a loaded 2-core machine is slow

# The UI tests' sampler settings (4 chains, 1,000 + 1,000): every gate passes on each
# partition below with room, whichever draws the seed gives (max R-hat 1.0075 over five
# seeds x six partitions; 600 + 800 reached 1.0098 and failed once).
# Real Senates small enough for CI, by landing-file prefix and session key.
SMALL_SENATES = {"S118": "118", "S073": "73"}


def require(what: str, found: bool, install: str) -> None:
    """Skip (fail under CI) when a service's programs are missing."""
    if found:
        return
    message = f"{what} not found: {install} (`make test` installs it when run as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def environ(variables: dict):
    """os.environ with `variables` set, restored afterwards."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Process:
    """A service process in its own process group, its output in `log`."""

    name: str
    popen: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, name: str, command: list[str], log: Path, env: dict | None = None, cwd=None) -> Process:
        with log.open("ab") as out:
            popen = subprocess.Popen(
                command, cwd=cwd or REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        return cls(name, popen, log)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and everything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(self.text().splitlines()[-lines:])


def wait_until(ready, what: str, processes: list[Process], timeout: float = STARTUP_SECONDS):
    """Poll `ready()` until it returns a true value; fail early if a process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if not process.alive():
                raise AssertionError(
                    f"{process.name} exited with {process.popen.returncode} before {what}:\n{process.tail()}"
                )
        result = ready()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"not {what} after {timeout} s:\n" + "\n".join(p.tail() for p in processes))


# --- PostgreSQL -------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server's bin folder, or one on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


@dataclass
class Postgres:
    port: int
    user: str
    password: str
    process: Process
    host: str = "127.0.0.1"

    def connect(self, db: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=db)

    def create_database(self, name: str) -> dict:
        """A new database; returns the DAGSTER_PG_* variables deploy/dagster.yaml reads."""
        connection = self.connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": name,
        }

    def query(self, db: str, sql: str) -> list[tuple]:
        connection = self.connect(db)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server of its own on a free port, password authentication."""
    bin_dir = postgres_bin()
    require("PostgreSQL server (initdb, postgres)", bin_dir is not None, "apt-get install postgresql")
    as_postgres = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            require("the postgres user (PostgreSQL will not run as root)", False, "apt-get install postgresql")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    # Under /tmp, which the postgres user can enter (pytest's tmp_path is root-only).
    base = Path(tempfile.mkdtemp(prefix="irt-pg-", dir="/tmp"))
    password = secrets.token_hex(16)
    try:
        pwfile = base / "pw"
        pwfile.write_text(password)
        if owner:
            os.chown(base, owner.pw_uid, owner.pw_gid)
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [*as_postgres, str(bin_dir / "initdb"), "-D", str(base / "data"), "-U", "irt", f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, cwd=base,
        )  # fmt: skip
        pwfile.unlink()
        port = free_port()
        log = tmp_path_factory.mktemp("postgres") / "postgres.log"  # written through our file handle
        process = Process.start(
            "postgres",
            [*as_postgres, str(bin_dir / "postgres"), "-D", str(base / "data"), "-p", str(port), "-h", "127.0.0.1",
             "-k", "", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=300"],
            log, cwd=base,
        )  # fmt: skip
        server = Postgres(port=port, user="irt", password=password, process=process)

        def accepts():
            try:
                server.connect().close()
                return True
            except Exception:
                return False

        try:
            wait_until(accepts, "PostgreSQL accepting connections", [process])
            yield server
        finally:
            process.kill()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- RabbitMQ ---------------------------------------------------------------------

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


@dataclass
class RabbitMQ:
    url: str  # amqp://user:password@127.0.0.1:port//
    process: Process


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory):
    """A RabbitMQ node of its own: AMQP, Erlang distribution and epmd on free ports of
    127.0.0.1, a user with a random password."""
    epmd = shutil.which("epmd")
    require("RabbitMQ server", RABBITMQ_SERVER.exists() and epmd is not None, "apt-get install rabbitmq-server")
    base = tmp_path_factory.mktemp("rabbitmq")
    amqp_port, dist_port, epmd_port = free_port(), free_port(), free_port()
    password = secrets.token_hex(16)
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{amqp_port}\n"
        f"default_user = irt\ndefault_pass = {password}\n"
        # a posterior step holds its message unacknowledged while it runs (acks_late)
        "consumer_timeout = 3600000\n"
    )
    (base / "enabled_plugins").write_text("[].\n")
    env = {
        **os.environ,
        "HOME": str(base),  # the Erlang cookie
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODENAME": f"irt{amqp_port}@localhost",
        "RABBITMQ_NODE_PORT": str(amqp_port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        "RABBITMQ_LOGS": "-",
    }
    # epmd in the foreground, so that teardown can stop it (Erlang would start a daemon).
    epmd_process = Process.start(
        "epmd", [epmd, "-port", str(epmd_port), "-address", "127.0.0.1"], base / "epmd.log", env=env
    )
    server = Process.start("rabbitmq", [str(RABBITMQ_SERVER)], base / "rabbitmq.log", env=env, cwd=base)
    try:
        wait_until(lambda: "Server startup complete" in server.text(), "RabbitMQ started", [server, epmd_process])
        yield RabbitMQ(url=f"amqp://irt:{password}@127.0.0.1:{amqp_port}//", process=server)
    finally:
        server.kill()
        epmd_process.kill()


# --- S3 ---------------------------------------------------------------------------


def start_s3_server():
    """moto's S3 server on 127.0.0.1 (a thread of this process), emptied; returns
    (server, endpoint URL). moto keeps its buckets per process, across servers."""
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    return server, endpoint


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
# s3fs keeps a folder's listing for the life of a process: files that other processes
# write there later stay invisible to it. Off for roots that several processes share.
S3_SHARED = {"FSSPEC_S3": '{"use_listings_cache": false}'}


@dataclass
class S3:
    endpoint: str
    fs: object  # s3fs.S3FileSystem on the server

    @property
    def env(self) -> dict:
        """The S3 variables of every process on this root (deploy/environment.example)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, **S3_CREDENTIALS, **S3_SHARED}

    def bucket(self, name: str) -> str:
        self.fs.mkdir(name)
        return f"s3://{name}/root"


@pytest.fixture(scope="module")
def s3_server():
    """A local S3 server for one test module; its clients get `S3.env`."""
    import s3fs

    server, endpoint = start_s3_server()
    fs = s3fs.S3FileSystem(
        endpoint_url=endpoint, key=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"], secret=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        skip_instance_cache=True,
    )  # fmt: skip
    try:
        yield S3(endpoint=endpoint, fs=fs)
    finally:
        server.stop()


# --- Landing files and the single-machine reference ---------------------------------


def partitions_for_backfill() -> list[tuple[str, str]]:
    """(session, chamber): the four demo partitions and the small shared Senates."""
    from irt_pipeline.demo import DEMO_CHAMBERS

    return [(c.session, c.chamber) for c in DEMO_CHAMBERS] + [(s, "Senate") for s in SMALL_SENATES.values()]


def landing_files(voteview: bool = True) -> dict[str, bytes]:
    """Landing file name -> bytes: the demo roll calls and (`voteview`) the small
    shared Senates' Voteview CSVs."""
    from irt_pipeline.demo import DEMO_CHAMBERS, DEMO_DATA, landing_name

    files = {landing_name(c): DEMO_DATA.joinpath(landing_name(c)).read_bytes() for c in DEMO_CHAMBERS}
    if voteview:
        require(
            "real Voteview files",
            (SHARED_VOTEVIEW / "S118_votes.csv").exists(),
            f"../shared/data/voteview ({SHARED_VOTEVIEW})",
        )
        for prefix in SMALL_SENATES:
            for kind in ("votes", "members"):
                name = f"{prefix}_{kind}.csv"
                files[name] = (SHARED_VOTEVIEW / name).read_bytes()
    return files


# Compiles the sampler's kernels into the on-disk cache (as irt_pipeline.stats.callbacks
# does in a child process before anything samples).
COMPILE_KERNELS = "from irt_pipeline.stats.models import compile_all; compile_all()"


@pytest.fixture(scope="session")
def compiled_kernels():
    """numba's on-disk cache of the sampler's kernels, written (if missing) by one
    process before any process of these tests samples. The same seed gives other
    (equally valid) draws in a process that compiled the kernels itself than in one
    that loaded them from the cache (seen here: numba, fastmath), so runs compared
    across processes must all load them; the test process itself is never one of them."""
    done = subprocess.run([sys.executable, "-c", COMPILE_KERNELS], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]


# The single-machine runs: `irt-pipeline run` per partition, in one process.
SINGLE_MACHINE_RUNS = """
import json, sys
from irt_pipeline.cli import main

sys.exit(max(main(["run", "--session", s, "--chamber", c]) for s, c in json.loads(sys.argv[1])))
"""


@dataclass
class SingleMachine:
    """The default set-up on one machine: the CLI with its local SQLite instance, the
    in-process executor and a local folder, the same sampler settings and seed. Runs
    go on in the background from `start` until `rankings` needs them."""

    root: Path
    env: dict
    logs: Path
    runs: list = field(default_factory=list)  # (Process, partitions)

    def start(self, partitions: list[tuple[str, str]]) -> None:
        started = {p for _, ps in self.runs for p in ps}
        todo = [p for p in partitions if p not in started]
        if not todo:
            return
        for process, _ in self.runs:  # one SQLite instance: one process at a time
            process.popen.wait()
        command = [sys.executable, "-c", SINGLE_MACHINE_RUNS, json.dumps(todo)]
        log = self.logs / f"single_machine_{len(self.runs)}.log"
        self.runs.append((Process.start("single-machine runs", command, log, env=self.env), todo))

    def wait(self, session: str, chamber: str) -> None:
        """Until the run of (session, chamber) has ended (started if it was not); it must
        have succeeded."""
        self.start([(session, chamber)])
        [process] = [process for process, ps in self.runs if (session, chamber) in ps]
        process.popen.wait()
        assert process.popen.returncode == 0, f"single-machine run failed:\n{process.tail(80)}"

    def rankings(self, session: str, chamber: str) -> pd.DataFrame:
        self.wait(session, chamber)
        return pd.read_parquet(self.root / "rankings" / chamber / f"{session}.parquet")

    def seed_cache(self, root: Path) -> list[str]:
        """Copy the cache entries the runs so far have stored (posteriors and contract
        verdicts, irt_pipeline/cache.py) into storage root `root`, so that a run there
        of the same partition, settings and code reuses a fit instead of sampling it
        again. An entry's key is the content of everything its result depends on, so it
        can only serve the very same computation; anything else misses and is computed,
        as without it. Nothing is started or waited for: a test that reads a posterior
        reuses what the session has already fitted (tests comparing two samplings never
        use this). Returns the names of the entries copied."""
        source, target = self.root / CACHE_FOLDER, root / CACHE_FOLDER
        copied = []
        for entry in sorted(source.glob("*/*")):
            if entry.name.startswith("."):  # a write in progress (irt_pipeline/files.py)
                continue
            (target / entry.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry, target / entry.parent.name / entry.name)
            copied.append(f"{entry.parent.name}/{entry.name}")
        return copied


@pytest.fixture(scope="session")
def single_machine(tmp_path_factory, compiled_kernels):
    base = tmp_path_factory.mktemp("single_machine")
    root = base / "root"
    (root / "landing").mkdir(parents=True)
    # the shared Senates when present (the tests that need them skip without them)
    for name, data in landing_files(voteview=(SHARED_VOTEVIEW / "S118_votes.csv").exists()).items():
        (root / "landing" / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IRT_PIPELINE_", "DAGSTER_", "AWS_", "FSSPEC_"))}
    env.update(
        {"DAGSTER_HOME": str(base / "dagster_home"), "IRT_PIPELINE_ROOT": str(root), **SAMPLER_ENV, "MPLBACKEND": "Agg"}
    )
    machine = SingleMachine(root=root, env=env, logs=base)
    try:
        yield machine
    finally:
        for process, _ in machine.runs:
            process.kill()


# --- A Dagster cluster on PostgreSQL, RabbitMQ and S3 -------------------------------


def deploy_home(base: Path) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml, as on every machine of a team."""
    home = base / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(DEPLOY_CONFIG, home / "dagster.yaml")
    return home


def cluster_env(home: Path, pg_env: dict, broker: str, root: str, s3: S3) -> dict:
    """The environment of every process of the cluster (docs/deploy.md)."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        **pg_env,
        "IRT_PIPELINE_EXECUTOR": "celery",
        "IRT_PIPELINE_BROKER_URL": broker,
        "IRT_PIPELINE_ROOT": root,
        **s3.env,
        **SAMPLER_ENV,
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    }


def dagster_cli(env: dict, *args: str) -> str:
    done = subprocess.run([str(BIN / "dagster"), *args], env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, f"dagster {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Cluster:
    env: dict
    postgres: Postgres
    home: Path
    root: str  # s3://bucket/root
    logs: Path
    s3: S3
    ui: DagsterUI
    services: list[Process]
    workers: dict[str, Process] = field(default_factory=dict)

    def instance(self):
        import dagster as dg

        with environ({k: v for k, v in self.env.items() if k.startswith("DAGSTER_")}):
            return dg.DagsterInstance.from_config(str(self.home))

    def start_worker(self, queue: str, name: str, slots: int | None = None) -> Process:
        command = [str(BIN / "python"), "-m", "irt_pipeline.deploy", "worker", "--queue", queue, "--name", name]
        if slots:
            command += ["--slots", str(slots)]
        worker = Process.start(f"worker {name}", command, self.logs / f"worker-{name}.log", env=self.env)
        self.workers[name] = worker
        return worker

    def wait_for_workers(self) -> None:
        for name, worker in self.workers.items():

            def ready(name=name, worker=worker):
                return f" {name}@" in worker.text() and " ready." in worker.text()

            wait_until(ready, f"worker {name} ready", [worker])

    def query(self, sql: str) -> list[tuple]:
        """`sql` on the instance's database."""
        return self.postgres.query(self.env["DAGSTER_PG_DB"], sql)

    def read_s3(self, path: str) -> bytes:
        return self.s3.fs.cat_file(path.removeprefix("s3://"))

    def tails(self) -> str:
        return "\n".join(p.tail() for p in [*self.services, *self.workers.values()])

    def stop(self) -> None:
        for process in [*self.workers.values(), *self.services]:
            process.kill()


MCMC_WORKERS = ("mcmc-a", "mcmc-b")
LIGHT_WORKER = "light"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres, rabbitmq, s3_server, compiled_kernels):
    """The team set-up of docs/deploy.md on one machine: a database for the instance,
    the storage root on S3, `dagster-webserver` + `dagster-daemon` (the run queue,
    backfills), two MCMC workers (cores // chains slots each) and one worker for the
    light steps, each a separate process. The pool `mcmc` is limited to 1: the two
    "machines" share this machine's cores, which have room for one posterior at once."""
    base = tmp_path_factory.mktemp("cluster")
    logs = base / "logs"
    logs.mkdir()
    home = deploy_home(base)
    pg_env = postgres.create_database(f"cluster_{os.getpid()}_{secrets.token_hex(3)}")
    root = s3_server.bucket(f"cluster-{secrets.token_hex(3)}")
    env = cluster_env(home, pg_env, rabbitmq.url, root, s3_server)
    dagster_cli(env, "instance", "concurrency", "set", "mcmc", "1")

    port = free_port()
    webserver = Process.start(
        "dagster-webserver",
        [str(BIN / "dagster-webserver"), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        logs / "webserver.log", env=env,
    )  # fmt: skip
    daemon = Process.start(
        "dagster-daemon",
        [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
        logs / "daemon.log",
        env=env,
    )
    ui = DagsterUI(
        url=f"http://127.0.0.1:{port}", home=home, root=base, log=webserver.log, process=webserver.popen, limits=None
    )
    cluster = Cluster(
        env=env, postgres=postgres, home=home, root=root, logs=logs, s3=s3_server, ui=ui, services=[webserver, daemon]
    )
    try:
        for name in MCMC_WORKERS:
            cluster.start_worker("mcmc", name)
        cluster.start_worker("dagster", LIGHT_WORKER, slots=2)
        _wait_until_loaded(ui)
        # The landing files only once the sensors are stopped: the tests' own backfills
        # must do all the work.
        stop_sensors(ui)
        for name, data in landing_files().items():
            s3_server.fs.pipe_file(f"{root.removeprefix('s3://')}/landing/{name}", data)
        cluster.wait_for_workers()
        yield cluster
    finally:
        cluster.stop()


# --- Reading what happened from the instance ----------------------------------------

# Every check of the chain: the data contract, the usable matrix and the four gates.
CHAIN_CHECKS = {"roll_call_contract", "vote_matrix_usable", *(gate.name for gate in gates_for(hierarchical.SPEC.gated))}
# The metadata entry of dagster-celery's engine event when a worker takes a step.
WORKER = "Celery worker"


def step_events(instance, run_id: str, step: str) -> list[dict]:
    """The celery hand-offs, starts and ends of `step` in a run, in order: dicts with
    kind ("worker", "start", "success", "failure"), t (epoch seconds), worker."""
    from dagster._core.events import DagsterEventType

    kinds = {
        DagsterEventType.STEP_START: "start",
        DagsterEventType.STEP_SUCCESS: "success",
        DagsterEventType.STEP_FAILURE: "failure",
    }
    found = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key != step:
            continue
        metadata = event.engine_event_data.metadata if event.event_type == DagsterEventType.ENGINE_EVENT else {}
        if WORKER in metadata:
            worker = metadata[WORKER].value
            found.append({"kind": "worker", "t": entry.timestamp, "worker": worker})
        elif event.event_type in kinds:
            found.append({"kind": kinds[event.event_type], "t": entry.timestamp, "worker": None})
    return found


def check_results(instance, run_id: str) -> dict[str, bool]:
    """check name -> passed, for the checks evaluated in a run."""
    from dagster._core.events import DagsterEventType

    evaluations = [
        entry.dagster_event.asset_check_evaluation_data
        for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    return {evaluation.check_name: evaluation.passed for evaluation in evaluations}


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) intervals open at one time."""
    edges = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda e: (e[0], e[1])
    )
    open_now = most = 0
    for _, change in edges:
        open_now += change
        most = max(most, open_now)
    return most


def pool_state(instance) -> tuple[int, int, int]:
    """(limit, slots held, steps waiting) of the pool mcmc."""
    info = instance.event_log_storage.get_concurrency_info("mcmc")
    return info.slot_count, info.active_slot_count, info.pending_step_count
