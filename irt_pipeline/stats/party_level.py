"""The party level over whatever parties a chamber has, as the hierarchical model and the
two-dimensional model's dim 1 both use it: one PyMC graph and one numba kernel.

With the groups of `stats/parties.py` (G groups, everyone else unaffiliated) and the
priors table's entries "mu_party", "sigma_party":

    mu_g     ~ PRIORS["mu_party"]      every group g, exchangeable (no ordering)
    sigma_g  ~ PRIORS["sigma_party"]
    xi_i     ~ Normal(mu_g, sigma_g)                         member of group g
    xi_i     ~ sum_g w_g Normal(mu_g, sigma_g)               unaffiliated (w_g: group shares)

and nothing for anyone in a chamber without a group (the gauge alone: the flat prior).
The density is symmetric under xi -> -xi, mu -> -mu: the sign is the orientation rule's
(`stats/orientation.py`), applied to the draws (`stats/sampling.py`), not an ordering of
named parties.

`level_logp` is the density in (xi, mu, sigma) and its gradient; `gauge_forward` and
`gauge_backward` are the gauge coordinates (w, mu, log sigma) of the hierarchical model
and of the 2D model's dim 1.
"""

from __future__ import annotations

import math

import numpy as np

from irt_pipeline.stats import kernel as k
from irt_pipeline.stats.jit import njit


@njit(inline="always")
def party_priors(floats, at):
    """(gauge mu, gauge sigma, mu_party mu, mu_party sigma, sigma_party shape, sigma_party
    rate), read by name from a model's packed `floats` (positions `at`)."""
    return (floats[at.gauge_mu], floats[at.gauge_sigma], floats[at.mu_party_mu], floats[at.mu_party_sigma],
            floats[at.sigma_party_alpha], floats[at.sigma_party_beta])


@njit
def level_logp(xi, mu, sigma, group, weights, priors, grad_xi, grad_mu, grad_log_sigma):
    """The party level's log-density at (xi (n), mu (G), sigma (G)): the groups' priors
    (mu_g Normal, sigma_g Gamma: densities of mu and sigma, no Jacobian), the members'
    Normal terms and the unaffiliated members' mixture. group: (n,) int64, -1 for the
    unaffiliated; weights: (G,) the mixture's. Adds d/dxi into grad_xi, d/dmu into
    grad_mu and d/dlog sigma (sigma d/dsigma) into grad_log_sigma."""
    n, groups = xi.shape[0], mu.shape[0]
    _, _, mu_mu, mu_sd, shape, rate = priors
    lp = 0.0
    for g in range(groups):
        lp += k.normal_logp(mu[g], mu_mu, mu_sd) + k.gamma_logp(sigma[g], shape, rate)
        grad_mu[g] -= (mu[g] - mu_mu) / (mu_sd * mu_sd)
        grad_log_sigma[g] += shape - 1.0 - rate * sigma[g]
    if groups == 0:
        return lp
    terms = np.empty(groups)
    for i in range(n):
        g = group[i]
        if g >= 0:
            e = (xi[i] - mu[g]) / sigma[g]
            lp += -0.5 * e * e - math.log(sigma[g]) - 0.5 * k.LOG_2PI
            grad_xi[i] -= e / sigma[g]
            grad_mu[g] += e / sigma[g]
            grad_log_sigma[g] += e * e - 1.0
            continue
        top = -np.inf
        for h in range(groups):
            terms[h] = math.log(weights[h]) + k.normal_logp(xi[i], mu[h], sigma[h])
            top = max(top, terms[h])
        total = 0.0
        for h in range(groups):
            total += math.exp(terms[h] - top)
        total = top + math.log(total)
        lp += total
        for h in range(groups):
            share = math.exp(terms[h] - total)  # the posterior weight of group h
            e = (xi[i] - mu[h]) / sigma[h]
            grad_xi[i] -= share * e / sigma[h]
            grad_mu[h] += share * e / sigma[h]
            grad_log_sigma[h] += share * (e * e - 1.0)
    return lp


@njit
def gauge_forward(w, mu_raw, log_sigma, xi, mu, sigma, gauge_mu, gauge_sd, grad_w):
    """Gauge coordinates: xi = standardize(w), mu = mu_raw, sigma = exp(log_sigma).
    Writes xi, mu, sigma; returns (the gauge density of w and the log-Jacobian of
    log sigma, sd w), its gradient in w written into grad_w (overwriting)."""
    lp = 0.0
    for i in range(w.shape[0]):
        lp += k.normal_logp(w[i], gauge_mu, gauge_sd)
        grad_w[i] = -(w[i] - gauge_mu) / (gauge_sd * gauge_sd)
    d = k.standardize(w, xi)
    for g in range(mu.shape[0]):
        mu[g] = mu_raw[g]
        sigma[g] = math.exp(log_sigma[g])
        lp += log_sigma[g]
    return lp, d


@njit
def gauge_backward(grad_xi, xi, d, grad_w, grad_mu, grad_log_sigma, out_mu, out_log_sigma):
    """Gauge coordinates, backward: adds d/dw (through standardize) into grad_w and
    writes d/dmu and d/dlog sigma (with the log-Jacobian's 1) into out_mu, out_log_sigma."""
    k.standardize_backward(grad_xi, xi, d, grad_w)
    for g in range(grad_mu.shape[0]):
        out_mu[g] = grad_mu[g]
        out_log_sigma[g] = grad_log_sigma[g] + 1.0


def group_weights(groups, count: int) -> np.ndarray:
    """(G,) the unaffiliated members' mixture weights: each group's share of the members."""
    sizes = np.array([(np.asarray(groups) == g).sum() for g in range(count)], dtype=float)
    return sizes / sizes.sum() if count else np.zeros(0)


# ------------------------------------------------------------------ the PyMC graph


def gauge_graph(priors: dict):
    """xi, mu_party, sigma_party of the PyMC graph in the gauge coordinates (value
    variables w, mu_party, sigma_party_log__), with `priors`' gauge, mu_party and
    sigma_party (inside a pm.Model context whose coords have "legislator" and "party")."""
    w = priors["gauge"].rv("w", dims="legislator")
    mu_party = priors["mu_party"].rv("mu_party", dims="party")
    sigma_party = priors["sigma_party"].rv("sigma_party", dims="party")
    return (w - w.mean()) / w.std(), mu_party, sigma_party


def members_graph(xi, mu_party, sigma_party, groups: np.ndarray, weights: np.ndarray):
    """The log-density of the positions given the party level (a PyTensor scalar):
    members N(xi_i; mu_g, sigma_g), the unaffiliated the weighted mixture of the groups."""
    import pymc as pm
    import pytensor.tensor as pt

    groups = np.asarray(groups)
    members, others = np.flatnonzero(groups >= 0), np.flatnonzero(groups < 0)
    total = pt.constant(0.0, dtype="float64")
    if len(members):
        g = groups[members]
        total += pm.logp(pm.Normal.dist(mu_party[g], sigma_party[g]), xi[members]).sum()
    if len(others) and len(weights):
        terms = pt.stack([
            np.log(weights[h]) + pm.logp(pm.Normal.dist(mu_party[h], sigma_party[h]), xi[others])
            for h in range(len(weights))
        ])
        total += pt.logsumexp(terms, axis=0).sum()
    return total
