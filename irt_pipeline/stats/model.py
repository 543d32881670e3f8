"""The hierarchical 2PL IRT model: its PyMC graph and its starting values.

    mu_party    ~ Normal(0, 2), ordered: Democrats below Republicans
    sigma_party ~ HalfNormal(1)
    xi_i        ~ Normal(mu_party[p_i], sigma_party[p_i])   (major-party legislators)
    xi_i        ~ Normal(0, 1)                              (everyone else, see below)
    alpha_j     ~ Normal(0, 5),  beta_j ~ Normal(0, 1)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j               (observed votes only)

Identification. The likelihood is unchanged by xi -> a xi + b (with beta -> beta / a,
alpha -> alpha + beta b / a), so a free xi leaves a two-dimensional ridge that only
the priors pin, and NUTS pays for it with deep trees. Here the ideal points are
constrained to the standardized scale, mean(xi) = 0 and sd(xi) = 1 over the chamber's
legislators (population sd), in every draw:

    xi = (xi_raw - mean(xi_raw)) / sd(xi_raw),   xi_raw ~ Normal(0, 1)

The hierarchical prior applies to xi itself (a Potential on the standardized values);
xi_raw's own N(0, 1) only fixes the two directions (shift and scale of xi_raw) that xi
cannot see, so it leaves the posterior of xi, mu, sigma, alpha, beta unchanged. Ranks
and relative positions are exactly those of the unconstrained model; xi is reported in
standard deviations of the chamber.

Legislators outside the two major parties form their own group with the chamber-wide
prior N(0, 1): a group of one or two cannot estimate its own spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import MAJOR_PARTIES, VoteMatrix

PARTY_DIM = list(MAJOR_PARTIES)  # index 0 Democrat, 1 Republican
OTHER_GROUP = 2


def party_groups(parties: pd.Series | np.ndarray) -> np.ndarray:
    """(n,) int64: 0 Democrat, 1 Republican, 2 any other party or none."""
    parties = np.asarray(parties)
    groups = np.full(len(parties), OTHER_GROUP, dtype=np.int64)
    for code, name in enumerate(PARTY_DIM):
        groups[parties == name] = code
    return groups


@dataclass(frozen=True)
class HierarchicalLayout:
    """Where each parameter sits in the unconstrained vector the sampler moves, and
    how xi_raw is parameterized: xi_raw_i = w mu_g + sigma_g^w z_i with w = centering[g]
    (0: centered, 1: non-centered; legislators outside both parties: xi_raw_i = z_i)."""

    n_legislators: int
    n_roll_calls: int
    groups: np.ndarray
    centering: np.ndarray  # (2,) per party

    @property
    def ndim(self) -> int:
        return self.n_legislators + 4 + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice]:
        n, m = self.n_legislators, self.n_roll_calls
        return {
            "z": slice(0, n),
            "mu_party": slice(n, n + 2),  # ordered transform
            "sigma_party": slice(n + 2, n + 4),  # log transform
            "alpha": slice(n + 4, n + 4 + m),
            "beta": slice(n + 4 + m, n + 4 + 2 * m),
        }

    def constrained(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The model's variables at unconstrained point x (xi standardized)."""
        s = self.slices()
        mu_ordered = x[s["mu_party"]]
        mu = np.array([mu_ordered[0], mu_ordered[0] + np.exp(mu_ordered[1])])
        sigma = np.exp(x[s["sigma_party"]])
        raw = self.raw_ideal_points(x[s["z"]], mu, sigma)
        return {
            "xi": (raw - raw.mean()) / raw.std(),
            "mu_party": mu,
            "sigma_party": sigma,
            "alpha": x[s["alpha"]].copy(),
            "beta": x[s["beta"]].copy(),
        }


    def _affine(self, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-legislator shift and scale of xi_raw = shift + scale * z."""
        major = self.groups < OTHER_GROUP
        shift = np.zeros(self.n_legislators)
        scale = np.ones(self.n_legislators)
        g = self.groups[major]
        shift[major] = self.centering[g] * mu[g]
        scale[major] = sigma[g] ** self.centering[g]
        return shift, scale

    def raw_ideal_points(self, z: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        shift, scale = self._affine(mu, sigma)
        return shift + scale * z

    def z_of(self, raw: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        shift, scale = self._affine(mu, sigma)
        return (raw - shift) / scale


def start_values(
    pca: np.ndarray, groups: np.ndarray, n_roll_calls: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A valid, jittered start (constrained values) for one chain.

    Ideal points start at the PCA scores (standardized, oriented). Party means start at
    the parties' PCA means, spreads at their PCA sds, both jittered; alpha and beta
    start uniform on (-1, 1). Every value is inside its support: the party means are
    strictly ordered and the spreads strictly positive (an ordered variable started at
    equal values, or a HalfNormal at 0, has log-density -inf and nutpie cannot start).
    """
    mu = np.array([pca[groups == g].mean() for g in (0, 1)])
    if not mu[0] < mu[1]:
        mu = np.array([-1.0, 1.0])
    gap = (mu[1] - mu[0]) * np.exp(rng.uniform(-0.2, 0.2))
    mu_d = mu[0] + rng.uniform(-0.2, 0.2)
    sigma = np.array([max(pca[groups == g].std(), 0.05) for g in (0, 1)])
    return {
        "xi_raw": np.asarray(pca, dtype=float).copy(),
        "mu_party": np.array([mu_d, mu_d + gap]),
        "sigma_party": sigma * np.exp(rng.uniform(-0.5, 0.5, size=2)),
        "alpha": rng.uniform(-1.0, 1.0, size=n_roll_calls),
        "beta": rng.uniform(-1.0, 1.0, size=n_roll_calls),
    }


def unconstrained_start(layout: HierarchicalLayout, start: dict[str, np.ndarray]) -> np.ndarray:
    """Map `start_values` output onto the unconstrained vector of `layout`."""
    x = np.empty(layout.ndim)
    s = layout.slices()
    mu, sigma = start["mu_party"], start["sigma_party"]
    x[s["z"]] = layout.z_of(start["xi_raw"], mu, sigma)
    x[s["mu_party"]] = [mu[0], np.log(mu[1] - mu[0])]
    x[s["sigma_party"]] = np.log(sigma)
    x[s["alpha"]] = start["alpha"]
    x[s["beta"]] = start["beta"]
    return x


def build_hierarchical_model(matrix: VoteMatrix):
    """The PyMC graph of the identified hierarchical model (dims: legislator, roll_call,
    party, vote). This is the model's definition; the numba kernel in
    `irt_pipeline.stats.kernel` computes the same log-density (tested)."""
    import pymc as pm

    groups = party_groups(matrix.legislators["party"])
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    coords = {
        "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        "party": PARTY_DIM,
        "vote": np.arange(len(rows)),
    }
    major = np.flatnonzero(groups < OTHER_GROUP)
    other = np.flatnonzero(groups == OTHER_GROUP)
    with pm.Model(coords=coords) as model:
        xi_raw = pm.Normal("xi_raw", 0.0, 1.0, dims="legislator")
        xi = pm.Deterministic("xi", (xi_raw - xi_raw.mean()) / xi_raw.std(), dims="legislator")
        mu_party = pm.Normal(
            "mu_party",
            0.0,
            2.0,
            dims="party",
            transform=pm.distributions.transforms.ordered,
            initval=np.array([-1.0, 1.0]),
        )
        sigma_party = pm.HalfNormal("sigma_party", 1.0, dims="party")
        pm.Potential(
            "xi_party_prior",
            pm.logp(
                pm.Normal.dist(mu_party[groups[major]], sigma_party[groups[major]]), xi[major]
            ).sum(),
        )
        if len(other):
            pm.Potential("xi_other_prior", pm.logp(pm.Normal.dist(0.0, 1.0), xi[other]).sum())
        alpha = pm.Normal("alpha", 0.0, 5.0, dims="roll_call")
        beta = pm.Normal("beta", 0.0, 1.0, dims="roll_call")
        pm.Bernoulli(
            "y",
            logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"),
            dims="vote",
        )
    return model
