"""Starting values shared by the models: roll-call parameters from the PCA scores."""

from __future__ import annotations

import numpy as np


def item_logits(votes: np.ndarray, scores: np.ndarray, prior_sd: float = 2.5, steps: int = 25):
    """Per roll call, a penalized logistic regression of the votes on the scores:
    logit P(Yea) = beta_j . score_i - alpha_j with N(0, prior_sd) penalties (finite even
    for perfectly separated votes), by Newton's method. Returns alpha (m,) and beta
    (m,) for (n,) scores, or (m, d) for (n, d) scores.

    votes: (n, m) float64, 1 Yea, 0 Nay, NaN missing; scores: standardized PCA scores.
    """
    observed = np.isfinite(votes)
    y = np.where(observed, votes, 0.0)
    x = np.asarray(scores, float)
    one_dimensional = x.ndim == 1
    x = x.reshape(len(x), -1)
    n, m = votes.shape
    d = x.shape[1]
    design = np.hstack([-np.ones((n, 1)), x])  # eta = design @ (alpha, beta)
    theta = np.zeros((m, d + 1))
    penalty = np.eye(d + 1) / prior_sd**2
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ theta.T)))
        r = np.where(observed, y - p, 0.0)
        w = np.where(observed, p * (1.0 - p), 0.0)
        grad = r.T @ design - theta @ penalty  # (m, d + 1)
        hess = np.einsum("im,ia,ib->mab", w, design, design) + penalty
        theta = theta + np.linalg.solve(hess, grad[..., None])[..., 0]
    alpha, beta = theta[:, 0], theta[:, 1:]
    return alpha, (beta[:, 0] if one_dimensional else beta)


def jittered_items(alpha: np.ndarray, beta: np.ndarray, rng: np.random.Generator):
    """alpha + U(-0.5, 0.5) and beta times exp(U(-0.3, 0.3)): one chain's roll-call start."""
    return alpha + rng.uniform(-0.5, 0.5, size=alpha.shape), beta * np.exp(rng.uniform(-0.3, 0.3, size=beta.shape))


SHEAR_MIN_BETA = 0.5  # |beta| of a start below which a roll call's cutpoint is not used
SHEAR_MAX_CUT = 2.5  # cutpoints are clipped to +-2.5 sd of the chamber


def cutpoint_shear(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Cutpoints of the start's roll calls: the fixed shear alpha_j = a_j + c_j . beta_j
    of the models' coordinates. For (m,) beta, (m,) c_j = alpha_j / beta_j; for (m, d)
    beta, (m, d) c_j = alpha_j beta_j / |beta_j|^2, the point of roll call j's cutting
    line nearest the origin. c_j is 0 where the start's |beta_j| is under SHEAR_MIN_BETA
    (its cutpoint means little), and |c_j| is clipped to SHEAR_MAX_CUT sd of the chamber.
    Any values give the same posterior; good ones make near-party-line roll calls cheap
    to sample."""
    alpha, beta = np.asarray(alpha, float), np.asarray(beta, float)
    if beta.ndim == 1:
        c = np.zeros_like(alpha)
        big = np.abs(beta) > SHEAR_MIN_BETA
        c[big] = np.clip(alpha[big] / beta[big], -SHEAR_MAX_CUT, SHEAR_MAX_CUT)
        return c
    norm2 = np.sum(beta**2, axis=1)
    big = norm2 > SHEAR_MIN_BETA**2
    c = np.zeros_like(beta)
    c[big] = alpha[big, None] * beta[big] / norm2[big, None]
    length = np.sqrt(np.sum(c**2, axis=1))
    return c * np.minimum(1.0, SHEAR_MAX_CUT / np.maximum(length, 1e-300))[:, None]


# The spread, in chamber sds, of the noise each chain's start positions get around the PCA
# scores: over-dispersed against every posterior (a member's posterior sd is 0.05-0.5
# chamber sd; 2 is 4 to 40 of them, and twice the chamber's own spread), so that the
# chains start apart and R-hat can see a second mode where one exists (a block of
# members whose placement against the rest the votes leave open: test_sampling.py),
# while the start still leans toward the PCA configuration (correlation about 0.45).
START_SPREAD = 2.0


def dispersed(positions: np.ndarray, rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One chain's start positions: (n,) standardized `positions` plus N(0, START_SPREAD)
    noise per legislator, standardized again and put on the orientation rule's side
    (r . x >= 0; weights: (n,) r). START_SPREAD 0: the positions as they are."""
    positions = np.asarray(positions, float)
    if START_SPREAD == 0:
        return positions
    start = positions + START_SPREAD * rng.standard_normal(len(positions))
    start = (start - start.mean()) / start.std()
    return -start if float(np.asarray(weights, float) @ start) < 0 else start
