"""Posterior predictive checks of a 2PL posterior against the observed votes.

From S draws (thinned evenly within chains, default 200 in all), with
P_ij = P(Yea | xi_i, alpha_j, beta_j) = logistic(beta_j xi_i - alpha_j) (for the
two-dimensional model, logistic(beta_j . xi_i - alpha_j)):

- share_correct: share of observed votes on the side of 0.5 the posterior mean of P_ij
  is on (classification at P = 0.5 counts as Yea); share_correct_majority, the
  baseline of predicting each roll call's majority side; APRE, the aggregate
  proportional reduction in error over that baseline, (E_majority - E_model) / E_majority.
- the overall Yea rate: for each draw, votes are replicated at the observed cells,
  y_rep ~ Bernoulli(P_ij), and the Bayesian p-value is P(rate(y_rep) >= rate(y)) over
  draws (near 0 or 1: the model gets the overall Yea rate wrong).
- per legislator and per roll call (cheap: the same replications): votes, share
  correctly classified, observed Yea count, the p-value of the Yea count
  P(count(y_rep) >= count(y)).

Memory: one (n, m) matrix per draw at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.loo import aligned_draws
from irt_pipeline.stats.matrix import VoteMatrix

PPC_DRAWS = 200


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def posterior_predictive_checks(idata, matrix: VoteMatrix, draws: int = PPC_DRAWS, seed: int = 0):
    """(summary dict, per-legislator frame, per-roll-call frame); see the module docstring.

    Frames: legislator_id / roll_call_id, votes, share_correct, yeas, yea_p_value,
    in matrix order.
    """
    xi, alpha, beta = aligned_draws(idata, matrix, max_draws=draws)
    # one draw per row: (S, n) and (S, m), or (S, n, 2) and (S, m, 2) in two dimensions
    xi, alpha, beta = (a.reshape(-1, *a.shape[2:]) for a in (xi, alpha, beta))
    observed = np.isfinite(matrix.votes)
    y = np.where(observed, matrix.votes, 0.0)
    rng = np.random.default_rng(seed)

    n_draws = xi.shape[0]
    p_mean = np.zeros(matrix.shape)
    rep_rows = np.empty((n_draws, matrix.shape[0]))
    rep_cols = np.empty((n_draws, matrix.shape[1]))
    for s in range(n_draws):
        p = _expit((np.outer(xi[s], beta[s]) if xi.ndim == 2 else xi[s] @ beta[s].T) - alpha[s])
        p_mean += p
        rep = (rng.random(p.shape) < p) & observed
        rep_rows[s] = rep.sum(axis=1)
        rep_cols[s] = rep.sum(axis=0)
    p_mean /= n_draws

    correct = ((p_mean >= 0.5) == (y == 1.0)) & observed
    votes_rows, votes_cols = observed.sum(axis=1), observed.sum(axis=0)
    yeas_rows, yeas_cols = y.sum(axis=1), y.sum(axis=0)
    n_votes, n_yeas = int(observed.sum()), float(y.sum())
    errors_model = n_votes - int(correct.sum())
    errors_majority = int(np.minimum(yeas_cols, votes_cols - yeas_cols).sum())
    rep_total = rep_rows.sum(axis=1)

    summary = {
        "draws": int(n_draws),
        "votes": n_votes,
        "share_correct": float(correct.sum() / n_votes),
        "share_correct_majority": float(1.0 - errors_majority / n_votes),
        "apre": float((errors_majority - errors_model) / errors_majority) if errors_majority else float("nan"),
        "yea_rate_observed": n_yeas / n_votes,
        "yea_rate_replicated_mean": float(rep_total.mean() / n_votes),
        "yea_rate_replicated_sd": float(rep_total.std() / n_votes),
        "yea_rate_p_value": float((rep_total >= n_yeas).mean()),
    }
    legislators = pd.DataFrame(
        {
            "legislator_id": matrix.legislators["legislator_id"].astype(str).to_numpy(),
            "votes": votes_rows,
            "share_correct": correct.sum(axis=1) / votes_rows,
            "yeas": yeas_rows.astype(int),
            "yea_p_value": (rep_rows >= yeas_rows).mean(axis=0),
        }
    )
    roll_calls = pd.DataFrame(
        {
            "roll_call_id": matrix.roll_calls["roll_call_id"].astype(str).to_numpy(),
            "votes": votes_cols,
            "share_correct": correct.sum(axis=0) / np.maximum(votes_cols, 1),
            "yeas": yeas_cols.astype(int),
            "yea_p_value": (rep_cols >= yeas_cols).mean(axis=0),
        }
    )
    return summary, legislators, roll_calls
