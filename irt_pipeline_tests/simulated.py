"""Simulated chambers with known ideal points, drawn from each model's own story.

Votes: logit P(Yea) = beta_j xi_i - alpha_j with alpha ~ N(0, 1) (narrower than the
N(0, 5) prior, so few roll calls are near-unanimous) and beta ~ N(0, beta_sd); 5% of
cells missing at random.

- `hierarchical_chamber`: two parties of equal size, xi ~ N(-sep, sd) and N(+sep, sd),
  standardized (the hierarchical model's scale): tight, well separated parties.
- `flat_chamber`: the flat model's story: every position xi ~ N(0, 1), standardized, no
  party structure; party labels follow the positions loosely (label = Republican where
  xi + N(0, 1) noise > 0), so they orient the scale but carry little else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix


def chamber_matrix(xi, party, n_roll_calls: int, rng, beta_sd: float = 1.0, missing: float = 0.05) -> VoteMatrix:
    n = len(xi)
    alpha = rng.normal(0.0, 1.0, n_roll_calls)
    beta = rng.normal(0.0, beta_sd, n_roll_calls)
    p = 1.0 / (1.0 + np.exp(-(np.outer(xi, beta) - alpha)))
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    votes[rng.uniform(size=p.shape) < missing] = np.nan
    legislators = pd.DataFrame(
        {
            "legislator_id": [f"L{i:03d}" for i in range(n)],
            "legislator_name": [f"Member {i:03d}" for i in range(n)],
            "party": np.asarray(party),
        }
    )
    roll_calls = pd.DataFrame({"roll_call_id": [f"R{j:03d}" for j in range(n_roll_calls)]})
    return VoteMatrix(legislators, roll_calls, votes)


def hierarchical_chamber(n: int, m: int, seed: int, sep: float = 1.0, sd: float = 0.15):
    """(matrix, true standardized xi)."""
    rng = np.random.default_rng(seed)
    party = np.array(["Democrat"] * (n // 2) + ["Republican"] * (n - n // 2))
    xi = np.where(party == "Republican", sep, -sep) + rng.normal(0.0, sd, n)
    xi = (xi - xi.mean()) / xi.std()
    return chamber_matrix(xi, party, m, rng), xi


LABEL_NOISE = 1.0


def flat_chamber(n: int, m: int, seed: int):
    """(matrix, true standardized xi), Republicans' mean above Democrats'."""
    rng = np.random.default_rng(seed)
    xi = rng.normal(0.0, 1.0, n)
    xi = (xi - xi.mean()) / xi.std()
    party = np.where(xi + rng.normal(0.0, LABEL_NOISE, n) > 0.0, "Republican", "Democrat")
    return chamber_matrix(xi, party, m, rng), xi
