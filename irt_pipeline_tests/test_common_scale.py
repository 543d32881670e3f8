"""The common scale's statistics (stats/common_scale.py) on a simulated chamber with
known drifting positions: eight sessions of 80 seats, 15% turnover per session,
members moving by N(0, 0.08) per session and parties moving apart through
replacement. Per-session posteriors are simulated as the pipeline reports them
(calibrated draws around the standardized truth, each draw standardized), so what is
tested is the linking alone; test_common_scale_pipeline.py runs it through Dagster on
sampled posteriors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simulated import drifting_careers, simulated_posteriors, truth_on_reference

from irt_pipeline.stats import common_scale as cs

SEEDS = (0, 1, 2)


def linked(seed: int, **options):
    truth = drifting_careers(seed=seed)
    scale = cs.link_sessions(simulated_posteriors(truth, seed=seed), **options)
    return truth, scale


def with_truth(truth: pd.DataFrame, scale: cs.CommonScale) -> pd.DataFrame:
    table = cs.legislator_sessions(scale)
    target = truth_on_reference(truth, scale.reference)
    return table.assign(z_true=target.loc[list(zip(table["session"], table["legislator_id"]))].to_numpy())


@pytest.mark.parametrize("seed", SEEDS)
def test_recovers_drifting_positions_with_nominal_coverage(seed):
    truth, scale = linked(seed)
    assert scale.linked == [f"s-{t:02d}" for t in range(1, 9)] and scale.left_out == {}
    table = with_truth(truth, scale)
    assert len(table) == len(truth)
    r = np.corrcoef(table["position_mean"], table["z_true"])[0, 1]
    assert r >= 0.95
    covered = (table["position_hdi_low"] <= table["z_true"]) & (table["z_true"] <= table["position_hdi_high"])
    assert 0.90 <= covered.mean() <= 0.98  # 94% HDIs
    # the reference session is its own scale: mean 0, sd 1 per draw
    reference = scale.draws[scale.reference]
    np.testing.assert_allclose(reference.mean(axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(reference.std(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_party_gap_follows_polarization_and_link_uncertainty_grows_along_the_chain(seed):
    truth, scale = linked(seed)
    table = with_truth(truth, scale)
    medians = table.groupby(["session", "party"])["z_true"].median().unstack()
    true_gap = (medians["Republican"] - medians["Democrat"]).to_numpy()
    gap = cs.party_gap(scale, "Republican", "Democrat")
    covered = (gap["gap_hdi_low"] <= true_gap) & (true_gap <= gap["gap_hdi_high"])
    # the truth rises by 0.2-0.5; chained link error can hide that in one simulation
    # (seed 2), so the test is that the intervals say so
    assert covered.sum() >= 7  # of 8 sessions
    width = gap["gap_hdi_high"] - gap["gap_hdi_low"]
    assert width.iloc[-1] > 2 * width.iloc[0]
    b_sd = cs.links_table(scale)["b_sd"].to_numpy()
    assert b_sd[0] == 0.0 and (b_sd[1:] > 0).all()


def test_careers_trend_intervals_cover_the_true_slopes():
    truth, scale = linked(0)
    career = cs.careers(scale).set_index("legislator_id")
    assert set(career.index) == set(truth["legislator_id"])
    served = truth.groupby("legislator_id")["session"].agg(["first", "last", "count"])
    assert (career.loc[served.index, "first_session"] == served["first"]).all()
    assert (career.loc[served.index, "last_session"] == served["last"]).all()
    assert (career.loc[served.index, "sessions"] == served["count"]).all()
    assert career.loc[served.index[served["count"] == 1], "trend_mean"].isna().all()

    target = with_truth(truth, scale)
    long = target.groupby("legislator_id").filter(lambda rows: len(rows) >= 4)
    slopes = long.groupby("legislator_id").apply(lambda rows: np.polyfit(rows["session_index"], rows["z_true"], 1)[0])
    rows = career.loc[slopes.index]
    covered = (rows["trend_hdi_low"] <= slopes) & (slopes <= rows["trend_hdi_high"])
    assert len(slopes) > 50 and 0.88 <= covered.mean() <= 0.99
    means = long.groupby("legislator_id")["z_true"].mean()
    assert np.corrcoef(career.loc[means.index, "position_mean"], means)[0, 1] > 0.97


def test_a_later_session_leaves_every_earlier_result_unchanged():
    truth = drifting_careers(seed=0)
    posteriors = simulated_posteriors(truth, seed=0)
    shorter = cs.legislator_sessions(cs.link_sessions(posteriors[:-1]))
    longer = cs.legislator_sessions(cs.link_sessions(posteriors[::-1]))  # any input order
    pd.testing.assert_frame_equal(longer[longer["session"] != "s-08"].reset_index(drop=True), shorter, check_exact=True)


def renamed(draws: cs.SessionDraws, prefix: str, keep: int = 0) -> cs.SessionDraws:
    """The session with every legislator but the first `keep` given a new id."""
    ids = draws.legislators["legislator_id"].to_numpy().copy()
    ids[keep:] = [f"{prefix}{i}" for i in ids[keep:]]
    return cs.SessionDraws(draws.session, draws.legislators.assign(legislator_id=ids), draws.xi)


def test_sessions_with_too_few_bridges_are_named_not_guessed():
    posteriors = simulated_posteriors(drifting_careers(seed=0), seed=0)
    # s-03 keeps only 4 members of s-02 (and so of s-04): a run of two, s-03 alone, and
    # s-04 ... s-08 (whose members are renamed consistently)
    later = [renamed(p, "x", keep=0) for p in posteriors[3:]]
    middle = renamed(posteriors[2], "y", keep=4)
    scale = cs.link_sessions([*posteriors[:2], middle, *later], {"s-09": "failed its gates"})
    assert scale.linked == ["s-04", "s-05", "s-06", "s-07", "s-08"]
    assert scale.reference == "s-04"
    assert scale.left_out["s-01"] == scale.left_out["s-02"]
    assert "only 4 legislator(s) served in both s-02 and s-03 (at least 10 needed)" in scale.left_out["s-01"]
    assert "only 0 legislator(s) served in both s-03 and s-04" in scale.left_out["s-03"]
    assert scale.left_out["s-09"] == "failed its gates"
    assert list(scale.left_out) == ["s-01", "s-02", "s-03", "s-09"]
    assert set(cs.legislator_sessions(scale)["session"]) == set(scale.linked)
    assert scale.session_index("s-04") == 3  # left-out sessions keep their place in time


def test_a_party_switch_is_no_bridge_and_one_session_is_its_own_scale():
    posteriors = simulated_posteriors(drifting_careers(n_seats=12, n_sessions=2, turnover=0.0, seed=3), seed=3)
    first, second = posteriors
    switched = second.legislators.copy()
    switched.loc[:2, "party"] = np.where(switched.loc[:2, "party"] == "Democrat", "Republican", "Democrat")
    in_first, in_second = cs.bridges(first.legislators, switched)
    assert len(in_first) == 9 and set(in_second) == set(range(3, 12))
    scale = cs.link_sessions([first, cs.SessionDraws("s-02", switched, second.xi)])
    assert scale.linked == ["s-02"] and "only 9 legislator(s)" in scale.left_out["s-01"]  # a tie: the later run
    table = cs.legislator_sessions(scale)
    np.testing.assert_allclose(table["position_mean"], table["session_xi_mean"])


def test_session_order_compares_numbers_as_numbers():
    assert cs.session_order(["117", "99", "2025-2026", "110"]) == ["99", "110", "117", "2025-2026"]
    assert cs.session_order(["demo-2025", "demo-2023", "s-10", "s-9"]) == ["demo-2023", "demo-2025", "s-9", "s-10"]


def test_regression_linking_is_attenuated_which_is_why_mean_sigma_is_used():
    truth, mean_sigma = linked(0)
    _, regression = linked(0, method="regression")
    gap_ms, gap_reg = cs.party_gap(mean_sigma, "Republican", "Democrat")["gap_mean"], cs.party_gap(regression, "Republican", "Democrat")["gap_mean"]
    # noise in x shrinks each regression slope; chained over 7 links the scale shrinks
    assert gap_reg.iloc[-1] < 0.8 * gap_ms.iloc[-1]
    assert cs.links_table(regression)["b_mean"].iloc[1:].lt(cs.links_table(mean_sigma)["b_mean"].iloc[1:]).all()
    with pytest.raises(ValueError, match="unknown linking method"):
        cs.link_sessions(simulated_posteriors(truth, seed=0), method="ols")


def nominate_table(voteview, congresses) -> pd.DataFrame:
    """DW-NOMINATE's first dimension of the shared Senates as a legislator-sessions table."""
    frames = []
    for congress in congresses:
        members = pd.read_csv(voteview / f"S{congress:03d}_members.csv")
        members = members[(members["chamber"] == "Senate") & members["party_code"].isin([100, 200])]
        frames.append(pd.DataFrame({
            "session": str(congress), "legislator_id": members["icpsr"].astype(str),
            "party": members["party_code"].map({100: "Democrat", 200: "Republican"}),
            "position_mean": members["nominate_dim1"],
        }).dropna())
    return pd.concat(frames, ignore_index=True)


def test_agreement_of_two_scales_names_the_session_they_place_differently(shared_voteview):
    """Two scales of one chamber, each in its own units: a session mapped by its own
    shift and stretch agrees within itself (r = 1) but its party gap, relative to the
    other sessions', parts from the other scale's, and that session is named; a session
    mirrored shows r = -1; scales with nothing in common are refused."""
    poles = ("Republican", "Democrat")
    dw = nominate_table(shared_voteview, range(110, 115))
    per_session, same = cs.agreement(dw, dw, poles)
    assert same["pooled_r"] == pytest.approx(1.0) and per_session["r"].to_numpy() == pytest.approx(1.0)
    assert same["gap_r"] == pytest.approx(1.0) and same["gap_change"] == pytest.approx(same["gap_change_other"])
    gaps = cs.table_gap(dw, *poles)
    assert list(gaps.index) == [str(c) for c in range(110, 115)] and (gaps > 0.5).all()

    shift = {"110": (0.0, 1.0), "111": (0.3, 1.0), "112": (-0.2, 1.6), "113": (0.1, 1.0), "114": (0.0, 1.0)}
    moved = dw.assign(position_mean=[shift[s][0] + shift[s][1] * x for s, x in zip(dw["session"], dw["position_mean"])])
    per_session, summary = cs.agreement(dw, moved, poles)
    assert per_session["r"].to_numpy() == pytest.approx(1.0)
    assert summary["pooled_r"] < 0.99 and summary["most_different_session"] == "112"
    relative = per_session.set_index("session")
    assert relative.loc["112", "gap_other"] / relative.loc["112", "gap"] == pytest.approx(1.6 / (1.6 + 4) * 5, rel=0.05)

    mirrored = dw.assign(position_mean=np.where(dw["session"] == "113", -1.0, 1.0) * dw["position_mean"])
    per_session, summary = cs.agreement(dw, mirrored, None)
    assert per_session.set_index("session").loc["113", "r"] == pytest.approx(-1.0) and summary["min_session_r"] == pytest.approx(-1.0)
    assert summary["gap_r"] is None and "gap" not in per_session
    with pytest.raises(ValueError, match="share no legislator-session"):
        cs.agreement(dw[dw["session"] == "110"], dw[dw["session"] == "111"], poles)
