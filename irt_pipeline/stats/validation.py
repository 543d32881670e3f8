"""Compare estimated ideal points with known or external ones."""

from __future__ import annotations

import numpy as np
import pandas as pd


def recovery(rankings: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """How well rankings recover true standardized ideal points.

    rankings: legislator_id, xi_mean, xi_hdi_low, xi_hdi_high; truth: legislator_id,
    xi_true (standardized over the whole chamber). The truth is restandardized over the
    legislators that were ranked, the scale the model reports.
    Returns Pearson r and the share of true values inside their 94% HDIs.
    """
    merged = rankings.merge(truth[["legislator_id", "xi_true"]], on="legislator_id")
    true = merged["xi_true"].to_numpy()
    true = (true - true.mean()) / true.std()
    inside = (merged["xi_hdi_low"] <= true) & (true <= merged["xi_hdi_high"])
    return {
        "legislators": len(merged),
        "pearson_r": float(np.corrcoef(merged["xi_mean"], true)[0, 1]),
        "hdi94_coverage": float(inside.mean()),
    }
