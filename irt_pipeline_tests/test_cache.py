"""The posterior cache through Dagster, on a small simulated Senate and a tiny sampler
(2 chains x 100 + 100: the gates may fail, which does not matter here).

Sampler calls are counted by wrapping `sample` where the posterior asset
looks it up. Unchanged inputs: no call, byte-identical outputs, metadata says "hit".
One changed vote, a code-version bump, the force tag, or an unreadable entry: a call.
"""

from __future__ import annotations

import importlib
import json

import dagster as dg
import pandas as pd
import pytest

from irt_pipeline import cli
from irt_pipeline.assets import CHAIN, posterior
from irt_pipeline.cache import FORCE_REFIT_TAG
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import Sampler

SESSION = "c-2023"
CHAMBER = "Senate"
LANDING = f"{SESSION}_{CHAMBER}.parquet"
TINY = Sampler(chains=2, tune=100, draws=100, max_draws=100)
# The module, not the asset of the same name that irt_pipeline.assets exports.
POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")


@pytest.fixture
def calls(monkeypatch) -> list:
    """Records every call of the sampler the posterior asset uses (and still samples)."""
    recorded = []
    real = POSTERIOR_MODULE.sample

    def counting(*args, **kwargs):
        recorded.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(POSTERIOR_MODULE, "sample", counting)
    return recorded


@pytest.fixture
def root(instance, storage_root):
    rows, _ = simulate_chamber(DemoChamber(SESSION, CHAMBER, 30, 60, 11))
    rows.to_parquet(storage_root / "landing" / LANDING, index=False)
    instance.add_dynamic_partitions("session", [SESSION])
    return storage_root


def materialize(instance, root, assets=CHAIN, tags=None):
    defs = make_definitions(root=str(root), sampler=TINY)
    return dg.materialize(
        assets,
        instance=instance,
        partition_key=partition_key(SESSION, CHAMBER),
        resources=defs.resources,
        tags=tags,
        raise_on_error=False,
    )


def materialization(result, asset: str) -> dg.AssetMaterialization:
    (event,) = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return event


def cache_status(result) -> tuple[str, str]:
    metadata = materialization(result, "posterior").metadata
    return metadata["cache"].value, metadata["cache_key"].value


def snapshot(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def cache_entries(root) -> list[str]:
    return sorted(p.name for p in (root / "cache" / "posterior").glob("*.nc"))


def change_one_vote(root) -> None:
    """Flip one Yea/Nay of the landing file that the vote matrix keeps."""
    matrix = pd.read_parquet(root / "vote_matrix" / CHAMBER / f"{SESSION}.parquet")
    kept = matrix.iloc[0]
    path = root / "landing" / LANDING
    rows = pd.read_parquet(path)
    cell = (rows["roll_call_id"] == kept["roll_call_id"]) & (rows["legislator_id"] == kept["legislator_id"])
    assert cell.sum() == 1 and rows.loc[cell, "vote"].item() in ("Yea", "Nay")
    rows.loc[cell, "vote"] = "Nay" if rows.loc[cell, "vote"].item() == "Yea" else "Yea"
    rows.to_parquet(path, index=False)


def test_unchanged_partition_reuses_the_stored_posterior_byte_for_byte(instance, root, calls):
    first = materialize(instance, root)
    assert len(calls) == 1
    status, key = cache_status(first)
    assert status == "miss"
    assert cache_entries(root) == [f"{key}.nc"]
    before = snapshot(root)

    second = materialize(instance, root)
    assert len(calls) == 1, "the sampler ran although nothing changed"
    assert cache_status(second) == ("hit", key)
    metadata = materialization(second, "posterior").metadata
    assert metadata["cache_hit"].value is True
    assert metadata["cache_age_seconds"].value >= 0
    assert metadata["cache_fitted_at"].value == materialization(first, "posterior").metadata["cache_fitted_at"].value
    assert metadata["cache_entry"].value.endswith(f"cache/posterior/{key}.nc")
    assert metadata["cache_key_parts"].value["settings"]["draws"] == 100
    assert snapshot(root) == before  # every output and the cache entry, byte for byte
    for asset in ("posterior", "diagnostics"):
        assert (
            materialization(second, asset).tags["dagster/data_version"]
            == materialization(first, asset).tags["dagster/data_version"]
        )


def test_one_changed_vote_refits_and_keeps_the_old_entry(instance, root, calls):
    first = materialize(instance, root)
    _, old_key = cache_status(first)
    change_one_vote(root)
    second = materialize(instance, root)
    assert len(calls) == 2
    status, new_key = cache_status(second)
    assert status == "miss" and new_key != old_key
    assert (
        materialization(second, "vote_matrix").tags["dagster/data_version"]
        != materialization(first, "vote_matrix").tags["dagster/data_version"]
    )
    assert cache_entries(root) == sorted([f"{old_key}.nc", f"{new_key}.nc"])


def test_code_version_bump_refits(instance, root, calls):
    first = materialize(instance, root)
    bumped = posterior.map_asset_specs(lambda spec: spec.replace_attributes(code_version="bumped"))
    chain = [bumped if asset is posterior else asset for asset in CHAIN]
    second = materialize(instance, root, assets=chain)
    assert len(calls) == 2
    status, key = cache_status(second)
    assert status == "miss" and key != cache_status(first)[1]
    code_version = materialization(second, "posterior").metadata["cache_key_parts"].value["code_version"]
    assert code_version.startswith("bumped+")


def test_force_refit_tag_samples_again_under_the_same_key(instance, root, calls):
    first = materialize(instance, root)
    second = materialize(instance, root, tags={FORCE_REFIT_TAG: "true"})
    assert len(calls) == 2
    assert cache_status(second) == ("forced", cache_status(first)[1])
    assert materialization(second, "posterior").metadata["cache_hit"].value is False


def test_unreadable_entry_is_refit_not_trusted(instance, root, calls):
    first = materialize(instance, root)
    _, key = cache_status(first)
    entry = root / "cache" / "posterior" / f"{key}.nc"
    entry.write_bytes(b"not a NetCDF file")
    second = materialize(instance, root)
    assert len(calls) == 2
    assert cache_status(second) == ("miss", key)
    assert entry.read_bytes()[:4] == b"\x89HDF"  # a real NetCDF-4 file again


def test_cli_run_reports_computed_and_reused_steps(instance, root, calls, monkeypatch):
    defs = make_definitions(root=str(root), sampler=TINY)
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    first = cli.run_partition(instance, SESSION, CHAMBER)
    second = cli.run_partition(instance, SESSION, CHAMBER)
    forced = cli.run_partition(instance, SESSION, CHAMBER, force_refit=True)
    assert len(calls) == 2
    upstream = {"roll_calls": "computed", "vote_matrix": "computed", "pca_init": "computed"}
    assert first["steps"] == {**upstream, "posterior": "computed", **pick(first["steps"], "diagnostics", "rankings")}
    assert second["steps"] == {**first["steps"], "posterior": "reused"}
    assert forced["steps"] == first["steps"]
    assert first["steps"]["diagnostics"] == "computed"
    assert first["steps"]["rankings"] in ("computed", "not run")  # "not run" when a gate failed


def pick(mapping: dict, *keys) -> dict:
    return {k: mapping[k] for k in keys}


def test_rows_that_passed_the_contract_are_not_validated_again(instance, root, monkeypatch):
    """The contract's verdict is cached like a posterior: a pass is recorded under
    cache/contract/ and the same rows are not validated again; an unreadable record is
    not trusted, and rows that changed are validated (and refused) afresh."""
    from irt_pipeline import contract

    real = contract.validate_roll_calls
    validated = []

    def counting(frame, where):
        validated.append(where)
        return real(frame, where)

    monkeypatch.setattr(contract, "validate_roll_calls", counting)
    only_roll_calls = [CHAIN[0]]

    def contract_of(result):
        metadata = materialization(result, "roll_calls").metadata
        (check,) = result.get_asset_check_evaluations()
        assert check.passed and check.metadata["contract"].value == metadata["contract"].value
        return metadata["contract"].value, metadata["contract_verdict"].value

    first = materialize(instance, root, only_roll_calls)
    status, verdict = contract_of(first)
    assert (status, len(validated)) == ("validated", 1)
    (recorded,) = (root / "cache" / "contract").glob("*.json")
    assert str(recorded) == verdict
    record = json.loads(recorded.read_text())
    assert record["passed"] is True and record["rows"] == materialization(first, "roll_calls").tags["dagster/data_version"]
    assert record["expectations"] == len(contract.roll_call_suite()["expectations"])

    second = materialize(instance, root, only_roll_calls)
    assert contract_of(second) == ("reused", verdict) and len(validated) == 1
    assert recorded.read_text() == json.dumps(record, indent=1)

    recorded.write_text('{"passed": tru')  # torn or edited by hand: validated again
    third = materialize(instance, root, only_roll_calls)
    assert contract_of(third) == ("validated", verdict) and len(validated) == 2
    assert json.loads(recorded.read_text()) == record
    recorded.write_text(json.dumps({**record, "key": "0" * 32}))  # another rows' pass
    assert contract_of(materialize(instance, root, only_roll_calls))[0] == "validated" and len(validated) == 3

    rows = pd.read_parquet(root / "landing" / LANDING)
    rows.loc[3, "vote"] = "Maybe"
    rows.to_parquet(root / "landing" / LANDING, index=False)
    refused = materialize(instance, root, only_roll_calls)
    assert not refused.success and len(validated) == 4
    (check,) = refused.get_asset_check_evaluations()
    assert not check.passed
    assert "column 'vote' has values outside" in check.metadata["problem"].value and "'Maybe'" in check.metadata["problem"].value
    assert list((root / "cache" / "contract").glob("*.json")) == [recorded]  # no pass recorded for them
