"""The two-dimensional chain through Dagster beside the default one: posterior_2d passes
its gates on both dimensions, rankings_2d carries both with the plane picture, and the
dimensionality verdict warns (never blocks) exactly when a second dimension is there."""

from __future__ import annotations

import io

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from irt_pipeline.assets import CATALOG
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import Sampler
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.dimensionality import ENOUGH, MATTERS, OOS_GAIN_MIN
from irt_pipeline.stats.models import two_dimensional
from irt_pipeline.stats.rankings import RANKING_COLUMNS_2D
from simulated import two_dimensional_chamber

CHAMBER = "Senate"
GATES_2D = {g.name for g in gates_for(two_dimensional.SPEC.gated)}
SAMPLER = Sampler(chains=4, tune=300, draws=400, seed=7)


def landing_rows(matrix, session: str) -> pd.DataFrame:
    """Canonical rows of a simulated VoteMatrix (missing cells left out)."""
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    legislators = matrix.legislators.iloc[rows]
    return pd.DataFrame(
        {
            "session": session,
            "chamber": CHAMBER,
            "roll_call_id": matrix.roll_calls["roll_call_id"].to_numpy()[cols],
            "legislator_id": legislators["legislator_id"].to_numpy(),
            "legislator_name": legislators["legislator_name"].to_numpy(),
            "party": legislators["party"].to_numpy(),
            "vote": np.where(matrix.votes[rows, cols] == 1.0, "Yea", "Nay"),
            "roll_call_date": "2021-01-10",
            "roll_call_description": "Simulated roll call",
        }
    )


def run_chain(instance, root, session: str, rows: pd.DataFrame):
    rows.to_parquet(root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
    instance.add_dynamic_partitions("session", [session])
    defs = make_definitions(root=str(root), sampler=SAMPLER)
    result = defs.resolve_job_def("two_dimensional_chain").execute_in_process(
        instance=instance, partition_key=partition_key(session, CHAMBER), raise_on_error=False
    )
    return result, {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_one_dimensional_demo_chamber_through_the_cli_and_one_dimension_is_enough(
    instance, storage_root, monkeypatch, capsys
):
    from irt_pipeline import cli

    session = "sim-2023"
    rows, _ = simulate_chamber(DemoChamber(session, CHAMBER, 40, 150, seed=11))
    rows.to_parquet(storage_root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
    defs = make_definitions(root=str(storage_root), sampler=SAMPLER)
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    summary = cli.run_partition(instance, session, CHAMBER, model="2d")
    assert summary["success"], summary["failures"]
    assert set(summary["steps"]) == {a.key.to_user_string() for a in CATALOG.job_assets("2d")}
    checks = {(c["asset"], c["name"]): c["passed"] for c in summary["checks"]}
    assert {name: checks[("diagnostics_2d", name)] for name in GATES_2D} == dict.fromkeys(GATES_2D, True)

    table = pd.read_parquet(storage_root / "rankings_2d" / CHAMBER / f"{session}.parquet")
    assert list(table.columns) == RANKING_COLUMNS_2D and len(table) == 40
    assert list(table["rank"]) == list(range(1, 41)) and table["xi_mean"].is_monotonic_decreasing
    for dim in ("xi", "xi_2"):
        assert ((table[f"{dim}_hdi_low"] < table[f"{dim}_mean"]) & (table[f"{dim}_mean"] < table[f"{dim}_hdi_high"])).all()
    by_party = table.groupby("party")["xi_mean"].mean()
    assert by_party["Republican"] > 0 > by_party["Democrat"]
    # dim 1 of the plane is the one-dimensional scale here
    hier = pd.read_parquet(storage_root / "rankings" / CHAMBER / f"{session}.parquet")
    both = table.merge(hier, on="legislator_id", suffixes=("_2d", "_1d"))
    assert np.corrcoef(both["xi_mean_2d"], both["xi_mean_1d"])[0, 1] > 0.97

    assert checks[("dimensionality", "one_dimension_is_enough")]
    verdict = pd.read_json(storage_root / "dimensionality" / CHAMBER / f"{session}.json", typ="series")
    # The plane classifies a few more votes in sample (it has m + n more parameters),
    # but not the held-out votes: not a second dimension.
    assert verdict["verdict"] == ENOUGH and verdict["second_dimension_matters"] is False
    assert verdict["classification_gain"] > 0 and verdict["oos_gain"] < verdict["classification_gain"]
    assert verdict["elpd_diff"] < 4 * verdict["se"] or verdict["oos_gain_high"] <= OOS_GAIN_MIN
    event = instance.get_latest_materialization_event(dg.AssetKey("rankings_2d"))
    assert "data:image/png;base64," in event.asset_materialization.metadata["plane_plot"].value

    capsys.readouterr()
    assert cli.main(["rankings", "--session", session, "--chamber", CHAMBER, "--model", "2d"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"legislator_id": str})
    assert printed["legislator_id"].tolist() == table["legislator_id"].tolist()
    np.testing.assert_allclose(printed["xi_2_mean"], table["xi_2_mean"], rtol=1e-12)


def test_a_real_second_dimension_fails_the_warn_check_and_blocks_nothing(instance, storage_root):
    session = "sim-2d"
    matrix, _ = two_dimensional_chamber(40, 200, seed=4)
    result, checks = run_chain(instance, storage_root, session, landing_rows(matrix, session))
    assert result.success  # a WARN check failing fails no step
    assert {name: checks[("diagnostics_2d", name)].passed for name in GATES_2D} == dict.fromkeys(GATES_2D, True)
    check = checks[("dimensionality", "one_dimension_is_enough")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    figures = {k: v.value for k, v in check.metadata.items()}
    assert figures["verdict"] == MATTERS
    assert figures["elpd_diff"] > 4 * figures["se"] and figures["oos_gain_low"] - 2 * figures["oos_gain_se"] > OOS_GAIN_MIN
    assert (storage_root / "rankings" / CHAMBER / f"{session}.parquet").exists()
