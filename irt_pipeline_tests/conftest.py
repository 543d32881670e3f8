"""Shared fixtures: a temporary storage root and Dagster instance, the real Voteview
files in ../shared (present in CI; tests that need them skip elsewhere), and a small
simulated Senate for the sampler tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Temporary files in memory when the machine has room for them (tmpfs at /dev/shm with
# at least 4 GiB free; a whole run writes about 1.4 GB, less with pytest's retention
# policy in pyproject.toml): SQLite commits to every Dagster instance of the tests, and
# their connection closes, then cost no disk sync. Measured: 3.3 of the 9.7 s of an
# in-process run of the chain (stand-in sampler, load 8) went to them on disk, ~0.1 s
# on tmpfs. Subprocesses inherit TMPDIR. A TMPDIR set by the user is kept.
SHM = Path("/dev/shm")
SHM_FREE_BYTES = 4 * 2**30


def _memory_temp_root() -> Path | None:
    if os.environ.get("TMPDIR") or not (SHM.is_dir() and os.access(SHM, os.W_OK)):
        return None
    mounts = Path("/proc/mounts").read_text().split("\n") if Path("/proc/mounts").exists() else []
    if not any(line.split()[1:3] == [str(SHM), "tmpfs"] for line in mounts if len(line.split()) > 2):
        return None
    stat = os.statvfs(SHM)
    if stat.f_bavail * stat.f_frsize < SHM_FREE_BYTES:
        return None
    root = SHM / f"irt-pipeline-tests-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


_TEMP_ROOT = _memory_temp_root()
if _TEMP_ROOT is not None:
    os.environ["TMPDIR"] = str(_TEMP_ROOT)
    tempfile.tempdir = str(_TEMP_ROOT)  # gettempdir() may have been read already

# One `dagster dev` and one demo backfill per test session, shared by the UI tests.
from ui_server import dagster_ui, demo_backfill  # noqa: F401

# PostgreSQL, RabbitMQ, S3 and a Dagster cluster on them, for the multi-machine tests.
from services import cluster, compiled_kernels, postgres, rabbitmq, s3_server, single_machine  # noqa: F401

# The session fixtures that start services or fit partitions once for every test that
# asks (the single-machine runs, the UI server and its backfill, PostgreSQL, RabbitMQ,
# the cluster on them).
SHARED_SERVICES = {"single_machine", "dagster_ui", "demo_backfill", "postgres", "rabbitmq", "cluster"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """With `-n 2 --dist loadgroup` (`make test`): each file runs on one worker (its
    module fixtures are built once), and the files that use a shared service all on the
    same one, so that no service is started, nor partition fitted, twice."""
    by_file: dict[Path, list] = {}
    for item in items:
        by_file.setdefault(item.path, []).append(item)
    for path, file_items in by_file.items():
        shared = any(SHARED_SERVICES & set(item.fixturenames) for item in file_items)
        group = "services" if shared else path.stem
        for item in file_items:
            item.add_marker(pytest.mark.xdist_group(group))


REPO = Path(__file__).resolve().parents[1]
SHARED_VOTEVIEW = REPO.parent / "shared" / "data" / "voteview"

# Plots and numba caches must not depend on the developer's machine.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def shared_voteview() -> Path:
    if not (SHARED_VOTEVIEW / "S117_votes.csv").exists():
        pytest.skip(f"real Voteview files not found at {SHARED_VOTEVIEW}")
    return SHARED_VOTEVIEW


@pytest.fixture
def storage_root(tmp_path) -> Path:
    root = tmp_path / "root"
    (root / "landing").mkdir(parents=True)
    return root


@pytest.fixture
def instance():
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(scope="module")
def small_senate():
    """(VoteMatrix, PCA scores) of a simulated 30-member, 80-roll-call Senate."""
    from irt_pipeline.demo import DemoChamber, simulate_chamber
    from irt_pipeline.stats.matrix import build_vote_matrix
    from irt_pipeline.stats.pca import pca_scores

    rows, _ = simulate_chamber(DemoChamber("sim-2021", "Senate", 30, 80, seed=3))
    matrix, _ = build_vote_matrix(rows)
    return matrix, pca_scores(matrix)["pc1"].to_numpy()
