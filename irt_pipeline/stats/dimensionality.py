"""Is one dimension enough? The verdict of a partition, from its one-dimensional and its
two-dimensional posterior.

Two figures, both over the observed votes:

- elpd_diff: PSIS-LOO expected log predictive density of the 2D model minus the 1D
  model's, with the standard error of the difference (`az.compare`'s dse, from the
  pointwise differences): how much better the plane predicts held-out votes.
- classification_gain: share of votes classified correctly (`stats/ppc.py`'s
  share_correct, at P = 0.5 of the posterior mean probability) by the 2D model minus
  the 1D model's: how many votes, in plain numbers, the second dimension explains.

The rule (`second_dimension_matters`): the second dimension clearly matters when both
elpd_diff > ELPD_SE_MULTIPLE * se (a difference no sampling noise of the LOO estimate
explains) and classification_gain > CLASSIFICATION_GAIN_MIN (one vote in a hundred: with
tens of thousands of votes, elpd alone calls almost any extra parameter significant,
so the gain must also be big enough to change what a reader of the scale sees). Then
the 1D scale leaves out a real division of the chamber: read dim 1 of the 2D model next
to it (docs/models.md). The verdict warns; it never blocks the 1D chain.
"""

from __future__ import annotations

ELPD_SE_MULTIPLE = 4.0
CLASSIFICATION_GAIN_MIN = 0.01


def second_dimension_matters(elpd_diff: float, se: float, classification_gain: float) -> bool:
    """The rule of the module docstring (False when a figure is not finite)."""
    import math

    figures = (elpd_diff, se, classification_gain)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in figures):
        return False
    return elpd_diff > ELPD_SE_MULTIPLE * se and classification_gain > CLASSIFICATION_GAIN_MIN


def dimensionality_verdict(loo_1d, loo_2d, share_correct_1d: float, share_correct_2d: float) -> dict:
    """The verdict from the two models' PSIS-LOO (ArviZ ELPDData, pointwise, over the same
    votes) and their shares of votes classified correctly. Returns a JSON-ready dict:
    elpd_loo_1d, elpd_loo_2d, elpd_diff (2D minus 1D), se, share_correct_1d / _2d,
    classification_gain, second_dimension_matters and the rule's thresholds."""
    from irt_pipeline.stats.loo import compare_models

    table = compare_models({"1d": loo_1d, "2d": loo_2d})
    sign = 1.0 if table.index[0] == "2d" else -1.0
    other = table.index[1]
    elpd_diff = sign * float(table.loc[other, "elpd_diff"])
    se = float(table.loc[other, "dse"])
    gain = float(share_correct_2d) - float(share_correct_1d)
    return {
        "elpd_loo_1d": float(loo_1d["elpd_loo"]),
        "elpd_loo_2d": float(loo_2d["elpd_loo"]),
        "elpd_diff": elpd_diff,
        "se": se,
        "share_correct_1d": float(share_correct_1d),
        "share_correct_2d": float(share_correct_2d),
        "classification_gain": gain,
        "second_dimension_matters": second_dimension_matters(elpd_diff, se, gain),
        "rule": f"elpd_diff > {ELPD_SE_MULTIPLE:g} se and classification_gain > {CLASSIFICATION_GAIN_MIN:g}",
    }
