"""First two principal components of the vote matrix: a quick ideal-point estimate and
the samplers' starts (pc1 for the one-dimensional models, pc1 and pc2 for the
two-dimensional one), oriented by the partition's orientation rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.orientation import by_poles


def orient(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`scores` negated if needed so that the orientation rule's r . scores >= 0
    (positive = conservative by the rule, `stats/orientation.py`)."""
    scores = np.asarray(scores, float)
    return -scores if float(np.asarray(weights, float) @ scores) < 0 else scores


def within_correlation(dim1: np.ndarray, dim2: np.ndarray, members: np.ndarray) -> float:
    """Pearson correlation of two score vectors over `members` (boolean (n,)); 0 for
    fewer than 3 members or no spread."""
    a, b = np.asarray(dim1, float)[members], np.asarray(dim2, float)[members]
    if len(a) < 3:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    scale = np.sqrt(np.sum(a**2) * np.sum(b**2))
    return float(np.sum(a * b) / scale) if scale > 1e-300 else 0.0


def second_dimension_lean(dim1: np.ndarray, dim2: np.ndarray, weights: np.ndarray) -> float:
    """The statistic that orients a second dimension: the correlation of dim 1 and dim 2
    among the legislators on the orientation rule's positive side (the conservative
    pole's party, or those declared +) minus that among those on its negative side.
    Positive when each side's members farther from the other side on dim 1 are on the
    positive side of dim 2 (with the party poles of the 1930s-60s, the Southern Democrats
    high on dim 2, as DW-NOMINATE puts them). A second-moment statistic of the sides' own
    shapes: it does not change sign under small changes of the scores."""
    weights = np.asarray(weights, float)
    return within_correlation(dim1, dim2, weights > 0) - within_correlation(dim1, dim2, weights < 0)


def orient_second(dim1: np.ndarray, dim2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """dim2, negated if needed so `second_dimension_lean` is not negative (the rule the
    two-dimensional model's dim 2 follows)."""
    return -dim2 if second_dimension_lean(dim1, dim2, weights) < 0 else dim2


def default_weights(parties) -> np.ndarray:
    """The built-in party-pole rule's r for these labels (`orientation.by_poles`), or
    zeros (no orientation) where no pair of poles sits in the chamber."""
    rule = by_poles(parties)
    return rule.weights if rule is not None else np.zeros(len(parties))


def pca_scores(matrix: VoteMatrix, weights: np.ndarray | None = None) -> pd.DataFrame:
    """PCA ideal points, one row per legislator in matrix order.

    Missing cells are imputed with the legislator's mean vote, columns are standardized,
    and the first two components' scores are standardized to mean 0 / sd 1 (population
    sd); pc1 is oriented by the orientation rule's r, `weights` (n,) (default: the
    built-in party poles where the chamber has a pair), pc2 by `orient_second`. A matrix
    with a single roll call has no second component: pc2 is 0.
    Columns: legislator_id, legislator_name, party, pc1, pc2. `attrs["explained_variance"]`
    and `attrs["explained_variance_pc2"]` hold each component's share of variance.
    """
    votes = matrix.votes
    row_mean = np.nanmean(votes, axis=1, keepdims=True)
    filled = np.where(np.isfinite(votes), votes, row_mean)
    centered = filled - filled.mean(axis=0)
    sd = centered.std(axis=0)
    standardized = centered / np.where(sd > 0, sd, 1.0)
    u, s, _ = np.linalg.svd(standardized, full_matrices=False)
    if weights is None:
        weights = default_weights(matrix.legislators["party"])
    scores = u[:, 0] * s[0]
    scores = orient((scores - scores.mean()) / scores.std(), weights)
    out = matrix.legislators[["legislator_id", "legislator_name", "party"]].copy()
    out["pc1"] = scores
    second = u[:, 1] * s[1] if len(s) > 1 else np.zeros(len(scores))
    spread = second.std()
    out["pc2"] = orient_second(scores, (second - second.mean()) / spread, weights) if spread > 1e-12 else 0.0
    total = np.sum(s**2)
    out.attrs["explained_variance"] = float(s[0] ** 2 / total)
    out.attrs["explained_variance_pc2"] = float(s[1] ** 2 / total) if len(s) > 1 else 0.0
    return out
