"""First principal component of the vote matrix: a quick ideal-point estimate and the
sampler's start."""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix


def orient(scores: np.ndarray, parties: pd.Series | np.ndarray) -> np.ndarray:
    """Flip `scores` if needed so Republicans' mean is above Democrats' (positive =
    conservative)."""
    parties = np.asarray(parties)
    if scores[parties == "Republican"].mean() < scores[parties == "Democrat"].mean():
        return -scores
    return scores


def pca_scores(matrix: VoteMatrix) -> pd.DataFrame:
    """PCA ideal points, one row per legislator in matrix order.

    Missing cells are imputed with the legislator's mean vote, columns are standardized,
    and the first component's scores are standardized to mean 0 / sd 1 (population sd)
    and oriented so Republicans' mean is above Democrats'.
    Columns: legislator_id, legislator_name, party, pc1. `attrs["explained_variance"]`
    holds the first component's share of variance.
    """
    votes = matrix.votes
    row_mean = np.nanmean(votes, axis=1, keepdims=True)
    filled = np.where(np.isfinite(votes), votes, row_mean)
    centered = filled - filled.mean(axis=0)
    sd = centered.std(axis=0)
    standardized = centered / np.where(sd > 0, sd, 1.0)
    u, s, _ = np.linalg.svd(standardized, full_matrices=False)
    scores = u[:, 0] * s[0]
    scores = (scores - scores.mean()) / scores.std()
    scores = orient(scores, matrix.legislators["party"])
    out = matrix.legislators[["legislator_id", "legislator_name", "party"]].copy()
    out["pc1"] = scores
    out.attrs["explained_variance"] = float(s[0] ** 2 / np.sum(s**2))
    return out
