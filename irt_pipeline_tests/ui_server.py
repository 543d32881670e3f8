"""A real `dagster dev` (webserver + daemon + code server) on the demo data, shared by
the UI tests, and the GraphQL calls they make.

`dagster_ui` starts the server once per test session: a temporary DAGSTER_HOME written
from the project's instance template, a temporary storage root, 127.0.0.1 on a free
port, in a new process group that teardown SIGKILLs (these machines may ignore
SIGTERM). `demo_backfill` stops the sensors (the backfill alone must do the work),
lays down the demo landing files plus one partition with bad data, registers the
sessions and runs one partition backfill over all of them through GraphQL, as the UI's
"Materialize" -> "Launch backfill" does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import requests

from irt_pipeline.files import sha256_file  # noqa: F401 - the UI tests' lineage checks

REPO = Path(__file__).resolve().parents[1]
CHAIN = ("roll_calls", "vote_matrix", "pca_init", "posterior", "diagnostics", "rankings")
REPOSITORY = "__repository__"
# The sampler of every test that runs whole chains in other processes: a short tuning,
# then sampling in blocks until every gate passes with a margin (stats/stopping.py), so
# a chamber that needs more draws gets them instead of failing a gate.
SAMPLER_ENV = {"IRT_PIPELINE_CHAINS": "4", "IRT_PIPELINE_TUNE": "300", "IRT_PIPELINE_DRAWS": "300"}
# A session whose only landing file breaks the data contract (a vote code it does not know): its
# partition fails at roll_calls while the demo partitions go on.
BAD_SESSION, BAD_CHAMBER = "bad-2024", "Senate"
STARTUP_SECONDS = 300  # limits, not measurements: a loaded 2-core machine is slow
BACKFILL_SECONDS = 40 * 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterUI:
    url: str
    home: Path
    root: Path
    log: Path
    process: subprocess.Popen
    limits: object  # irt_pipeline.instance.InstanceLimits written to its dagster.yaml
    location: str = ""

    def graphql(self, query: str, **variables) -> dict:
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise GraphQLError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def log_tail(self, lines: int = 80) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])

    @property
    def repository_selector(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": REPOSITORY}


@dataclass
class DemoBackfill:
    ui: DagsterUI
    backfill_id: str
    status: str
    partitions: list[str]  # demo partitions, all expected to pass
    bad_partition: str
    runs: list[dict] = field(default_factory=list)


def _wait_until_loaded(ui: DagsterUI) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    last = None
    while time.monotonic() < deadline:
        if ui.process.poll() is not None:
            raise AssertionError(f"dagster dev exited with {ui.process.returncode}:\n{ui.log_tail()}")
        try:
            data = ui.graphql(
                """{ workspaceOrError { __typename ... on Workspace { locationEntries {
                      name loadStatus locationOrLoadError { __typename
                        ... on PythonError { message } } } } } }"""
            )
            entries = data["workspaceOrError"]["locationEntries"]
            last = entries
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                if errors:
                    raise AssertionError(f"code location failed to load: {errors}")
                ui.location = entries[0]["name"]
                return
        except (requests.ConnectionError, requests.Timeout, requests.HTTPError):
            pass
        time.sleep(2)
    raise AssertionError(f"dagster dev not ready after {STARTUP_SECONDS} s (last: {last}):\n{ui.log_tail()}")


def start_dagster_dev(
    home: Path, root: Path, log: Path, limits=None, env: dict | None = None, daemon: bool = True,
    repo: Path = REPO, venv_bin: Path | None = None, sampler_env: dict = SAMPLER_ENV,
) -> DagsterUI:
    """`dagster dev -w workspace.yaml` on 127.0.0.1 and a free port, on DAGSTER_HOME
    `home` and storage root `root`, in a process group of its own; returns once the
    code location has loaded. Stop it with `stop_dagster_dev`. daemon=False: the
    webserver alone (no sensors, no backfills: for looking at what is stored).
    `repo`/`venv_bin`: another checkout of the project and its venv's bin folder
    (default: this one and this interpreter's); `sampler_env`: the sampler settings
    (default the tests' short one; {} for the project's defaults)."""
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "IRT_PIPELINE_ROOT": str(root),
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
        **sampler_env,
        **(env or {}),
    }
    command = ["dagster", "dev"] if daemon else ["dagster-webserver"]
    command[0] = str((venv_bin or Path(sys.executable).parent) / command[0])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "-w", str(repo / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: teardown kills every child
        )
    ui = DagsterUI(url=f"http://127.0.0.1:{port}", home=home, root=root, log=log, process=process, limits=limits)
    try:
        _wait_until_loaded(ui)
    except BaseException:
        stop_dagster_dev(ui)
        raise
    return ui


def stop_dagster_dev(ui: DagsterUI) -> None:
    try:
        os.killpg(ui.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    ui.process.wait(timeout=60)


@contextlib.contextmanager
def running_dagster_ui(base: Path, sampler_env: dict, daemon: bool = True):
    """`start_dagster_dev` with its own DAGSTER_HOME (the project's instance template)
    and storage root under `base`, the sampler configured by `sampler_env`; killed with
    its whole process group on exit."""
    from irt_pipeline.instance import instance_limits, prepare_dagster_home

    home, root = base / "dagster_home", base / "root"
    limits = instance_limits(chains=int(sampler_env["IRT_PIPELINE_CHAINS"]))
    prepare_dagster_home(home, limits)
    (root / "landing").mkdir(parents=True, exist_ok=True)
    ui = start_dagster_dev(home, root, base / "dagster_dev.log", limits, env=sampler_env, daemon=daemon)
    try:
        yield ui
    finally:
        stop_dagster_dev(ui)


@pytest.fixture(scope="session")
def dagster_ui(tmp_path_factory):
    """The demo server of the UI tests (see `running_dagster_ui`)."""
    with running_dagster_ui(tmp_path_factory.mktemp("dagster_ui"), SAMPLER_ENV) as ui:
        yield ui


def stop_sensors(ui: DagsterUI) -> list[str]:
    """Stop every running sensor (landing, automation): the backfill alone must run
    the partitions. Returns the names stopped."""
    data = ui.graphql(
        """query($sel: RepositorySelector!) { sensorsOrError(repositorySelector: $sel) {
             __typename ... on Sensors { results { id name sensorState { status } } }
             ... on PythonError { message } } }""",
        sel=ui.repository_selector,
    )
    sensors = data["sensorsOrError"]
    assert sensors["__typename"] == "Sensors", sensors
    stopped = []
    for sensor in sensors["results"]:
        if sensor["sensorState"]["status"] != "RUNNING":
            continue
        result = ui.graphql(
            """mutation($id: String!) { stopSensor(id: $id) { __typename
                 ... on StopSensorMutationResult { instigationState { status } }
                 ... on PythonError { message } } }""",
            id=sensor["id"],
        )["stopSensor"]
        assert result.get("instigationState", {}).get("status") == "STOPPED", result
        stopped.append(sensor["name"])
    return stopped


def write_bad_landing(landing: Path) -> str:
    """The demo 2023 Senate relabelled as session BAD_SESSION with a vote code the
    contract does not know ('Maybe'): it breaks the contract."""
    from irt_pipeline.demo import DEMO_DATA

    with DEMO_DATA.joinpath("demo-2023_Senate.parquet").open("rb") as handle:
        frame = pd.read_parquet(handle)
    frame = frame.assign(session=BAD_SESSION)
    frame.loc[frame.index[:5], "vote"] = "Maybe"
    name = f"{BAD_SESSION}_{BAD_CHAMBER}.parquet"
    frame.to_parquet(landing / name, index=False)
    return name


def add_session(ui: DagsterUI, session: str) -> None:
    result = ui.graphql(
        """mutation($sel: RepositorySelector!, $key: String!) {
             addDynamicPartition(repositorySelector: $sel, partitionsDefName: "session", partitionKey: $key) {
               __typename ... on AddDynamicPartitionSuccess { partitionKey }
               ... on Error { message } } }""",
        sel=ui.repository_selector,
        key=session,
    )["addDynamicPartition"]
    assert result["__typename"] == "AddDynamicPartitionSuccess", result


def launch_backfill(
    ui: DagsterUI, partitions: list[str], assets=CHAIN, title: str = "demo sessions x chambers", tags=None
) -> str:
    """A partition backfill of `assets`; `tags`: run tags (name -> value)."""
    result = ui.graphql(
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }""",
        params={
            "assetSelection": [{"path": [name]} for name in assets],
            "partitionNames": partitions,
            "title": title,
            "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
        },
    )["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


BACKFILL_QUERY = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { id status numPartitions }
  ... on Error { message } } }"""

RUNS_QUERY = """query($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
  __typename ... on Runs { results { runId status startTime endTime
    tags { key value } assetSelection { path } } } } }"""


def wait_for_backfill(ui: DagsterUI, backfill_id: str, seconds: float = BACKFILL_SECONDS) -> str:
    """The backfill's final status, once every one of its runs has ended; AssertionError
    after `seconds`."""
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        backfill = ui.graphql(BACKFILL_QUERY, id=backfill_id)["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        status = backfill["status"]
        if status not in ("REQUESTED", "CANCELING", "FAILING"):
            runs = backfill_runs(ui, backfill_id)
            if all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
                return status
        if ui.process.poll() is not None:
            raise AssertionError(f"dagster dev exited during the backfill:\n{ui.log_tail()}")
        time.sleep(5)
    raise AssertionError(f"backfill {backfill_id} still {status} after {seconds} s:\n{ui.log_tail()}")


def backfill_runs(ui: DagsterUI, backfill_id: str) -> list[dict]:
    runs = ui.graphql(RUNS_QUERY, id=backfill_id)["runsOrError"]
    assert runs["__typename"] == "Runs", runs
    for run in runs["results"]:
        run["tag_map"] = {t["key"]: t["value"] for t in run["tags"]}
    return runs["results"]


@pytest.fixture(scope="session")
def demo_backfill(dagster_ui, single_machine) -> DemoBackfill:
    """One partition backfill of the whole chain over every demo session and chamber
    and the bad partition, launched through GraphQL and waited for.

    The server's cache first receives what the session's single-machine runs have
    stored (services.py: fits of the demo partitions with the same settings and code,
    when the multi-machine tests ran before; contract verdicts): their posterior
    steps then reuse those fits. What these tests read is what the chain stores and
    shows; the draws of a fit do not depend on where it ran (test_celery_workers.py
    compares the two). A fit the cache cannot serve is sampled, as without it."""
    from upath import UPath

    from irt_pipeline.demo import DEMO_CHAMBERS, copy_demo_landing
    from irt_pipeline.partitions import partition_key

    ui = dagster_ui
    stop_sensors(ui)
    single_machine.seed_cache(ui.root)
    landing = ui.root / "landing"
    copy_demo_landing(UPath(landing))
    write_bad_landing(landing)
    sessions = sorted({c.session for c in DEMO_CHAMBERS})
    for session in [*sessions, BAD_SESSION]:
        add_session(ui, session)
    demo = [str(partition_key(c.session, c.chamber)) for c in DEMO_CHAMBERS]
    bad = str(partition_key(BAD_SESSION, BAD_CHAMBER))
    backfill_id = launch_backfill(ui, [*demo, bad])
    status = wait_for_backfill(ui, backfill_id)
    return DemoBackfill(
        ui=ui,
        backfill_id=backfill_id,
        status=status,
        partitions=demo,
        bad_partition=bad,
        runs=backfill_runs(ui, backfill_id),
    )
