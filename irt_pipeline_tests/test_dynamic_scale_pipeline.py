"""The dynamic scale through Dagster: a simulated Senate with known drifting positions
(drifting_careers: 40 seats, four sessions of 60 roll calls, 15% turnover; one fit, 4
chains, passes its gates at the first look: about 800 kept draws per chain, 15-60 s),
and a fifth session that shares no member with the others.

- `dynamic_scale_job` fits the chamber's sessions in one posterior from their stored
  vote matrices (no per-session posterior is needed), its gates are blocking checks,
  and its scale has the columns of the linking's; the positions recover the truth;
  the unbridged session is left out and named; the posterior names the landing files of
  the sessions it holds; `irt-pipeline scale --method dynamic` prints the stored table;
  a second run samples nothing (the posterior cache); the scale's metadata says how it
  agrees with the linking's stored scale (here stood in for by the truth).
- The scale refuses a stored posterior fitted to other vote matrices than those stored
  now (a session's votes changed since), naming the session.
- A posterior that fails its gates (a sampler far too short) publishes no scale, and the
  scale stored before is left as it was; the panel's orientation follows orientation.csv
  (a Democrat declared on the positive side turns the scale).
"""

from __future__ import annotations

import importlib
import json

import arviz as az
import dagster as dg
import numpy as np
import pandas as pd
import pytest
from simulated import drifting_careers, landing_rows
from test_automation import CHAMBER, change_one_vote, materialize

from irt_pipeline import cli
from irt_pipeline.assets import COMMON
from irt_pipeline.definitions import make_definitions
from irt_pipeline.resources import Sampler
from irt_pipeline.stats import common_scale as cs

TRUTH = drifting_careers(n_seats=40, n_sessions=4, turnover=0.15, drift_sd=0.08, seed=5)
SESSIONS = sorted(TRUTH["session"].unique())  # s-01 ... s-04
UNBRIDGED = "s-05"
SAMPLER = Sampler(chains=4, tune=300, draws=300)  # then until the gates pass
PANEL = importlib.import_module("irt_pipeline.stats.panel_sampling")
ASSETS = ("dynamic_posterior", "dynamic_diagnostics", "dynamic_scale", "dynamic_careers")


def land_sessions(instance, root, defs) -> None:
    """Every session's landing file, roll_calls and vote_matrix (nothing is sampled)."""
    rows = {s: TRUTH[TRUTH["session"] == s] for s in SESSIONS}
    rows[UNBRIDGED] = rows[SESSIONS[-1]].assign(
        session=UNBRIDGED, legislator_id=lambda f: "new-" + f["legislator_id"]
    )
    for i, (session, these) in enumerate(rows.items()):
        landing_rows(these, CHAMBER, 60, i + 10).to_parquet(root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
        instance.add_dynamic_partitions("session", [session])
        assert materialize(instance, defs, COMMON[:2], session).success


def run_dynamic(instance, defs, tags=None):
    return defs.resolve_job_def("dynamic_scale_job").execute_in_process(
        instance=instance, partition_key=CHAMBER, raise_on_error=False, tags=tags
    )


def materialized(result) -> dict:
    return {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}


def checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in (ev.event_specific_data for ev in result.all_events
                                              if ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION)}


def test_the_dynamic_scale_fits_every_session_once_gated_and_serves_the_scale(
    instance, storage_root, monkeypatch, capsys
):
    defs = make_definitions(root=str(storage_root), sampler=SAMPLER)
    land_sessions(instance, storage_root, defs)
    # the linking's scale as stored, stood in for by the truth: the dynamic scale says how it agrees
    (storage_root / "common_scale").mkdir()
    TRUTH.rename(columns={"z_true": "position_mean"}).to_parquet(storage_root / "common_scale" / f"{CHAMBER}.parquet")
    calls = []
    real = PANEL.sample_bound
    monkeypatch.setattr(PANEL, "sample_bound", lambda *a, **k: calls.append(1) or real(*a, **k))

    result = run_dynamic(instance, defs)
    assert result.success, cli.run_failures(result)
    metadata = materialized(result)
    assert set(metadata) == set(ASSETS)
    verdicts = checks(result)
    assert verdicts and all(verdicts.values()), verdicts
    assert {"rhat_omega", "ess_tail_xi", "ess_bulk_party", "divergences"} <= set(verdicts)

    posterior = metadata["dynamic_posterior"]
    assert posterior["sessions"].value == ",".join(SESSIONS)
    left_out = posterior["left_out"].value
    assert list(left_out) == [UNBRIDGED]
    assert f"only 0 legislator(s) served in both {SESSIONS[-1]} and {UNBRIDGED}" in left_out[UNBRIDGED]
    files = sorted(entry["file"].rsplit("/", 1)[-1] for entry in posterior["landing_files"].value)
    assert files == [f"{s}_{CHAMBER}.parquet" for s in SESSIONS]
    assert all(len(entry["sha256"]) == 64 for entry in posterior["landing_files"].value)

    table = pd.read_parquet(storage_root / "dynamic_scale" / f"{CHAMBER}.parquet")
    assert list(table.columns) == ["chamber", *cs.LEGISLATOR_SESSION_COLUMNS]
    assert len(table) == 4 * 40 and set(table["session"]) == set(SESSIONS)
    # the truth on the panel's units: z_true standardized over every legislator-session
    truth = TRUTH.set_index(["session", "legislator_id"])["z_true"]
    z = truth.loc[list(zip(table["session"], table["legislator_id"]))].to_numpy()
    z = (z - z.mean()) / z.std()
    assert np.corrcoef(table["position_mean"], z)[0, 1] >= 0.95
    covered = (table["position_hdi_low"] <= z) & (z <= table["position_hdi_high"])
    assert covered.mean() >= 0.85
    sd = table.groupby("session")["position_sd"].median()
    assert sd[SESSIONS[-1]] <= 1.5 * sd[SESSIONS[0]]  # no piling up of uncertainty along the panel
    agreement = metadata["dynamic_scale"]["agreement_with_linking"].value
    assert agreement["legislator_sessions"] == len(table) and agreement["sessions"] == 4
    assert agreement["pooled_r"] == pytest.approx(np.corrcoef(table["position_mean"], z)[0, 1], abs=1e-9)
    assert agreement["min_session_r"] >= 0.85 and agreement["most_different_session"] in SESSIONS
    assert all(f"| {s} " in metadata["dynamic_scale"]["agreement_by_session"].value for s in SESSIONS)
    careers = pd.read_parquet(storage_root / "dynamic_careers" / f"{CHAMBER}.parquet")
    assert list(careers.columns) == cs.CAREER_COLUMNS and careers["sessions"].sum() == len(table)
    assert calls == [1]

    # the CLI prints the stored table; the run behind it samples nothing (the cache)
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    monkeypatch.setattr("irt_pipeline.instance.get_instance", lambda: instance)
    capsys.readouterr()
    assert cli.main(["scale", "--chamber", CHAMBER, "--method", "dynamic", "--format", "json"]) == 0
    out = capsys.readouterr()
    printed = pd.DataFrame(json.loads(out.out))
    assert list(printed.columns) == list(table.columns) and len(printed) == len(table)
    np.testing.assert_allclose(printed["position_mean"], table["position_mean"])
    (summary,) = [line for line in out.err.splitlines() if line.startswith('{"chamber"')]
    assert json.loads(summary)["method"] == "dynamic" and json.loads(summary)["left_out"] == left_out
    assert json.loads(summary)["agreement_with_linking"] == agreement
    assert calls == [1], "a second run refit the panel"

    # a session's votes change: the stored posterior no longer publishes a scale
    before = (storage_root / "dynamic_scale" / f"{CHAMBER}.parquet").read_bytes()
    change_one_vote(storage_root, SESSIONS[0])
    assert materialize(instance, defs, COMMON[:2], SESSIONS[0]).success
    stale = defs.resolve_job_def("dynamic_scale_job").execute_in_process(
        instance=instance, partition_key=CHAMBER, raise_on_error=False,
        asset_selection=[dg.AssetKey("dynamic_scale"), dg.AssetKey("dynamic_careers")],
    )
    assert not stale.success
    (failure,) = cli.run_failures(stale)
    assert f"fitted to other vote matrices of {SESSIONS[0]} than those stored now" in failure
    assert (storage_root / "dynamic_scale" / f"{CHAMBER}.parquet").read_bytes() == before

    # a posterior that fails its gates publishes nothing; the stored scale stays. Its
    # orientation follows orientation.csv, as every session's does: a Democrat declared
    # on the positive side turns the scale
    democrat = TRUTH.loc[TRUTH["party"] == "Democrat"].groupby("legislator_id").size().idxmax()
    (storage_root / "orientation.csv").write_text(f"session,chamber,legislator_id,side\n*,{CHAMBER},{democrat},+\n")
    short = make_definitions(root=str(storage_root), sampler=Sampler(chains=2, tune=30, draws=30, max_draws=30))
    failed = run_dynamic(instance, short)
    assert not failed.success
    verdicts = checks(failed)
    assert verdicts and not all(verdicts.values())
    assert set(materialized(failed)) == {"dynamic_posterior", "dynamic_diagnostics"}
    assert (storage_root / "dynamic_scale" / f"{CHAMBER}.parquet").read_bytes() == before
    assert len(calls) >= 2
    declared = materialized(failed)["dynamic_posterior"]
    assert "declared in" in declared["orientation"].value and "orientation.csv" in declared["orientation"].value
    xi = az.from_netcdf(declared["cache_entry"].value).posterior["xi"].mean(("chain", "draw")).to_series()
    party = TRUTH.set_index(["session", "legislator_id"])["party"]
    means = xi.groupby([party[tuple(label.split("|", 1))] for label in xi.index]).median()
    assert means["Democrat"] > 0 > means["Republican"], means


def test_an_agreement_that_cannot_be_computed_says_undetermined_and_why(storage_root):
    """No linking stored, a stored file that is not a table, a table of other
    legislators: each says "undetermined" with the reason, never a figure."""
    from irt_pipeline.assets.panel_models import linking_agreement
    from irt_pipeline.resources import Storage

    storage = Storage(root=str(storage_root))
    table = TRUTH.rename(columns={"z_true": "position_mean"})
    poles = ("Republican", "Democrat")
    missing = linking_agreement(storage, CHAMBER, table, poles)["agreement_with_linking"]
    assert missing.startswith("undetermined:") and f"common_scale/{CHAMBER}.parquet is not stored" in missing
    stored = storage_root / "common_scale" / f"{CHAMBER}.parquet"
    stored.parent.mkdir()
    stored.write_bytes(b"not parquet")
    assert linking_agreement(storage, CHAMBER, table, poles)["agreement_with_linking"].startswith("undetermined:")
    table.assign(legislator_id="other-" + table["legislator_id"]).to_parquet(stored)
    other = linking_agreement(storage, CHAMBER, table, poles)["agreement_with_linking"]
    assert other == "undetermined: the two scales share no legislator-session"
