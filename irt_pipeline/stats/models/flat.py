"""The flat 2PL IRT model: no party in the prior. Priors, coordinates, starts, graph,
kernel and the per-chain orientation.

Per chamber and session (n legislators, m roll calls), with the priors of `PRIORS`:

    w_i      ~ PRIORS["gauge"]                  iid
    xi       = (w - mean w) / sd w              standardized: chamber mean 0, sd 1
    alpha_j  ~ PRIORS["alpha"]
    tau      ~ PRIORS["tau"],  beta_j ~ Normal(0, tau)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j   observed votes only
    r . xi >= 0                                 (the orientation rule, see below)

Every legislator's position is a priori exchangeable: iid Normal positions standardized
are uniform on the set {mean 0, sd 1}, whatever the gauge's mean and sd (they only set
how the sampler's coordinates move), so the prior on xi is "iid Normal, conditioned on
the chamber's mean and sd". One member's prior is its marginal, (1 - x^2 / (n - 1))^((n -
4) / 2) on |x| < sqrt(n - 1), about Normal(0, 1): a member with few votes is shrunk toward
the centre as a per-member Normal(0, 1) prior would shrink them (docs/models.md, "A
member with few votes"). As in the hierarchical model, the constraint fixes location
and scale exactly, the priors of alpha and beta act on the same standardized scale, and
xi is reported in standard deviations of the chamber: the two models' posteriors compare
directly.

Orientation. The likelihood is unchanged by xi -> -xi, beta -> -beta, so the posterior
has two mirror-image modes; the model is the half on the side the partition's
orientation rule states (`stats/orientation.py`: r . xi >= 0; by default the
conservative pole party's mean above the liberal one's). Chains start from PCA scores
oriented that way; every draw on the other side has xi and beta negated (alpha
unchanged; the likelihood is unchanged), at every look of the stopping rule and in the
result (`stats/sampling.py`), counted per chain in `idata.attrs["reflected_draws"]`.
That is exactly the truncated posterior.

The legislators an anchored model would pin (the most conservative member of the rule's
positive side and the most liberal of its negative side on PCA, among those who voted on
at least half the roll calls) are recorded in `idata.attrs` as a check that the scale
says what PCA says: they should rank at the ends (docs/models.md).

Coordinates. The sampler moves x = (w (n), a (m), log tau, beta (m)) with
alpha_j = a_j + c_j beta_j, the cutpoint shear of the hierarchical model
(`stats/models/hierarchical.py` says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from irt_pipeline.stats import callbacks
from irt_pipeline.stats import kernel as k
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.pca import default_weights, orient
from irt_pipeline.stats.priors import HalfNormal, KernelPriors, Normal, logp
from irt_pipeline.stats.starts import cutpoint_shear, dispersed, item_logits, jittered_items

# The priors, written here only: the PyMC graph and the kernel both read this table.
PRIORS = {
    "gauge": Normal(0.0, 1.0),
    "alpha": Normal(0.0, 5.0),
    "tau": HalfNormal(5.0),
}
KERNEL_PRIORS = KernelPriors(PRIORS)  # the kernel reads floats[P.alpha_mu] ..., the cutpoints from P.end
P = KERNEL_PRIORS.at
GATED = {"xi": ("xi",), "tau": ("tau",)}
SCALE = "standardized: chamber mean 0, sd 1; positive = conservative, by the partition's orientation rule"


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x (n legislators, m roll calls): w (n), a (m), log tau
    (1), beta (m). shear: (m,) cutpoints c_j, alpha_j = a_j + c_j beta_j; extremes: (2,)
    rows from `extreme_legislators`."""

    n_legislators: int
    n_roll_calls: int
    shear: np.ndarray
    extremes: np.ndarray

    @property
    def ndim(self) -> int:
        return self.n_legislators + 1 + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice]:
        n, m = self.n_legislators, self.n_roll_calls
        return {  # named as the PyMC graph's value variables
            "w": slice(0, n), "a": slice(n, n + m), "tau_log__": n + m,  # a scalar
            "beta": slice(n + m + 1, n + 1 + 2 * m),
        }

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        s = self.slices()
        w, beta = x[s["w"]], x[s["beta"]]
        return {"xi": (w - w.mean()) / w.std(), "tau": np.exp(x[s["tau_log__"]]).reshape(()),
                "alpha": x[s["a"]] + self.shear * beta, "beta": beta.copy()}

    def unconstrained(self, start: dict) -> np.ndarray:
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["w"]] = start["xi"]
        x[s["a"]] = start["alpha"] - self.shear * start["beta"]
        x[s["tau_log__"]] = math.log(start["tau"])
        x[s["beta"]] = start["beta"]
        return x


def extreme_legislators(matrix: VoteMatrix, pca: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(2,) int64 matrix rows: [the legislator on the orientation rule's positive side with
    the highest PCA score, the one on its negative side (everyone else where it names
    nobody there) with the lowest], among legislators with Yea/Nay votes on at least half
    the roll calls (a side none of whose members did: its members with the most votes).
    An anchored model would pin these two; here they check the orientation and scale.

    pca: (n,) PCA scores in matrix row order, oriented by the rule; weights: (n,) its r.
    """
    weights = np.asarray(weights, float)
    counts = np.isfinite(matrix.votes).sum(axis=1)
    eligible = 2 * counts >= matrix.shape[1]
    positive = weights > 0
    negative = weights < 0 if (weights < 0).any() else ~positive
    rows = []
    for members, pick in ((positive if positive.any() else ~negative, np.argmax), (negative, np.argmin)):
        candidates = members & eligible
        if not candidates.any():
            candidates = members & (counts == counts[members].max())
        index = np.flatnonzero(candidates)
        rows.append(index[pick(pca[index])])
    return np.array(rows, dtype=np.int64)


def bind(matrix: VoteMatrix, pca: np.ndarray, orientation: np.ndarray | None = None) -> Bound:
    """The model on this matrix; pca: (n,) PCA scores in matrix row order, oriented here
    by the rule (so a reflected input gives the same start); orientation: (n,) the rule's
    r (default: the built-in party poles)."""
    weights = default_weights(matrix.legislators["party"]) if orientation is None else np.asarray(orientation, float)
    pca = orient(np.asarray(pca, float), weights)
    pca = (pca - pca.mean()) / pca.std()
    n, m = matrix.shape
    items = item_logits(matrix.votes, pca)
    layout = Layout(n, m, cutpoint_shear(*items), extreme_legislators(matrix, pca, weights))
    tau = max(float(np.sqrt(np.mean(items[1] ** 2))), 0.1)

    def start(rng):  # every chain from its own over-dispersed start around the PCA scores
        alpha, beta = jittered_items(*items, rng)
        return layout.unconstrained({"xi": dispersed(pca, rng, weights), "alpha": alpha, "beta": beta,
                                     "tau": tau * math.exp(rng.uniform(-0.2, 0.2))})

    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "tau": (), "alpha": (m,), "beta": (m,)},
        dims={"xi": ("legislator",), "tau": (), "alpha": ("roll_call",), "beta": ("roll_call",)},
        coords={
            "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
            "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        },
        start=start,
        kernel_data=callbacks.KernelData.of(
            matrix.signed_votes(), 0, np.concatenate([KERNEL_PRIORS.pack(PRIORS), layout.shear])
        ),
        layout=layout,
        orientation=weights,
    )


def graph(matrix: VoteMatrix, bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order). The kernel computes the same density faster (tested equal)."""
    import pymc as pm

    shear = bound.layout.shear
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        w = PRIORS["gauge"].rv("w", dims="legislator")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau")
        beta = pm.Normal("beta", 0.0, tau, dims="roll_call")
        alpha = pm.Deterministic("alpha", a + shear * beta, dims="roll_call")
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        xi = pm.Deterministic("xi", (w - w.mean()) / w.std(), dims="legislator")
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (n + 1 + 2m,) (w, a, log tau, beta); votes: (n, m) float32 +1/-1/0; floats: the packed
    PRIORS (positions P), then the m cutpoints. Returns the log-density with every
    constant, equal to `graph`'s.
    """
    n, m = votes.shape
    gauge_mu, gauge_sd = floats[P.gauge_mu], floats[P.gauge_sigma]
    alpha_mu, alpha_sd, tau_sd = floats[P.alpha_mu], floats[P.alpha_sigma], floats[P.tau_sigma]
    shear = floats[P.end : P.end + m]
    w = x[:n]
    a = x[n : n + m]
    log_tau = x[n + m]
    beta = x[n + m + 1 : n + 1 + 2 * m]
    grad_w = grad[:n]
    grad_a = grad[n : n + m]
    grad_beta = grad[n + m + 1 : n + 1 + 2 * m]

    lp = 0.0
    for i in range(n):
        lp += k.normal_logp(w[i], gauge_mu, gauge_sd)
        grad_w[i] = -(w[i] - gauge_mu) / (gauge_sd * gauge_sd)
    alpha = a + shear * beta
    items, grad_log_tau = k.items_logp(alpha, log_tau, beta, grad_a, grad_beta, alpha_mu, alpha_sd, tau_sd)
    lp += items
    grad[n + m] = grad_log_tau
    xi = np.empty(n)
    d = k.standardize(w, xi)
    grad_xi = np.zeros(n)
    lp += k.twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_a, grad_beta)
    for j in range(m):
        grad_beta[j] += shear[j] * grad_a[j]
    k.standardize_backward(grad_xi, xi, d, grad_w)
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (n), tau (1), alpha (m), beta (m)."""
    n, m = votes.shape
    shear = floats[P.end : P.end + m]
    k.standardize(x[:n], out[:n])
    out[n] = np.exp(x[n + m])
    for j in range(m):
        beta = x[n + m + 1 + j]
        out[n + 1 + j] = x[n + j] + shear[j] * beta
        out[n + 1 + m + j] = beta


def postprocess(idata, bound: Bound) -> dict:
    """Record the PCA extremes (the draws are on the rule's side already: `sampling`)."""
    ids = np.asarray(bound.coords["legislator"])
    extremes = bound.layout.extremes
    return {"extreme_conservative": str(ids[extremes[0]]), "extreme_liberal": str(ids[extremes[1]])}


SPEC = ModelSpec(
    name="flat_2pl",
    key="flat",
    title="the flat 2PL model (no party in the prior)",
    # 2: standardized identification oriented by party (no anchors), tau. 3: oriented by the
    # partition's orientation rule, draw by draw
    version="3",
    job="flat_chain",
    prefix="flat_",
    checked=True,
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    scale=SCALE,
    postprocess=postprocess,
    jittered=("a", "beta"),
)
