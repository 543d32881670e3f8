"""Shared fixtures: a temporary storage root and Dagster instance, the real Voteview
files in ../shared (present in CI; tests that need them skip elsewhere), and a small
simulated Senate for the sampler tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One `dagster dev` and one demo backfill per test session, shared by the UI tests.
from ui_server import dagster_ui, demo_backfill  # noqa: F401

# PostgreSQL, RabbitMQ, S3 and a Dagster cluster on them, for the multi-machine tests.
from services import cluster, compiled_kernels, postgres, rabbitmq, s3_server, single_machine  # noqa: F401

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
