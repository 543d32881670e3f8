"""The whole chain of one small simulated partition through Dagster: gates as blocking
checks, recovered ideal points, rankings, and a failing gate that blocks rankings now
and later."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from irt_pipeline.assets import CHAIN, rankings
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import Sampler
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import hierarchical
from irt_pipeline.stats.rankings import RANKING_COLUMNS
from irt_pipeline.stats.validation import recovery

SESSION, CHAMBER = "sim-2023", "Senate"
GATES = {g.name for g in gates_for(hierarchical.SPEC.gated)}
# Small data, enough draws for the gates: 4 chains x 400 draws on 40 x 150 votes.
GOOD = Sampler(chains=4, tune=300, draws=400, seed=7)
TOO_FEW_DRAWS = Sampler(chains=2, tune=15, draws=15, max_draws=15, seed=7)


@pytest.fixture(scope="module")
def simulated():
    return simulate_chamber(DemoChamber(SESSION, CHAMBER, 40, 150, seed=11))


@pytest.fixture
def partition(instance, storage_root, simulated):
    rows, truth = simulated
    rows.to_parquet(storage_root / "landing" / f"{SESSION}_{CHAMBER}.parquet", index=False)
    instance.add_dynamic_partitions("session", [SESSION])
    return instance, storage_root, truth


def materialize(instance, root, sampler, selection=None):
    defs = make_definitions(root=str(root), sampler=sampler)
    return dg.materialize(
        CHAIN,
        instance=instance,
        partition_key=partition_key(SESSION, CHAMBER),
        resources=defs.resources,
        raise_on_error=False,
        selection=selection,
    )


def gate_results(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.check_name in GATES}


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_chain_passes_gates_and_recovers_the_simulated_legislature(partition):
    instance, root, truth = partition
    result = materialize(instance, root, GOOD)
    assert result.success
    assert gate_results(result) == {gate: True for gate in GATES}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["roll_call_contract"].passed and checks["vote_matrix_usable"].passed
    assert all(e.partition == partition_key(SESSION, CHAMBER) for e in checks.values())
    assert materialized(result) == {a.key.to_user_string() for a in CHAIN}

    table = pd.read_parquet(root / "rankings" / CHAMBER / f"{SESSION}.parquet")
    assert list(table.columns) == RANKING_COLUMNS
    assert len(table) == 40 and list(table["rank"]) == list(range(1, 41))
    assert table["xi_mean"].is_monotonic_decreasing
    assert (table["xi_hdi_low"] < table["xi_mean"]).all() and (table["xi_mean"] < table["xi_hdi_high"]).all()
    # Reported scale: standardized, positive = conservative.
    assert table["xi_mean"].mean() == pytest.approx(0.0, abs=0.02)
    by_party = table.groupby("party")["xi_mean"].mean()
    assert by_party["Republican"] > 0 > by_party["Democrat"]

    fit = recovery(table, truth)
    assert fit["pearson_r"] >= 0.97
    assert 0.8 <= fit["hdi94_coverage"] <= 1.0


def test_failing_gate_blocks_rankings_in_the_run_and_in_a_later_rankings_only_run(partition):
    instance, root, _ = partition
    good = materialize(instance, root, GOOD)
    assert good.success
    ranking_file = root / "rankings" / CHAMBER / f"{SESSION}.parquet"
    good_bytes = ranking_file.read_bytes()

    bad = materialize(instance, root, TOO_FEW_DRAWS)
    assert not bad.success
    gates = gate_results(bad)
    assert gates["ess_bulk_xi"] is False  # 30 draws cannot reach a bulk ESS of 400
    assert "rankings" not in materialized(bad)
    assert {"posterior", "diagnostics"} <= materialized(bad)
    assert ranking_file.read_bytes() == good_bytes

    # A run of rankings alone reads the failed posterior and must refuse it.
    later = materialize(instance, root, GOOD, selection=[rankings])
    assert not later.success
    errors = [
        e.event_specific_data.error
        for e in later.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]
    text = " ".join(err.message + " ".join(c.message for c in [err.cause] if c) for err in errors)
    assert "refusing to rank" in text and "ess_bulk_xi" in text
    assert ranking_file.read_bytes() == good_bytes
    assert np.isfinite(pd.read_parquet(ranking_file)["xi_mean"]).all()
