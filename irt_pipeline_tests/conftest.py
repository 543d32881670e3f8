"""Shared fixtures: a temporary storage root and Dagster instance, and the real
Voteview files in ../shared (present in CI; tests that need them skip elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One `dagster dev` and one demo backfill per test session, shared by the UI tests.
from ui_server import dagster_ui, demo_backfill  # noqa: F401

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
