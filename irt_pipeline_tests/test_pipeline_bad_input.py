"""Bad landing files through Dagster (roll_calls -> vote_matrix -> pca_init): each fails
with a check result naming the file/partition and the problem, and nothing under the
storage root is modified or deleted."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from irt_pipeline.assets import pca_init, roll_calls, vote_matrix
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import VoteFilters

SESSION = "t-2023"
CHAMBER = "Senate"
LANDING_NAME = f"{SESSION}_{CHAMBER}.parquet"
WHERE = f"partition session={SESSION} chamber={CHAMBER}"
ASSETS = [roll_calls, vote_matrix, pca_init]
OUTPUTS = [f"{asset}/{CHAMBER}/{SESSION}.parquet" for asset in ("roll_calls", "vote_matrix", "pca_init")]


def good_rows(seed: int = 5) -> pd.DataFrame:
    rows, _ = simulate_chamber(DemoChamber(SESSION, CHAMBER, 30, 60, seed))
    return rows


def snapshot(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run(instance, root, raise_on_error=False):
    defs = make_definitions(root=str(root))
    return dg.materialize(
        ASSETS,
        instance=instance,
        partition_key=partition_key(SESSION, CHAMBER),
        resources=defs.resources,
        raise_on_error=raise_on_error,
    )


@pytest.fixture
def partition(instance, storage_root):
    instance.add_dynamic_partitions("session", [SESSION])
    return instance, storage_root


def checks(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def step_failures(result) -> list[str]:
    return [
        e.event_specific_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]


def test_good_partition_materializes_and_passes_its_checks(partition):
    instance, root = partition
    good_rows().to_parquet(root / "landing" / LANDING_NAME, index=False)
    result = run(instance, root, raise_on_error=True)
    assert result.success
    evaluations = checks(result)
    assert {name: e.passed for name, e in evaluations.items()} == {"roll_call_contract": True, "vote_matrix_usable": True}
    assert evaluations["roll_call_contract"].partition == partition_key(SESSION, CHAMBER)
    files = snapshot(root)
    (verdict,) = [name for name in files if name.startswith("cache/contract/")]  # the contract's pass
    assert json.loads(files[verdict])["passed"] is True
    assert sorted(files) == sorted([f"landing/{LANDING_NAME}", *OUTPUTS, verdict])
    stored = pd.read_parquet(root / "roll_calls" / CHAMBER / f"{SESSION}.parquet")
    assert len(stored) == len(good_rows())
    scores = pd.read_parquet(root / "pca_init" / CHAMBER / f"{SESSION}.parquet")
    means = scores.groupby("party")["pc1"].mean()
    assert means["Republican"] > means["Democrat"]


# Each bad landing file: (how to make it, failing check, where it must name, problem text)
def empty_parquet(frame):
    return frame.iloc[:0]


def missing_party(frame):
    return frame.drop(columns="party")


def unknown_vote(frame):
    frame = frame.copy()
    frame.loc[frame.index[:3], "vote"] = "Maybe"
    return frame


def duplicate_rows(frame):
    repeat = frame.iloc[[0, 1]].assign(vote=lambda f: np.where(f["vote"] == "Yea", "Nay", "Yea"))
    return pd.concat([frame, repeat], ignore_index=True)


def one_party(frame):
    return frame.assign(party="Republican")


def nothing_left(frame):
    return frame.assign(vote="Yea")  # every roll call unanimous


CONTRACT_FILE = f"{LANDING_NAME} ({WHERE})"
BAD_INPUTS = {
    "empty file": (empty_parquet, "roll_call_contract", CONTRACT_FILE, "the file has no rows"),
    "missing column": (missing_party, "roll_call_contract", CONTRACT_FILE, "missing column 'party'"),
    "unknown vote category": (
        unknown_vote,
        "roll_call_contract",
        CONTRACT_FILE,
        "column 'vote' has values outside ['Absent', 'Nay', 'Not Voting', 'Present', 'Yea'] (3 row(s), e.g. ['Maybe'",
    ),
    "duplicate rows": (
        duplicate_rows,
        "roll_call_contract",
        CONTRACT_FILE,
        "duplicate rows for ['session', 'chamber', 'roll_call_id', 'legislator_id'] (4 row(s)",
    ),
    # Found before roll_calls writes anything: the stored partition stays as it was.
    "one party": (
        one_party,
        "roll_call_contract",
        CONTRACT_FILE,
        "no rule says which way is conservative here: its parties ['Republican'] are no pair of the built-in "
        "party poles; declare it in",
    ),
    "nothing left": (
        nothing_left,
        "roll_call_contract",
        CONTRACT_FILE,
        "nothing left after filtering (0 legislators, 0 roll calls remain of 30 and 60; "
        "min_minority_share=0.025, min_votes=20)",
    ),
}


def assert_fails_cleanly(instance, root, check_name, where, problem):
    before = snapshot(root)
    result = run(instance, root)
    assert not result.success
    evaluation = checks(result)[check_name]
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.partition == partition_key(SESSION, CHAMBER)
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["where"] == where
    assert problem in metadata["problem"]
    # the run's failure message says the same
    assert any(where in m and problem in m for m in step_failures(result))
    # nothing downstream of the failure ran
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "pca_init" not in materialized
    # nothing under the storage root was written, modified or deleted
    assert snapshot(root) == before


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_landing_file_fails_with_a_named_problem_and_touches_nothing(partition, case):
    instance, root = partition
    make, check_name, where, problem = BAD_INPUTS[case]
    make(good_rows()).to_parquet(root / "landing" / LANDING_NAME, index=False)
    assert_fails_cleanly(instance, root, check_name, where, problem)
    assert not any(name.startswith(("roll_calls/", "vote_matrix/", "pca_init/")) for name in snapshot(root))


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_landing_file_leaves_the_previous_good_output_byte_identical(partition, case):
    instance, root = partition
    landing = root / "landing" / LANDING_NAME
    good_rows().to_parquet(landing, index=False)
    assert run(instance, root).success
    good = snapshot(root)
    assert set(OUTPUTS) <= set(good)

    make, check_name, where, problem = BAD_INPUTS[case]
    make(good_rows()).to_parquet(landing, index=False)
    bad_landing = landing.read_bytes()
    assert_fails_cleanly(instance, root, check_name, where, problem)
    after = snapshot(root)
    assert after.pop(f"landing/{LANDING_NAME}") == bad_landing
    good.pop(f"landing/{LANDING_NAME}")
    assert after == good


def test_unreadable_parquet_names_the_file(partition):
    instance, root = partition
    landing = root / "landing" / LANDING_NAME
    landing.write_bytes(b"")  # a zero-byte file
    before = snapshot(root)
    result = run(instance, root)
    assert not result.success
    evaluation = checks(result)["roll_call_contract"]
    assert evaluation.passed is False
    assert evaluation.metadata["where"].value == str(landing)
    assert evaluation.metadata["problem"].value.startswith("not a readable parquet file")
    assert snapshot(root) == before


def test_partition_without_landing_files_names_the_partition(partition):
    instance, root = partition
    (root / "landing" / f"{SESSION}_House.parquet").write_bytes(b"not for this partition")
    before = snapshot(root)
    result = run(instance, root)
    assert not result.success
    evaluation = checks(result)["roll_call_contract"]
    assert evaluation.passed is False
    assert evaluation.metadata["where"].value == WHERE
    assert "no landing files for this partition" in evaluation.metadata["problem"].value
    assert snapshot(root) == before


def test_vote_matrix_check_fails_on_stored_rows_that_stricter_filters_empty(partition):
    """roll_calls stored earlier, then vote_matrix alone with filters nothing passes:
    its own blocking check fails, naming the partition, and no file changes."""
    instance, root = partition
    good_rows().to_parquet(root / "landing" / LANDING_NAME, index=False)
    assert run(instance, root).success
    before = snapshot(root)
    defs = make_definitions(root=str(root), vote_filters=VoteFilters(min_votes=61))
    result = dg.materialize(
        ASSETS,
        selection=[vote_matrix, pca_init],
        instance=instance,
        partition_key=partition_key(SESSION, CHAMBER),
        resources=defs.resources,
        raise_on_error=False,
    )
    assert not result.success
    evaluation = checks(result)["vote_matrix_usable"]
    assert evaluation.passed is False
    assert evaluation.partition == partition_key(SESSION, CHAMBER)
    assert evaluation.metadata["where"].value == WHERE
    assert evaluation.metadata["problem"].value.startswith("nothing left after filtering (0 legislators")
    assert "min_votes=61" in evaluation.metadata["problem"].value
    assert any(f"{WHERE}: nothing left after filtering" in m for m in step_failures(result))
    assert result.get_asset_materialization_events() == []
    assert snapshot(root) == before
