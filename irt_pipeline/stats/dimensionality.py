"""Is one dimension enough? The verdict of a partition, out of sample, from the stored
PSIS-LOO of its one-dimensional (default) and its two-dimensional posterior.

Per observed vote, each model's `loo` table holds loo_i = log p(y_i | every other vote),
PSIS's estimate of the probability the model gives the vote when it was not fitted to
it. A vote is classified correctly out of sample when exp(loo_i) > 0.5. Over the votes:

- oos_gain: the share of votes the 2D model classifies correctly out of sample minus the
  1D model's (no refit: both from the stored tables). In sample the plane, with one
  more parameter per legislator and per roll call, classifies more of the votes it was
  fitted to almost anywhere; out of sample that advantage is gone unless the votes have
  a second dimension (bench/calibrate_dimensionality.py, docs/models.md).
- oos_gain_se: its standard error over votes, sqrt(var(c2_i - c1_i) / N) for c_i the
  per-vote 0/1 "classified correctly" (the votes as a sample, as elpd_diff's se).
- elpd_diff, se: the sum over votes of loo_i(2D) - loo_i(1D) and its standard error
  sqrt(N var(diff_i)) (what `az.compare` reports as dse).

A vote whose loo_i is not finite or whose Pareto k exceeds the tables' good_k in either
model is unreliable. Where the two models' estimates classify an unreliable vote alike
it counts as a tie (on the 73rd and 88th Senates, 4 of 138 and 9 of 1,069 unreliable
votes are classified differently); where they differ, or a loo_i is not finite, the vote
is undecided: the gain is bounded, [oos_gain_low, oos_gain_high], counting each
undecided vote as won by one model or by the other, and the verdict must hold at both
ends.

Three outcomes (`VERDICTS`):
- "the second dimension matters": oos_gain_low - GAIN_SE_MULTIPLE * oos_gain_se >
  OOS_GAIN_MIN and elpd_diff > ELPD_SE_MULTIPLE * se. The 1D scale leaves out a division
  of the chamber that predicts held-out votes: read the plane beside it.
- "one dimension is enough": oos_gain_high + GAIN_SE_MULTIPLE * oos_gain_se <=
  OOS_GAIN_MIN, or elpd_diff <= ELPD_SE_MULTIPLE * se with no unreliable vote (every
  figure finite).
- "undetermined": anything else: a figure that is not finite, a gain within
  GAIN_SE_MULTIPLE se of the threshold (too close to call from these votes), unreliable
  votes enough to put the gain on both sides of the threshold (or to stand behind an
  elpd_diff that does not clear while the gain might), a posterior whose gates are not
  shown passed or two tables over different votes (the caller's `problems`). Never read
  as "enough".

OOS_GAIN_MIN is set from chambers simulated from fitted one-dimensional posteriors
(the real Senates' xi, alpha, beta and their missingness): the number and the
false-warning rate measured are next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MATTERS, ENOUGH, UNDETERMINED = "the second dimension matters", "one dimension is enough", "undetermined"
VERDICTS = (MATTERS, ENOUGH, UNDETERMINED)
ELPD_SE_MULTIPLE = 4.0
# One vote in 200 classified better out of sample. Measured (docs/models.md, "The
# dimensionality verdict"; bench/calibrate_dimensionality.py): on 6 chambers simulated from
# the 73rd's and 88th's fitted 1D posteriors (150 roll calls each) the plane's gain was
# -0.14% .. +0.04%; on 4 more from the 110th's and 114th's, -0.04% .. +0.02%: 0 of 10
# said to matter and the check passed in all 10 (a rate bounded below 26% at 95% by so few);
# on the real 73rd and 88th it is 6.8% and 8.1%.
OOS_GAIN_MIN = 0.005
# How sure the gain must be of its side of the threshold. Without it, the 110th and 111th
# Senates were "matters" at +0.54 and +0.57 points, se 0.08 and 0.06: half a se and one se
# above the threshold, a verdict the sample of votes could as well have turned.
GAIN_SE_MULTIPLE = 2.0
LOG_HALF = math.log(0.5)


def rule_text() -> str:
    return (
        f"the second dimension matters when the 2D model classifies more than {OOS_GAIN_MIN:.1%} more of the "
        f"votes correctly out of sample (PSIS-LOO, exp(loo_i) > 0.5; every undecided vote counted against it) "
        f"by at least {GAIN_SE_MULTIPLE:g} se of the gain, and elpd_diff > {ELPD_SE_MULTIPLE:g} se; one dimension "
        f"is enough when the gain cannot exceed {OOS_GAIN_MIN:.1%} (by {GAIN_SE_MULTIPLE:g} se), or elpd_diff <= "
        f"{ELPD_SE_MULTIPLE:g} se with every PSIS estimate reliable; undetermined otherwise, a gain too close to "
        "the threshold included (never read as enough)"
    )


def out_of_sample_figures(loo_1d, k_1d, loo_2d, k_2d, good_k: float) -> dict:
    """The figures of the module docstring from the two models' per-vote loo_i and Pareto
    k, (N,) each over the same votes in the same order. Returns a JSON-ready dict."""
    loo_1d, loo_2d = np.asarray(loo_1d, float), np.asarray(loo_2d, float)
    k_1d, k_2d = np.asarray(k_1d, float), np.asarray(k_2d, float)
    n = len(loo_1d)
    if n == 0 or not (len(loo_2d) == len(k_1d) == len(k_2d) == n):
        raise ValueError("the two models' LOO figures are not over the same, non-empty votes")
    missing = ~np.isfinite(loo_1d) | ~np.isfinite(loo_2d)
    unreliable = missing.copy()
    for k in (k_1d, k_2d):
        unreliable |= ~np.isfinite(k) | (k > good_k)
    correct_1d, correct_2d = loo_1d > LOG_HALF, loo_2d > LOG_HALF  # NaN compares False
    undecided = missing | (unreliable & (correct_1d != correct_2d))
    gained = correct_2d.astype(int) - correct_1d.astype(int)  # (N,) -1, 0, +1
    won = np.where(undecided, 0, gained)
    spread = int(undecided.sum())
    diff = loo_2d - loo_1d
    with np.errstate(invalid="ignore"):
        elpd_diff = float(diff.sum())
        se = float(math.sqrt(n * np.var(diff))) if np.all(np.isfinite(diff)) else float("nan")
    return {
        "votes": n,
        "elpd_loo_1d": float(loo_1d.sum()),
        "elpd_loo_2d": float(loo_2d.sum()),
        "elpd_diff": elpd_diff,
        "se": se,
        "share_correct_oos_1d": float(correct_1d.mean()),
        "share_correct_oos_2d": float(correct_2d.mean()),
        "oos_gain": float(gained.mean()),
        "oos_gain_se": float(gained.std() / math.sqrt(n)),
        "oos_gain_low": float((won.sum() - spread) / n),
        "oos_gain_high": float((won.sum() + spread) / n),
        "unreliable_votes": int(unreliable.sum()),
        "undecided_votes": spread,
        "pareto_k_above_good_1d": int((k_1d > good_k).sum()),
        "pareto_k_above_good_2d": int((k_2d > good_k).sum()),
        "good_k": float(good_k),
    }


def judge(figures: dict, problems=()) -> tuple[str, list[str]]:
    """(verdict, reasons) from `out_of_sample_figures`' dict and the caller's problems
    (e.g. gates not shown passed): one of `VERDICTS`, with why it is undetermined."""
    if problems:
        return UNDETERMINED, list(problems)
    reasons = []
    names = ("elpd_diff", "se", "oos_gain_low", "oos_gain_high", "oos_gain_se")
    values = {name: figures.get(name) for name in names}
    bad = [name for name, v in values.items() if not (isinstance(v, (int, float)) and math.isfinite(v))]
    if bad:
        reasons.append(f"not finite: {', '.join(bad)}")
    if reasons:
        return UNDETERMINED, reasons
    elpd_clears = values["elpd_diff"] > ELPD_SE_MULTIPLE * values["se"]
    margin = GAIN_SE_MULTIPLE * values["oos_gain_se"]
    if elpd_clears and values["oos_gain_low"] - margin > OOS_GAIN_MIN:
        return MATTERS, []
    unreliable, undecided = figures.get("unreliable_votes", 0), figures.get("undecided_votes", 0)
    if values["oos_gain_high"] + margin <= OOS_GAIN_MIN or (not elpd_clears and unreliable == 0):
        return ENOUGH, []
    if elpd_clears and not values["oos_gain_low"] <= OOS_GAIN_MIN < values["oos_gain_high"]:
        return UNDETERMINED, [  # the undecided votes alone would not straddle it: the margin does
            f"the out-of-sample gain {figures.get('oos_gain', values['oos_gain_low']):+.2%} (se "
            f"{values['oos_gain_se']:.2%}) is within {GAIN_SE_MULTIPLE:g} se of the threshold {OOS_GAIN_MIN:.1%}: "
            "too close to call from these votes"
        ]
    if not elpd_clears:
        return UNDETERMINED, [
            f"elpd_diff {values['elpd_diff']:.1f} does not clear {ELPD_SE_MULTIPLE:g} se ({values['se']:.1f}) over "
            f"votes of which {unreliable} have unreliable PSIS estimates (Pareto k > "
            f"{figures.get('good_k', float('nan')):.2f} or not finite), while the out-of-sample gain may exceed "
            f"{OOS_GAIN_MIN:.1%} (up to {values['oos_gain_high']:+.2%})"
        ]
    return UNDETERMINED, [
        f"{undecided} votes with unreliable PSIS estimates (Pareto k > "
        f"{figures.get('good_k', float('nan')):.2f} or not finite) that the two models classify differently "
        "put the out-of-sample gain between "
        f"{values['oos_gain_low']:+.2%} and {values['oos_gain_high']:+.2%}, on both sides of {OOS_GAIN_MIN:.1%}"
    ]


def in_vote_order(table: pd.DataFrame, votes: pd.DataFrame) -> pd.DataFrame:
    """`table` (a `loo_table` frame) reordered to the votes (legislator_id, roll_call_id)
    of `votes`; ValueError if the two do not hold the same votes."""
    key = ["legislator_id", "roll_call_id"]
    order = pd.MultiIndex.from_frame(table[key]).get_indexer(pd.MultiIndex.from_frame(votes[key]))
    if len(table) != len(votes) or (order < 0).any():
        raise ValueError("the two models' LOO tables are not over the same votes")
    return table.iloc[order].reset_index(drop=True).__finalize__(table)


def dimensionality_verdict(loo_1d: pd.DataFrame, loo_2d: pd.DataFrame, problems=(), in_sample=None) -> dict:
    """The verdict from the two models' stored `loo_table` frames (any vote order) and the
    problems that make it undetermined whatever the figures (gates not shown passed ...;
    then no figure is computed). in_sample: optional (share correct 1D, 2D) in sample,
    reported beside the out-of-sample figures, not judged. Returns a JSON-ready dict:
    verdict, reasons, second_dimension_matters (True, False, or None when
    undetermined), the figures of `out_of_sample_figures` and the rule."""
    problems = list(problems)
    figures: dict = {}
    if not problems:
        try:
            loo_2d = in_vote_order(loo_2d, loo_1d)
        except ValueError as exc:
            problems.append(str(exc))
    if not problems:
        good_k = min(float(loo_1d.attrs.get("good_k", 0.7)), float(loo_2d.attrs.get("good_k", 0.7)))
        figures = out_of_sample_figures(
            loo_1d["loo_i"], loo_1d["pareto_k"], loo_2d["loo_i"], loo_2d["pareto_k"], good_k
        )
        if in_sample is not None:
            one, two = (float(v) for v in in_sample)
            figures.update(share_correct_1d=one, share_correct_2d=two, classification_gain=two - one)
    verdict, reasons = judge(figures, problems)
    return {
        "verdict": verdict,
        "reasons": reasons,
        "second_dimension_matters": {MATTERS: True, ENOUGH: False}.get(verdict),
        **figures,
        "rule": rule_text(),
        "oos_gain_min": OOS_GAIN_MIN,
        "elpd_se_multiple": ELPD_SE_MULTIPLE,
    }
