"""A toy model, registered only by the tests that show what one module and one line
of registration give a model: a one-parameter logistic (Rasch-like) scale,

    w_i ~ PRIORS["gauge"] iid, xi = standardize(w)      chamber mean 0, sd 1
    alpha_j ~ PRIORS["alpha"], tau ~ PRIORS["tau"]
    logit P(Yea_ij) = tau xi_i - alpha_j                 observed votes only

(every roll call discriminates alike, by tau > 0, which also fixes the sign: positive =
more often Yea; it reports beta_j = tau for every j, so the 2PL's predictive checks and
LOO read it as they are). Its kernel reuses the 2PL loop with beta_j = tau.
"""

from __future__ import annotations

import math

import numpy as np

from irt_pipeline.stats import callbacks
from irt_pipeline.stats import kernel as k
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.priors import HalfNormal, KernelPriors, Normal
from irt_pipeline.stats.starts import item_logits

PRIORS = {"gauge": Normal(0.0, 1.0), "alpha": Normal(0.0, 5.0), "tau": HalfNormal(5.0)}
KERNEL_PRIORS = KernelPriors(PRIORS)
P = KERNEL_PRIORS.at


def bind(matrix, pca, orientation=None) -> Bound:
    """x = (w (n), a (m), log tau); pca: (n,) start scores; orientation: (n,) the
    partition's rule r (draws put where r . xi >= 0), or None."""
    n, m = matrix.shape
    pca = np.asarray(pca, float)
    alpha, beta = item_logits(matrix.votes, pca)
    tau = max(float(np.sqrt(np.mean(beta**2))), 0.1)
    sign = 1.0 if np.mean(beta) >= 0 else -1.0  # xi's start on the side tau > 0 reads

    def start(rng):
        x = np.empty(n + m + 1)
        x[:n] = sign * pca
        x[n : n + m] = alpha + rng.uniform(-0.5, 0.5, m)
        x[n + m] = math.log(tau) + rng.uniform(-0.2, 0.2)
        return x

    return Bound(
        ndim=n + m + 1,
        coordinates={"w": slice(0, n), "alpha": slice(n, n + m), "tau_log__": n + m},
        reported={"xi": (n,), "tau": (), "alpha": (m,), "beta": (m,)},
        dims={"xi": ("legislator",), "tau": (), "alpha": ("roll_call",), "beta": ("roll_call",)},
        coords={
            "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
            "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        },
        start=start,
        kernel_data=callbacks.KernelData.of(matrix.signed_votes(), 0, KERNEL_PRIORS.pack(PRIORS)),
        orientation=orientation,
    )


def graph(matrix, bound: Bound):
    import pymc as pm

    rows, cols, y = matrix.observed
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        w = PRIORS["gauge"].rv("w", dims="legislator")
        alpha = PRIORS["alpha"].rv("alpha", dims="roll_call")
        tau = PRIORS["tau"].rv("tau")
        xi = pm.Deterministic("xi", (w - w.mean()) / w.std(), dims="legislator")
        pm.Deterministic("beta", tau * pm.math.ones(len(bound.coords["roll_call"])), dims="roll_call")
        pm.Bernoulli("y", logit_p=tau * xi[rows] - alpha[cols], observed=y.astype("int8"), dims="vote")
    return model


@njit
def logp_grad(x, grad, votes, ints, floats):
    n, m = votes.shape
    w, alpha, log_tau = x[:n], x[n : n + m], x[n + m]
    tau = math.exp(log_tau)
    lp = k.halfnormal_logp(tau, floats[P.tau_sigma]) + log_tau
    grad_log_tau = 1.0 - (tau / floats[P.tau_sigma]) ** 2
    for i in range(n):
        lp += k.normal_logp(w[i], floats[P.gauge_mu], floats[P.gauge_sigma])
        grad[i] = -(w[i] - floats[P.gauge_mu]) / floats[P.gauge_sigma] ** 2
    for j in range(m):
        lp += k.normal_logp(alpha[j], floats[P.alpha_mu], floats[P.alpha_sigma])
        grad[n + j] = -(alpha[j] - floats[P.alpha_mu]) / floats[P.alpha_sigma] ** 2
    xi = np.empty(n)
    d = k.standardize(w, xi)
    grad_xi, grad_beta = np.zeros(n), np.zeros(m)
    beta = np.full(m, tau)
    lp += k.twopl_loglik(votes, xi, alpha, beta, grad_xi, grad[n : n + m], grad_beta)
    grad[n + m] = grad_log_tau + tau * grad_beta.sum()
    k.standardize_backward(grad_xi, xi, d, grad[:n])
    return lp


@njit
def expand(x, out, votes, ints, floats):
    n, m = votes.shape
    k.standardize(x[:n], out[:n])
    out[n] = math.exp(x[n + m])
    out[n + 1 : n + 1 + m] = x[n : n + m]
    out[n + 1 + m : n + 1 + 2 * m] = out[n]  # every roll call's discrimination is tau


SPEC = ModelSpec(
    name="toy_1pl",
    key="toy",
    title="a toy one-parameter model",
    version="1",
    job="toy_chain",
    prefix="toy_",
    priors=PRIORS,
    gated={"xi": ("xi",), "tau": ("tau",)},
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    scale="standardized: chamber mean 0, sd 1; positive = more often Yea",
    jittered=("alpha",),
)
