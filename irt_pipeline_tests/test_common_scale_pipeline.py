"""The common scale through Dagster, on sampled posteriors of a simulated Senate with
known drifting positions (drifting_careers: 24 seats, four sessions, 60 roll calls
each; 4 chains x 1,000 + 1,000 draws: max R-hat 1.005 here, where 400 + 400
missed the R-hat gate on s-02; a couple of seconds per fit).

- A new session (its chain run, as the landing sensor requests it) makes declarative
  automation request the chamber's common scale and nothing else; the common scale then
  holds the new session, every earlier session's rows are unchanged, and the sampler
  ran once for the new session only (counted; re-running the older chains hits the
  posterior cache).
- Sessions whose gates failed, whose diagnostics are missing, whose posterior file is
  unreadable, or that bridge through too few legislators are left out and named;
  `irt-pipeline scale` prints the stored tables.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import re

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from simulated import drifting_careers, landing_rows, truth_on_reference
from test_automation import CHAMBER, materialize

from irt_pipeline import cli
from irt_pipeline.assets import CHAIN, posterior
from irt_pipeline.definitions import make_definitions
from irt_pipeline.resources import Sampler

SAMPLER = Sampler(chains=4, tune=300, draws=300)  # then until the gates pass
TRUTH = drifting_careers(n_seats=24, n_sessions=4, turnover=0.15, drift_sd=0.08, seed=5)
SESSIONS = sorted(TRUTH["session"].unique())  # s-01 ... s-04
POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")
SCALE_ASSETS = {"common_scale", "careers"}


@pytest.fixture
def calls(monkeypatch) -> list:
    """Every call of the sampler the posterior asset uses (it still samples)."""
    recorded = []
    real = POSTERIOR_MODULE.sample

    def counting(spec, matrix, *args, **kwargs):
        recorded.append(matrix.legislators["legislator_id"].iloc[0])
        return real(spec, matrix, *args, **kwargs)

    monkeypatch.setattr(POSTERIOR_MODULE, "sample", counting)
    return recorded


def land(instance, root, session: str, rows: pd.DataFrame | None = None) -> None:
    """The session's landing file and partition, as the landing sensor leaves them."""
    rows = TRUTH[TRUTH["session"] == session] if rows is None else rows
    seed = SESSIONS.index(session) + 10 if session in SESSIONS else 99
    landing_rows(rows, CHAMBER, 60, seed).to_parquet(root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
    instance.add_dynamic_partitions("session", [session])


def run_chain(instance, defs, session: str, assets=CHAIN):
    """The run the landing sensor requests for a new file: `irt_chain` of the partition
    (test_automation's helper: the Senate partition of `session`)."""
    return materialize(instance, defs, assets, session)


def run_scale(instance, defs):
    result = defs.resolve_job_def("common_scale_job").execute_in_process(
        instance=instance, partition_key=CHAMBER, raise_on_error=False
    )
    assert result.success, cli.run_failures(result)
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    assert set(metadata) == SCALE_ASSETS
    return metadata


def stored(root, asset: str) -> pd.DataFrame:
    return pd.read_parquet(root / asset / f"{CHAMBER}.parquet")


def requests(defs, tick) -> dict[str, set[str]]:
    """Requested partitions by asset, over every asset of the definitions."""
    out = {}
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        partitions = tick.get_requested_partitions(key)
        if partitions:
            out[key.to_user_string()] = {str(p) for p in partitions}
    return out


def png_of(metadata, label: str) -> bytes:
    text = metadata[label].value
    assert text.startswith("![") and "data:image/png;base64," in text
    return base64.b64decode(text.split("base64,", 1)[1].rstrip(")"))


def test_a_new_session_updates_the_common_scale_and_refits_nothing_else(instance, storage_root, calls):
    defs = make_definitions(root=str(storage_root), sampler=SAMPLER)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    first, new = SESSIONS[:3], SESSIONS[3]
    for session in first:
        land(instance, storage_root, session)
        assert run_chain(instance, defs, session).success
    assert len(calls) == 3

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requests(defs, tick) == dict.fromkeys(SCALE_ASSETS, {CHAMBER})
    metadata = run_scale(instance, defs)["common_scale"]
    assert metadata["sessions"].value == ", ".join(first)
    assert metadata["left_out"].value == {}
    before = stored(storage_root, "common_scale")
    target = truth_on_reference(TRUTH[TRUTH["session"].isin(first)], "s-01")
    z = target.loc[list(zip(before["session"], before["legislator_id"]))].to_numpy()
    assert len(before) == 3 * 24
    assert np.corrcoef(before["position_mean"], z)[0, 1] >= 0.95
    covered = (before["position_hdi_low"] <= z) & (z <= before["position_hdi_high"])
    assert 0.85 <= covered.mean() <= 1.0
    for label in ("polarization_chart", "trajectories"):
        assert png_of(metadata, label)[:8] == b"\x89PNG\r\n\x1a\n"

    # The new session arrives: its own chain, then automation asks for the common scale only.
    land(instance, storage_root, new)
    assert run_chain(instance, defs, new).success
    assert len(calls) == 4
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requests(defs, tick) == dict.fromkeys(SCALE_ASSETS, {CHAMBER})
    metadata = run_scale(instance, defs)
    assert metadata["common_scale"]["sessions"].value == ", ".join(SESSIONS)
    after = stored(storage_root, "common_scale")
    pd.testing.assert_frame_equal(after[after["session"] != new].reset_index(drop=True), before, check_exact=True)
    assert (after["session"] == new).sum() == 24
    careers = stored(storage_root, "careers")
    assert careers["sessions"].sum() == len(after) and careers["last_session"].eq(new).sum() == 24
    assert len(calls) == 4, "the common scale refit a posterior"
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requests(defs, tick) == {}

    # Even a re-run of the older sessions' chains samples nothing: the posterior cache.
    for session in first:
        result = run_chain(instance, defs, session)
        (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == posterior.key]
        assert event.materialization.metadata["cache"].value == "hit"
    assert len(calls) == 4


def test_failed_gates_missing_diagnostics_and_too_few_bridges_are_left_out_and_named(
    instance, storage_root, calls, monkeypatch, capsys
):
    defs = make_definitions(root=str(storage_root), sampler=SAMPLER)
    s1, s2, s3, s4 = SESSIONS
    for session in (s1, s2):
        land(instance, storage_root, session)
        assert run_chain(instance, defs, session).success
    # s-03: a sampler far too short for the ESS gate; rankings never runs
    land(instance, storage_root, s3)
    short = make_definitions(root=str(storage_root), sampler=Sampler(chains=2, tune=50, draws=50, max_draws=50))
    assert not run_chain(instance, short, s3).success
    assert json.loads((storage_root / "diagnostics" / CHAMBER / f"{s3}.json").read_text())["gates_passed"] is False
    # s-04: only 3 of its members served before; s-05: a posterior without diagnostics
    rows = TRUTH[TRUTH["session"] == s4].copy()
    kept = rows.index[rows["legislator_id"].isin(TRUTH.loc[TRUTH["session"] == s2, "legislator_id"])][:3]
    rows.loc[rows.index.difference(kept), "legislator_id"] = "new-" + rows["legislator_id"]
    land(instance, storage_root, s4, rows)
    assert run_chain(instance, defs, s4).success
    land(instance, storage_root, "s-05", TRUTH[TRUTH["session"] == s4].assign(session="s-05"))
    assert run_chain(instance, defs, "s-05", assets=CHAIN[:4]).success

    metadata = run_scale(instance, defs)["common_scale"]
    left_out = metadata["left_out"].value
    assert metadata["sessions"].value == f"{s1}, {s2}"
    assert list(left_out) == [s3, s4, "s-05"]
    assert s3 in left_out[s3] and "gates" in left_out[s3]
    assert f"only 3 legislator(s) served in both {s2} and {s4} (at least 10 needed)" in left_out[s4]
    assert left_out["s-05"].startswith("no diagnostics stored")
    table = stored(storage_root, "common_scale")
    assert set(table["session"]) == {s1, s2}

    # the CLI: run the job, print the table asked for
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    monkeypatch.setattr("irt_pipeline.instance.get_instance", lambda: instance)
    capsys.readouterr()
    assert cli.main(["scale", "--chamber", CHAMBER, "--format", "json"]) == 0
    out = capsys.readouterr()
    printed = pd.DataFrame(json.loads(out.out))
    assert list(printed.columns) == list(table.columns) and len(printed) == len(table)
    np.testing.assert_allclose(printed["position_mean"], table["position_mean"])
    (summary,) = [line for line in out.err.splitlines() if line.startswith('{"chamber"')]
    assert json.loads(summary)["left_out"] == left_out
    assert cli.main(["scale", "--chamber", CHAMBER, "--table", "careers"]) == 0
    careers = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"legislator_id": str})
    pd.testing.assert_frame_equal(careers[["legislator_id", "sessions"]], stored(storage_root, "careers")[["legislator_id", "sessions"]])
    assert len(calls) == 5  # s-01, s-02, s-04, s-05 and the short s-03; linking sampled nothing

    # a torn posterior file is named, not read; s-01 and s-04 are then runs of one
    # each, and the later one is the scale
    (storage_root / "posterior" / CHAMBER / f"{s2}.nc").write_bytes(b"not a NetCDF file")
    metadata = run_scale(instance, defs)["common_scale"]
    left_out = metadata["left_out"].value
    assert metadata["sessions"].value == s4 and list(metadata["posterior_ids"].value) == [s4]
    assert left_out[s2].startswith("posterior unreadable")
    assert re.match(rf"not linked: only [0-3] legislator\(s\) served in both {s1} and {s4}", left_out[s1])
