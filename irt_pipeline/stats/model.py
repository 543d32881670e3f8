"""The hierarchical 2PL IRT model: its PyMC graphs and the sampler's coordinates.

The model, per chamber and session (n legislators, m roll calls):

    xi          standardized: mean(xi) = 0 and sd(xi) = 1 over the chamber (population sd)
    mu_party    ~ Normal(0, 2), ordered: Democrats below Republicans
    sigma_party ~ HalfNormal(1)
    xi_i        ~ Normal(mu_party[p_i], sigma_party[p_i])   Democrats and Republicans
    xi_i        ~ Normal(0, 2)                              everyone else
    alpha_j     ~ Normal(0, 5),  beta_j ~ Normal(0, 1)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j               observed votes only

Identification. The likelihood is unchanged by xi -> a + b xi (with beta -> beta / b,
alpha -> alpha - beta a / b). Written without the first line (`build_stock_model`),
only the priors pin a and b: a ridge that makes NUTS take deep trees, and on a
party-line Senate the 906 beta ~ N(0, 1) terms pull the scale of xi to ~11, where that
prior says little. The constraint on the first line fixes location and scale exactly
and leaves rankings and relative positions as they are; every prior then means what
it says on the stated scale, and xi is reported in standard deviations of the chamber.
The ordering of the party means fixes the sign: positive = conservative.

A legislator outside the two major parties is a party of one: its mean has the prior
of a party mean, N(0, 2), and a party of one has no spread to estimate.

Coordinates. The sampler moves z (n), log s (2), alpha (m) and beta (m):

    v_i = anchor_g + s_g^w_g z_i     anchored positions: anchor -1 (D), +1 (R);
    v_i = z_i                        outside both parties
    xi = (v - mean v) / sd v,   mu_g = (anchor_g - mean v) / sd v,   sigma_g = s_g / sd v

a bijection onto (xi on the constraint surface, mu, sigma). The density in these
coordinates is the model's density times the Jacobian of that map (derived in
`build_hierarchical_model`), so the posterior is the model's. w_g = 0 is the centered
form of party g, 1 the non-centered one (same model, different geometry): a party
whose members' positions are pinned by their votes samples best centered, a small or
cohesive one non-centered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import MAJOR_PARTIES, VoteMatrix

PARTY_DIM = list(MAJOR_PARTIES)  # index 0 Democrat, 1 Republican
OTHER_GROUP = 2
ANCHORS = np.array([-1.0, 1.0])  # party means on the anchored scale v
REPORTED_VARS = ("xi", "mu_party", "sigma_party", "alpha", "beta")


def party_groups(parties: pd.Series | np.ndarray) -> np.ndarray:
    """(n,) int64: 0 Democrat, 1 Republican, 2 any other party or none."""
    parties = np.asarray(parties)
    groups = np.full(len(parties), OTHER_GROUP, dtype=np.int64)
    for code, name in enumerate(PARTY_DIM):
        groups[parties == name] = code
    return groups


@dataclass(frozen=True)
class HierarchicalLayout:
    """The unconstrained vector x the sampler moves (n legislators, m roll calls):
    x[0:n] z, x[n:n+2] log s, x[n+2:n+2+m] alpha, x[n+2+m:n+2+2m] beta.

    groups: (n,) int64 from `party_groups`; centering: (2,) float64 in [0, 1], w_g.
    """

    n_legislators: int
    n_roll_calls: int
    groups: np.ndarray
    centering: np.ndarray

    @property
    def ndim(self) -> int:
        return self.n_legislators + 2 + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice]:
        n, m = self.n_legislators, self.n_roll_calls
        return {
            "z": slice(0, n),
            "log_spread": slice(n, n + 2),
            "alpha": slice(n + 2, n + 2 + m),
            "beta": slice(n + 2 + m, n + 2 + 2 * m),
        }

    def _affine(self, log_spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-legislator shift and scale of v = shift + scale * z."""
        major = self.groups < OTHER_GROUP
        shift, scale = np.zeros(self.n_legislators), np.ones(self.n_legislators)
        g = self.groups[major]
        shift[major] = ANCHORS[g]
        scale[major] = np.exp(self.centering[g] * log_spread[g])
        return shift, scale

    def anchored(self, x: np.ndarray) -> np.ndarray:
        """(n,) anchored positions v at unconstrained point x."""
        s = self.slices()
        shift, scale = self._affine(x[s["log_spread"]])
        return shift + scale * x[s["z"]]

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The model's variables (REPORTED_VARS) at unconstrained point x."""
        s = self.slices()
        log_spread = x[s["log_spread"]]
        v = self.anchored(x)
        center, sd = v.mean(), v.std()
        return {
            "xi": (v - center) / sd,
            "mu_party": (ANCHORS - center) / sd,
            "sigma_party": np.exp(log_spread) / sd,
            "alpha": x[s["alpha"]].copy(),
            "beta": x[s["beta"]].copy(),
        }

    def unconstrained(self, start: dict[str, np.ndarray]) -> np.ndarray:
        """x for a start given as anchored positions `v`, `spread`, `alpha`, `beta`."""
        x = np.empty(self.ndim)
        s = self.slices()
        log_spread = np.log(start["spread"])
        shift, scale = self._affine(log_spread)
        x[s["z"]] = (np.asarray(start["v"], float) - shift) / scale
        x[s["log_spread"]] = log_spread
        x[s["alpha"]] = start["alpha"]
        x[s["beta"]] = start["beta"]
        return x


def anchored_from_pca(pca: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PCA scores moved onto the anchored scale (party means at -1 and +1), and the
    parties' spreads there (floored at 0.05)."""
    pca = np.asarray(pca, float)
    means = np.array([pca[groups == g].mean() for g in (0, 1)])
    if not means[0] < means[1]:
        means = np.array([-1.0, 1.0])
    v = (pca - means.mean()) / ((means[1] - means[0]) / 2)
    spread = np.array([max(v[groups == g].std(), 0.05) for g in (0, 1)])
    return v, spread


def item_logits(votes: np.ndarray, pca: np.ndarray, prior_sd: float = 2.5, steps: int = 25):
    """Per roll call, a penalized logistic regression of the votes on the PCA scores:
    logit P(Yea) = beta_j pca_i - alpha_j with N(0, prior_sd) penalties (finite even for
    perfectly separated votes), by Newton's method. Returns (alpha, beta), each (m,).

    votes: (n, m) float64, 1 Yea, 0 Nay, NaN missing; pca: (n,) standardized scores.
    The sampler's starting values for the roll calls.
    """
    observed = np.isfinite(votes)
    y = np.where(observed, votes, 0.0)
    x = np.asarray(pca, float)[:, None]
    m = votes.shape[1]
    alpha, beta = np.zeros(m), np.zeros(m)
    penalty = 1.0 / prior_sd**2
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(beta * x - alpha)))
        r = np.where(observed, y - p, 0.0)
        w = np.where(observed, p * (1.0 - p), 0.0)
        g_b = (r * x).sum(0) - penalty * beta
        g_a = -r.sum(0) - penalty * alpha
        h_bb = (w * x * x).sum(0) + penalty
        h_aa = w.sum(0) + penalty
        h_ab = -(w * x).sum(0)
        det = h_bb * h_aa - h_ab**2
        beta = beta + (h_aa * g_b - h_ab * g_a) / det
        alpha = alpha + (h_bb * g_a - h_ab * g_b) / det
    return alpha, beta


def start_values(pca: np.ndarray, groups: np.ndarray, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain.

    Ideal points start at the PCA scores (standardized, oriented), moved onto the
    anchored scale; spreads at the parties' PCA spreads there; alpha and beta at
    `items` (from `item_logits`). All but the ideal points are jittered. Every value is
    inside its support (a spread of 0 would be log(0) and nutpie could not start).
    """
    v, spread = anchored_from_pca(pca, groups)
    alpha, beta = items
    m = len(alpha)
    return {
        "v": v,
        "spread": spread * np.exp(rng.uniform(-0.3, 0.3, size=2)),
        "alpha": alpha + rng.uniform(-0.5, 0.5, size=m),
        "beta": beta * np.exp(rng.uniform(-0.3, 0.3, size=m)),
    }


def _coords(matrix: VoteMatrix, n_votes: int) -> dict:
    return {
        "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        "party": PARTY_DIM,
        "vote": np.arange(n_votes),
    }


def build_stock_model(matrix: VoteMatrix):
    """The model without the standardization constraint, non-centered, in PyMC's own
    parameterization: the benchmark baseline. Its ideal points, standardized per draw,
    rank the legislators as the constrained model's do."""
    import pymc as pm

    groups = party_groups(matrix.legislators["party"])
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    major = groups < OTHER_GROUP
    g = np.where(major, groups, 0)
    with pm.Model(coords=_coords(matrix, len(rows))) as model:
        mu_party = pm.Normal(
            "mu_party", 0.0, 2.0, dims="party",
            transform=pm.distributions.transforms.ordered, initval=np.array([-1.0, 1.0]),
        )
        sigma_party = pm.HalfNormal("sigma_party", 1.0, dims="party")
        xi_offset = pm.Normal("xi_offset", 0.0, 1.0, dims="legislator")
        xi = pm.Deterministic(
            "xi",
            pm.math.where(major, mu_party[g] + sigma_party[g] * xi_offset, 2.0 * xi_offset),
            dims="legislator",
        )
        alpha = pm.Normal("alpha", 0.0, 5.0, dims="roll_call")
        beta = pm.Normal("beta", 0.0, 1.0, dims="roll_call")
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model


def build_hierarchical_model(matrix: VoteMatrix, centering=(0.0, 0.0)):
    """The model (standardized xi) as a PyMC graph in the sampler's coordinates: the
    model's log-density at the mapped point plus the log-Jacobian of the map. The numba
    kernel computes the same density faster (tested equal)."""
    import pymc as pm
    import pytensor.tensor as pt

    groups = party_groups(matrix.legislators["party"])
    n, m = matrix.shape
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    major = groups < OTHER_GROUP
    g = np.where(major, groups, 0)
    w = np.asarray(centering, float)
    sizes = np.array([(groups == k).sum() for k in (0, 1)])
    normal = pm.Normal.dist
    with pm.Model(coords=_coords(matrix, len(rows))) as model:
        z = pm.Flat("z", dims="legislator")
        log_spread = pm.Flat("log_spread", dims="party")
        alpha = pm.Normal("alpha", 0.0, 5.0, dims="roll_call")
        beta = pm.Normal("beta", 0.0, 1.0, dims="roll_call")

        spread = pt.exp(log_spread)
        v = pt.where(major, ANCHORS[g] + pt.exp(w[g] * log_spread[g]) * z, z)
        center, sd = v.mean(), v.std()
        xi = pm.Deterministic("xi", (v - center) / sd, dims="legislator")
        mu_party = pm.Deterministic("mu_party", (ANCHORS - center) / sd, dims="party")
        sigma_party = pm.Deterministic("sigma_party", spread / sd, dims="party")
        pm.Potential(
            "party_prior",
            pm.logp(normal(0.0, 2.0), mu_party).sum()
            + pm.logp(pm.HalfNormal.dist(1.0), sigma_party).sum()
            + pt.where(
                major,
                pm.logp(normal(mu_party[g], sigma_party[g]), xi),
                pm.logp(normal(0.0, 2.0), xi),
            ).sum(),
        )
        # Change of variables: v = mean(v) + sd(v) xi has volume n sd^(n-2) d(mean v)
        # d(sd v) dS(xi); (mean v, sd v) -> mu has |det| 2 / sd^3; s -> sigma = s / sd
        # gives sd^-2; z -> v gives prod_g s_g^(w_g n_g); log s -> s gives prod_g s_g.
        # Together |d(xi, mu, sigma) / d(z, log s)| = (2/n) sd^-(n+3) prod_g s_g^(w_g n_g + 1).
        pm.Potential(
            "log_jacobian",
            np.log(2.0 / n) - (n + 3) * pt.log(sd) + ((w * sizes + 1.0) * log_spread).sum(),
        )
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model
