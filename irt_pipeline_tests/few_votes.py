"""Members with few votes: cut a member's votes down to a few, and what a given prior
on that member's position alone would make of them (the test of the flat model's
shrinkage and bench/flat_shrinkage.py share these)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from irt_pipeline.stats.matrix import VoteMatrix


def cut_votes(matrix: VoteMatrix, rows, keep: int, seed: int) -> VoteMatrix:
    """A copy of `matrix` in which each of `rows` keeps `keep` of its observed votes
    (chosen at random with `seed`), the rest missing; nothing else changes."""
    rng = np.random.default_rng(seed)
    votes = matrix.votes.copy()
    for row in rows:
        observed = np.flatnonzero(np.isfinite(votes[row]))
        dropped = rng.permutation(observed)[keep:]
        votes[row, dropped] = np.nan
    return replace(matrix, votes=votes)


def sphere_marginal_logpdf(x: np.ndarray, n: int) -> np.ndarray:
    """Log density (up to a constant) of one coordinate of a point uniform on
    {xi in R^n: mean 0, sd 1}, the flat model's prior (iid Normal, standardized):
    (1 - x^2 / (n - 1))^((n - 4) / 2) on |x| < sqrt(n - 1), about Normal(0, 1) for
    large n."""
    inside = x**2 < n - 1
    out = np.full_like(x, -np.inf, dtype=float)
    out[inside] = 0.5 * (n - 4) * np.log1p(-x[inside] ** 2 / (n - 1))
    return out


def member_posterior(votes: np.ndarray, alpha: np.ndarray, beta: np.ndarray, log_prior, grid: np.ndarray):
    """(mean, sd) of one member's position on `grid` given only their own votes, the
    roll calls' parameters taken from a posterior's draws (likelihood averaged over
    the draws) and log_prior(grid). votes: (m,) 1/0/NaN; alpha, beta: (draws, m)."""
    seen = np.isfinite(votes)
    y, a, b = votes[seen], alpha[:, seen], beta[:, seen]
    eta = b[:, :, None] * grid[None, None, :] - a[:, :, None]  # (draws, k, grid)
    loglik = -np.logaddexp(0.0, np.where(y[None, :, None] == 1.0, -eta, eta)).sum(axis=1)  # (draws, grid)
    top = loglik.max()
    log_post = np.log(np.exp(loglik - top).mean(axis=0)) + log_prior(grid)
    weights = np.exp(log_post - log_post[np.isfinite(log_post)].max())
    weights[~np.isfinite(weights)] = 0.0
    weights /= weights.sum()
    mean = float(weights @ grid)
    return mean, math.sqrt(float(weights @ (grid - mean) ** 2))
