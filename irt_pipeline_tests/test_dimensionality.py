"""The dimensionality verdict's rule on constructed PSIS-LOO tables: a clear out-of-sample
gain says the second dimension matters, no gain says one is enough, and a figure that is
not finite, unreliable votes (Pareto k) that could decide it, gates not shown passed or
tables over other votes say "undetermined", never "enough"."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from irt_pipeline.stats.dimensionality import (
    ENOUGH, MATTERS, OOS_GAIN_MIN, UNDETERMINED, dimensionality_verdict, out_of_sample_figures,
)

N = 2000
RIGHT, WRONG = math.log(0.7), math.log(0.3)  # loo_i of a vote classified right / wrong out of sample


def table(loo_i, pareto_k=None, good_k: float = 0.7) -> pd.DataFrame:
    """A `loo_table`-shaped frame over N votes of 40 legislators x 50 roll calls."""
    frame = pd.DataFrame({
        "legislator_id": [f"L{i // 50:02d}" for i in range(N)],
        "roll_call_id": [f"R{i % 50:02d}" for i in range(N)],
        "vote": np.arange(N) % 2,
        "loo_i": np.asarray(loo_i, float),
        "pareto_k": np.zeros(N) if pareto_k is None else np.asarray(pareto_k, float),
    })
    frame.attrs.update(good_k=good_k, posterior_id="p")
    return frame


def one_dimensional() -> np.ndarray:
    """loo_i of a model that classifies 80% of the votes right out of sample."""
    return np.where(np.arange(N) % 5 == 0, WRONG, RIGHT)


def with_gain(share: float) -> np.ndarray:
    """The 1D table with the first `share` * N of its wrong votes classified right."""
    loo = one_dimensional()
    wrong = np.flatnonzero(loo == WRONG)[: int(round(share * N))]
    loo[wrong] = RIGHT
    return loo


def test_a_clear_out_of_sample_gain_says_the_second_dimension_matters():
    result = dimensionality_verdict(table(one_dimensional()), table(with_gain(0.05)))
    assert result["verdict"] == MATTERS and result["second_dimension_matters"] is True
    assert result["oos_gain"] == pytest.approx(0.05) and result["oos_gain_low"] == pytest.approx(0.05)
    assert result["share_correct_oos_1d"] == pytest.approx(0.8) and result["share_correct_oos_2d"] == pytest.approx(0.85)
    diff = with_gain(0.05) - one_dimensional()
    assert result["elpd_diff"] == pytest.approx(diff.sum()) and result["se"] == pytest.approx(math.sqrt(N * diff.var()))
    gained = (with_gain(0.05) > math.log(0.5)).astype(int) - (one_dimensional() > math.log(0.5)).astype(int)
    assert result["oos_gain_se"] == pytest.approx(gained.std() / math.sqrt(N))
    assert result["reasons"] == []


def test_a_gain_within_two_se_of_the_threshold_is_too_close_to_call():
    """The gain must be GAIN_SE_MULTIPLE se clear of the threshold on its side: +0.6
    points with se 0.1 is undetermined (the 110th Senate's case: +0.54, se 0.07), +0.9 is
    a second dimension, +0.2 is one dimension."""
    from irt_pipeline.stats.dimensionality import GAIN_SE_MULTIPLE, judge

    assert GAIN_SE_MULTIPLE == 2.0
    figures = {"elpd_diff": 600.0, "se": 37.0, "unreliable_votes": 0, "undecided_votes": 0, "oos_gain_se": 0.001}
    for gain, expected in ((0.006, UNDETERMINED), (0.0045, UNDETERMINED), (0.009, MATTERS), (0.002, ENOUGH)):
        verdict, reasons = judge({**figures, "oos_gain": gain, "oos_gain_low": gain, "oos_gain_high": gain})
        assert verdict == expected, gain
        assert (verdict == UNDETERMINED) == any("too close to call" in r for r in reasons)
    # Two undecided votes that move the gain by 0.01 points are not why: the margin is.
    verdict, reasons = judge({**figures, "undecided_votes": 2, "unreliable_votes": 5, "oos_gain": 0.0054,
                              "oos_gain_low": 0.0053, "oos_gain_high": 0.0055})
    assert verdict == UNDETERMINED and "too close to call" in reasons[0]


def test_no_out_of_sample_gain_says_one_dimension_is_enough_whatever_the_in_sample_gain():
    rng = np.random.default_rng(0)
    two = one_dimensional() + rng.normal(0.0, 0.01, N)  # the same votes right, log scores jittered
    result = dimensionality_verdict(table(one_dimensional()), table(two), in_sample=(0.80, 0.83))
    assert result["verdict"] == ENOUGH and result["second_dimension_matters"] is False
    assert result["oos_gain"] == 0.0 and result["classification_gain"] == pytest.approx(0.03)


def test_a_gain_at_the_threshold_is_not_a_warning():
    result = dimensionality_verdict(table(one_dimensional()), table(with_gain(OOS_GAIN_MIN)))
    assert result["oos_gain"] == pytest.approx(OOS_GAIN_MIN) and result["verdict"] == ENOUGH


def test_a_figure_not_finite_is_undetermined_never_enough():
    two = one_dimensional()
    two[7] = np.nan
    result = dimensionality_verdict(table(one_dimensional()), table(two))
    assert result["verdict"] == UNDETERMINED and result["second_dimension_matters"] is None
    assert any("not finite" in reason for reason in result["reasons"])


def test_unreliable_votes_that_could_decide_the_gain_make_it_undetermined():
    k = np.zeros(N)
    k[:300] = 0.9  # 15% of the votes with Pareto k above good_k in the 2D model
    result = dimensionality_verdict(table(one_dimensional()), table(with_gain(0.02), pareto_k=k))
    assert result["unreliable_votes"] == 300 and result["pareto_k_above_good_2d"] == 300
    # of which the 40 the 2D model wins are classified differently: undecided; the rest tie
    assert result["undecided_votes"] == 40 and result["oos_gain"] == pytest.approx(0.02)
    assert result["oos_gain_low"] < OOS_GAIN_MIN < result["oos_gain_high"]
    assert result["verdict"] == UNDETERMINED and "Pareto k" in result["reasons"][0]
    # A few unreliable votes do not: the gain clears the threshold at its lower bound.
    k[10:] = 0.0
    result = dimensionality_verdict(table(one_dimensional()), table(with_gain(0.02), pareto_k=k))
    assert result["unreliable_votes"] == 10 and result["undecided_votes"] == 2 and result["verdict"] == MATTERS


def test_an_elpd_that_does_not_clear_over_unreliable_votes_is_undetermined():
    figures = out_of_sample_figures(one_dimensional(), np.zeros(N), with_gain(0.05), np.zeros(N), 0.7)
    figures.update(elpd_diff=1.0, se=10.0)  # below 4 se, yet the gain is clear
    from irt_pipeline.stats.dimensionality import judge

    assert judge(figures)[0] == ENOUGH  # every estimate reliable: the elpd arm decides
    figures.update(unreliable_votes=5, oos_gain_low=0.045, oos_gain_high=0.055)
    verdict, reasons = judge(figures)
    assert verdict == UNDETERMINED and "does not clear" in reasons[0]


def test_gates_not_shown_passed_or_other_votes_are_undetermined():
    problems = ["the 2d model's gates are not shown passed: rhat_xi_2 1.2"]
    result = dimensionality_verdict(table(one_dimensional()), table(with_gain(0.05)), problems)
    assert result["verdict"] == UNDETERMINED and result["reasons"] == problems and "oos_gain" not in result
    other = table(with_gain(0.05))
    other.loc[3, "roll_call_id"] = "R99"
    result = dimensionality_verdict(table(one_dimensional()), other)
    assert result["verdict"] == UNDETERMINED and "same votes" in result["reasons"][0]


def test_the_tables_are_matched_by_vote_not_by_row():
    two = table(with_gain(0.05))
    shuffled = two.sample(frac=1.0, random_state=1).reset_index(drop=True)
    shuffled.attrs.update(two.attrs)
    a = dimensionality_verdict(table(one_dimensional()), two)
    b = dimensionality_verdict(table(one_dimensional()), shuffled)
    assert a["verdict"] == b["verdict"] == MATTERS
    for name in ("oos_gain", "elpd_diff", "se"):
        assert a[name] == pytest.approx(b[name], rel=1e-12)


def passed_gates(spec) -> dict:
    """A diagnostics record of posterior "p" in which every gate of `spec` passes."""
    from irt_pipeline.stats.diagnostics import gates_for

    values = {"<": lambda t: t / 2, ">": lambda t: t * 2, "==": lambda t: t}
    gates = [{"gate": g.name, "value": values[g.op](g.threshold), "passed": True} for g in gates_for(spec.gated)]
    return {"posterior_id": "p", "gates": gates, "gates_passed": True}


@pytest.mark.parametrize(
    ("two", "gated", "verdict", "passed", "says"),
    [
        (with_gain(0.05), True, MATTERS, False, "the second dimension matters here"),
        (one_dimensional(), True, ENOUGH, True, "one dimension is enough here"),
        (with_gain(0.05), False, UNDETERMINED, False, "undetermined: the 2d model's gates are not shown passed"),
    ],
)
def test_the_asset_check_passes_only_when_one_dimension_is_enough(two, gated, verdict, passed, says):
    import dagster as dg

    from irt_pipeline.assets.dimensionality import dimensionality_asset
    from irt_pipeline.partitions import partition_key
    from irt_pipeline.stats.models import DEFAULT, MODELS

    spec = next(s for s in MODELS.values() if s.beside_default)
    asset = dimensionality_asset(MODELS[DEFAULT], spec)
    context = dg.build_asset_context(partition_key=partition_key("73", "Senate"))
    output, check = asset(
        context, loo_1d=table(one_dimensional()), loo_2d=table(two),
        predictive_1d={"posterior_id": "p", "share_correct": 0.8},
        predictive_2d={"posterior_id": "p", "share_correct": 0.86},
        diagnostics_1d=passed_gates(MODELS[DEFAULT]),
        diagnostics_2d=passed_gates(spec) if gated else {**passed_gates(spec), "posterior_id": "older"},
    )
    assert output.value["verdict"] == verdict and output.metadata["verdict"].value == verdict
    assert check.passed is passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description.startswith(says)
