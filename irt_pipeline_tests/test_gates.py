"""Every gate blocks through Dagster: a posterior whose parameter group is unconverged
fails that group's gate, its rankings are not written in the run, and a later run of
rankings alone refuses it naming the gate. Every model, every group.

The posteriors are stand-ins with known defects (one chain shifted for one group), so
each gate is tested alone; test_pipeline.py does the same with real draws."""

from __future__ import annotations

import importlib

import dagster as dg
import pytest
from stand_ins import stand_in_sampler

from irt_pipeline.assets import CATALOG
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import MODELS

SESSION, CHAMBER = "g-2023", "Senate"
POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")
CHAINS = {
    key: (CATALOG.chain(key), spec.asset("rankings"), CATALOG.asset(key, "rankings"))
    for key, spec in CATALOG.models.items()
}
CASES = [(model, group) for model, spec in MODELS.items() for group in spec.gated]


@pytest.fixture
def partition(instance, storage_root):
    rows, _ = simulate_chamber(DemoChamber(SESSION, CHAMBER, 20, 40, 5))
    rows.to_parquet(storage_root / "landing" / f"{SESSION}_{CHAMBER}.parquet", index=False)
    instance.add_dynamic_partitions("session", [SESSION])
    return instance, storage_root


def stand_in(stuck: str | None):
    """A sampler returning iid draws of every reported variable, except that chain 0
    of the gate group `stuck` sits elsewhere (unconverged)."""
    return stand_in_sampler(lambda spec, matrix: {name: 1.0 for name in spec.gated.get(stuck, ())})


def run(instance, root, assets, selection=None):
    return dg.materialize(
        assets,
        instance=instance,
        partition_key=partition_key(SESSION, CHAMBER),
        resources=make_definitions(root=str(root)).resources,
        raise_on_error=False,
        selection=selection,
    )


def failure_text(result) -> str:
    errors = [e.event_specific_data.error for e in result.all_events if e.is_step_failure and e.event_specific_data]
    return " ".join(err.message + " ".join(c.message for c in [err.cause] if c) for err in errors if err)


def test_every_gate_of_a_converged_stand_in_passes(partition, monkeypatch):
    instance, root = partition
    monkeypatch.setattr(POSTERIOR_MODULE, "sample", stand_in(None))
    for model, (assets, ranked, _) in CHAINS.items():
        result = run(instance, root, assets)
        assert result.success, model
        evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert {g.name for g in gates_for(MODELS[model].gated)} <= set(evaluations)
        assert all(evaluations.values())
        assert (root / ranked / CHAMBER / f"{SESSION}.parquet").exists()


@pytest.mark.parametrize(("model", "group"), CASES)
def test_an_unconverged_group_fails_its_gate_and_rankings_are_refused(partition, monkeypatch, model, group):
    instance, root = partition
    assets, ranked, ranked_asset = CHAINS[model]
    monkeypatch.setattr(POSTERIOR_MODULE, "sample", stand_in(group))
    result = run(instance, root, assets)
    assert not result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations[f"rhat_{group}"] is False
    others = [g.name for g in gates_for(MODELS[model].gated) if not g.name.endswith(f"_{group}")]
    assert all(evaluations[name] for name in others), evaluations
    written = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert ranked not in written
    assert not (root / ranked / CHAMBER / f"{SESSION}.parquet").exists()

    # A run of the rankings alone reads the stored posterior and must refuse it.
    later = run(instance, root, assets, selection=[ranked_asset])
    assert not later.success
    text = failure_text(later)
    assert "refusing to rank" in text and f"rhat_{group}=" in text
    assert not (root / ranked / CHAMBER / f"{SESSION}.parquet").exists()
