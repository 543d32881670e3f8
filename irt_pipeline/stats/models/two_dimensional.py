"""The two-dimensional 2PL IRT model: ideal points in the plane. Priors, coordinates,
starts, graph, kernel and the orientation of dim 2. Why it is built this way, with the
measurements: docs/models.md ("The two-dimensional model: why each piece").

Per chamber and session (n legislators, m roll calls), with the priors of `PRIORS`:

    w ~ PRIORS["gauge"], w_2 ~ PRIORS["xi_2"]  (n each, iid): the sampler's coordinates
    xi       = standardize(w)                          dim 1: chamber mean 0, sd 1
    xi_2     = w_2 minus its projection on 1, xi and d (not rescaled)    dim 2
    every member: PRIORS["plane"], a soft bound on rho_i = |(xi_i, xi_2_i)|
    mu_party ~ PRIORS["mu_party"], sigma_party ~ PRIORS["sigma_party"]    every party group
    xi_i ~ Normal(mu_party[g], sigma_party[g])         members of group g
    xi_i ~ sum_g w_g Normal(mu_party[g], sigma_party[g])   the unaffiliated
    alpha_j  ~ PRIORS["alpha"]
    tau, tau_2 ~ PRIORS["tau"];  beta_j ~ Normal(0, tau),  beta_2_j = tau_2 z_2_j, z_2_j ~ N(0, 1)
    logit P(Yea_ij) = beta_j xi_i + beta_2_j xi_2_i - alpha_j      observed votes only

with d the contrast of the partition's orientation rule r (`stats/orientation.py`), d =
r - mean(r): with the party poles, d . v is the conservative pole party's mean of v minus
the liberal one's.

Identification, in the posterior itself. The likelihood is unchanged by any affine map
of the positions x_i = (xi_i, xi_2_i) -> A x_i + b (with beta_j -> A^-T beta_j and
alpha_j adjusted): two directions of location, three of scale and correlation, one of
rotation. In every draw both dimensions have mean 0, dim 1 has sd 1, and they are
uncorrelated (xi_2 is orthogonal to 1 and xi), which fixes four; dim 2's scale is held
by its prior (a proper Normal: |xi_2|^2 concentrates near n - 3, so its sd is near 1
unless the votes say otherwise; it is estimated, not fixed); and the rule's two sides' means
differ on dim 1 only (d . xi_2 = 0), which fixes the rotation: dim 1 is the direction
that separates the rule's sides, dim 2 what divides the chamber across them. Dim 1's
sign is the orientation rule's (a draw with r . xi < 0 has xi, beta and mu_party negated,
`ModelSpec.odd`). Left is the reflection xi_2 -> -xi_2 (with beta_2): see "Orientation
of dim 2" below.

Dim 2's scale. Dim 2 is not standardized: in every draw its mean is 0 and its sd,
sqrt(mean(xi_2^2)), is what the Normal(0, 1) prior on w_2 and the votes make it (near 1
unless the votes say otherwise; the posterior records its mean over the draws as
`dim_2_spread`). A unit of dim 2 is therefore about, not exactly, one chamber sd, and
distances on dim 2 compare with dim 1's only that far.

Dim 1 has the default model's party level, entry for entry (`stats/party_level.py`, the
same groups and the same mixture for the unaffiliated).
PRIORS["plane"] multiplies the prior by exp(-(rho_i / edge)^power) per member, rho_i the
distance of (xi_i, xi_2_i) from the centre (edge 4 chamber sd, power 8: 1 nat at 4, 6 at
5, 26 at 6), bounded room as W-NOMINATE's unit circle gives.

The gauge needs no Jacobian: iid Normal w standardized is uniform on the sphere {mean 0,
sd 1} and independent of w's own mean and sd; given xi, w_2's components along the
orthonormal directions 1, xi and d are independent of the rest, which is xi_2. So the
gauge multiplies the model's density by a proper density of those five directions, which
nothing reports (`test_the_gauge_is_inert`).

Orientation of dim 2, a documented rule whose reference is decided once per posterior
(`orient_second_dimension`): v, the leading eigenvector of the draws' second moment of
xi_2 (unchanged by any draw's reflection: the posterior's own dim-2 configuration up to
sign, nothing from the start); every draw aligned with v (xi_2 with beta_2 negated where
xi_2 . v < 0); then every draw's sign negated if the posterior means lean the wrong way
under `pca.orient_second`. Positive dim 2 is the side of each side's members farther
from the other side on dim 1. The posterior is symmetric under the reflection, so this
is the posterior restricted to the half-space {xi_2 . v > 0}, whose boundary is
orthogonal to the direction the draws spread along most (largest sum of (xi_2 . v)^2). Where dim 2 is weak the draws sit near any boundary
and cross it: their dim 2 is then a convention more than a finding. How weak is
recorded: each chain's share of draws aligned against its own majority
(`dim_2_crossing`, 0 in a chain that stays in one mirror image, near 0.5 in one that
crosses freely), the lean as `second_dimension_lean`, the draws negated per chain as
`reflected_draws` (why not the start's dim 2, nor whole chains: docs/models.md,
"Orientation of dim 2"). The angle of the plane's main axis of discrimination from dim
1 is recorded as `main_axis_degrees` (`main_axis_angle`); the plane is not turned onto
it (measured: docs/models.md, "Which direction is dim 1").

Coordinates. The sampler moves x = (w (n), mu (G), log sigma (G), w_2 (n), a (m), log
tau, log(tau_2 sd(xi_2)), beta (m), z_2 (m)) with alpha_j = a_j + c_j .
(beta_j, beta_2_j) (the cutpoint shear of the one-dimensional models). The party level
is centred (the default model's gauge design); dim 2's discriminations are non-centred
(beta_2 = tau_2 z_2: centred, tau_2 near 0 is a funnel); dim 2's discrimination scale is
sampled per chamber sd of dim 2, log(tau_2 sd(xi_2)), which turns the ridge of xi_2
growing while tau_2 shrinks into an axis."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from irt_pipeline.stats import callbacks
from irt_pipeline.stats import kernel as k
from irt_pipeline.stats import party_level as pl
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models import hierarchical
from irt_pipeline.stats.models.hierarchical import party_start
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.parties import party_groups
from irt_pipeline.stats.pca import default_weights, orient, orient_second, second_dimension_lean
from irt_pipeline.stats.priors import KernelPriors, Normal, SoftBound, logp
from irt_pipeline.stats.starts import cutpoint_shear, item_logits, jittered_items

# The priors: the PyMC graph and the kernel both read this table. Dim 1's party level
# is the default model's, entry for entry (stats/party_level.py); "tau" is the prior of each
# dimension's discrimination scale (tau and tau_2); "xi_2" is dim 2's prior, iid on the
# sampler's w_2 (dim 2 is w_2's projection, not rescaled: its spread is the data's);
# "plane" bounds each member's distance from the centre of the plane (module docstring).
PRIORS = {
    **{name: hierarchical.PRIORS[name] for name in ("gauge", "alpha", "tau", "mu_party", "sigma_party")},
    "xi_2": Normal(0.0, 1.0),
    "plane": SoftBound(edge=4.0, power=8.0),
}
# The kernel reads floats[P.alpha_mu] ...; from P.end: the mixture weights (G), the
# contrast (n), then the cutpoints (m per dimension).
KERNEL_PRIORS = KernelPriors(PRIORS)
P = KERNEL_PRIORS.at
GATED = {"xi": ("xi",), "xi_2": ("xi_2",), "party": ("mu_party", "sigma_party"), "tau": ("tau", "tau_2")}
STARTS = ("pc1", "pc2")
ODD = ("xi", "beta", "mu_party")  # dim 1's mirror image (dim 2's: `orient_second_dimension`)
# Twice the one-dimensional models' cap on kept draws per chain: with the default 4,000,
# 4 of 11 chambers measured ran to the cap (the 88th, 115th and 116th Senates and the
# 117th House cut to 107 roll calls; docs/models.md), dim 2's scale and the party level
# mixing slowest. At 8,000 the 115th stops at 7,250 with every gate clear, the 116th
# and that House at 4,500; the 88th runs to the cap and passes. The 1D models stop by
# 2,750 on every shared chamber.
MAX_DRAWS_FACTOR = 2
SCALE = (
    "two uncorrelated dimensions with chamber mean 0; dim 1 (xi) standardized (sd 1), positive = "
    "conservative; dim 2 (xi_2) on the scale of its Normal(0, 1) prior (its spread estimated, not fixed), "
    "positive = the side of each side's members farther from the other side on dim 1; the orientation "
    "rule's sides differ on dim 1 only"
)


def contrast(weights) -> np.ndarray:
    """(n,) d = r - mean(r) for the orientation rule's r: d . v is the rule's positive side's
    mean of v minus its negative side's (sums to 0)."""
    weights = np.asarray(weights, float)
    return weights - weights.mean()


def project_second(w2, x1, d):
    """Dim 2 from w2: the part of w2 orthogonal to 1, x1 and d (the orthogonal
    projection, not rescaled: mean 0, its length w2's own). x1: standardized dim 1
    (|x1|^2 = n). Written once for numpy arrays and PyTensor tensors alike (the graph
    and `Layout.reported`); the kernel's `second_dimension` computes the same."""
    n = x1.shape[0]
    e1 = x1 / n**0.5
    d_rest = d - (d * e1).sum() * e1
    e2 = d_rest / ((d_rest**2).sum()) ** 0.5
    return w2 - w2.mean() - (w2 * e1).sum() * e1 - (w2 * e2).sum() * e2


def rms(v):
    """sqrt(mean(v^2)): dim 2's spread (its sd, as its mean is 0), for numpy arrays and
    PyTensor tensors alike."""
    return ((v**2).mean()) ** 0.5


def align(positions, weights) -> np.ndarray:
    """Any (n, 2) positions in the model's frame: the affine map (unique up to the two
    reflections) that gives both dimensions mean 0 and sd 1, uncorrelated, with the
    orientation rule's sides apart on dim 1 only; then dim 1 oriented by the rule (r) and
    dim 2 by `pca.orient_second`. The likelihood cannot tell positions apart that differ
    by such a map, so this is how a truth (a simulation's, or another scaling's) is
    compared with the model's xi, xi_2. Returns (n, 2)."""
    x = np.asarray(positions, float)
    x = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(x.T @ x / len(x))
    z = x @ vectors / np.sqrt(values)  # whitened: covariance I
    direction = contrast(weights) @ z
    direction /= np.linalg.norm(direction)
    xi = orient(z @ direction, weights)
    xi_2 = orient_second(xi, z @ np.array([-direction[1], direction[0]]), weights)
    return np.column_stack([xi, xi_2])


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x (n legislators, m roll calls, G groups): w (n), mu (G),
    log sigma (G), w_2 (n), a (m), log tau, log(tau_2 sd(xi_2)), beta (m), z_2 (m)
    (beta_2 = tau_2 z_2). groups: (n,) int64 (`stats/parties.py`, -1 unaffiliated);
    weights: (G,) the mixture's; contrast: (n,) d; shear: (m, 2) cutpoints c_j, alpha_j
    = a_j + c_j . (beta_j, beta_2_j); reference: (n,) the start's dim 2 (kept for
    inspection; dim 2's sign reads the posterior's own draws)."""

    n_legislators: int
    n_roll_calls: int
    groups: np.ndarray
    weights: np.ndarray
    contrast: np.ndarray
    shear: np.ndarray
    reference: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.weights)

    @property
    def ndim(self) -> int:
        return 2 * self.n_legislators + 2 * self.n_groups + 2 + 3 * self.n_roll_calls

    def slices(self) -> dict[str, slice | int]:
        n, m, g = self.n_legislators, self.n_roll_calls, self.n_groups
        q, p = n + 2 * g, 2 * n + 2 * g + m  # w_2 starts at q, log tau sits at p
        return {  # named as the PyMC graph's value variables
            "w": slice(0, n), "mu_party": slice(n, n + g), "sigma_party_log__": slice(n + g, q),
            "w_2": slice(q, q + n), "a": slice(q + n, p), "tau_log__": p, "tau_2_scaled_log": p + 1,  # scalars
            "beta": slice(p + 2, p + 2 + m), "z_2": slice(p + 2 + m, p + 2 + 2 * m),
        }

    def positions(self, w: np.ndarray, w_2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xi = (w - w.mean()) / w.std()
        return xi, project_second(w_2, xi, self.contrast)

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        s = self.slices()
        xi, xi_2 = self.positions(x[s["w"]], x[s["w_2"]])
        tau_2 = math.exp(x[s["tau_2_scaled_log"]]) / rms(xi_2)
        beta, beta_2 = x[s["beta"]], tau_2 * x[s["z_2"]]
        return {
            "xi": xi, "xi_2": xi_2,
            "mu_party": x[s["mu_party"]].copy(), "sigma_party": np.exp(x[s["sigma_party_log__"]]),
            "tau": np.exp(x[s["tau_log__"]]).reshape(()), "tau_2": np.array(tau_2),
            "alpha": x[s["a"]] + self.shear[:, 0] * beta + self.shear[:, 1] * beta_2,
            "beta": beta.copy(), "beta_2": beta_2.copy(),
        }

    def unconstrained(self, start: dict) -> np.ndarray:
        """x for a start given as xi, xi_2 (on the constraint set: the map leaves them
        as they are), mu_party and sigma_party (G each), alpha, beta (m, 2) and tau (2,)."""
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["w"]], x[s["w_2"]] = start["xi"], start["xi_2"]
        x[s["mu_party"]] = start["mu_party"]
        x[s["sigma_party_log__"]] = np.log(start["sigma_party"])
        beta = np.asarray(start["beta"], float)
        x[s["a"]] = start["alpha"] - np.sum(self.shear * beta, axis=1)
        x[s["tau_log__"]] = math.log(start["tau"][0])
        x[s["tau_2_scaled_log"]] = math.log(start["tau"][1] * rms(np.asarray(start["xi_2"], float)))
        x[s["beta"]], x[s["z_2"]] = beta[:, 0], beta[:, 1] / start["tau"][1]
        return x


def start_positions(pca: np.ndarray, weights: np.ndarray, contrast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The start's (xi, xi_2) from (n, 2) PCA scores: pc1 oriented by the rule (r,
    `weights`) and standardized; pc2 projected onto the constraint set and oriented by
    `orient_second`. Without a usable second component (a matrix of one roll call), a
    fixed pseudo-random direction."""
    pca = np.asarray(pca, float).reshape(len(contrast), -1)
    xi = orient(pca[:, 0], weights)
    xi = (xi - xi.mean()) / xi.std()
    second = pca[:, 1] if pca.shape[1] > 1 else np.zeros(len(xi))
    rest = second - second.mean() - (second @ xi) / len(xi) * xi
    if rest.std() < 1e-8 * max(1.0, second.std()):
        second = np.random.default_rng(0).standard_normal(len(xi))
    rest = project_second(second, xi, contrast)
    return xi, orient_second(xi, rest / rest.std(), weights)  # sd 1: about the prior's spread


def bind(matrix: VoteMatrix, pca: np.ndarray, orientation: np.ndarray | None = None) -> Bound:
    """The model on this matrix; pca: (n, 2) PCA scores (pc1, pc2) in matrix row order;
    orientation: (n,) the rule's r (default: the built-in party poles)."""
    parties = party_groups(matrix.legislators["party"])
    weights = default_weights(matrix.legislators["party"]) if orientation is None else np.asarray(orientation, float)
    if not np.any(weights):
        raise ValueError("the two-dimensional model needs an orientation rule with at least one side (its contrast)")
    n, m = matrix.shape
    groups, count = parties.groups, parties.count
    d = contrast(weights)
    xi, xi_2 = start_positions(pca, weights, d)
    alpha, beta = item_logits(matrix.votes, np.column_stack([xi, xi_2]))
    layout = Layout(n, m, groups, parties.weights, d, cutpoint_shear(alpha, beta), xi_2)
    tau = np.maximum(np.sqrt(np.mean(beta**2, axis=0)), 0.1)
    mu, sigma = party_start(xi, groups, count)

    def start(rng):  # jittered as the default model's start (`hierarchical.start_values`)
        jittered_alpha, jittered_beta = jittered_items(alpha, beta, rng)
        return layout.unconstrained({
            "xi": xi, "xi_2": xi_2, "mu_party": mu + rng.uniform(-0.05, 0.05),
            "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, size=count)),
            "alpha": jittered_alpha, "beta": jittered_beta, "tau": tau * np.exp(rng.uniform(-0.2, 0.2, size=2)),
        })

    floats = np.concatenate([KERNEL_PRIORS.pack(PRIORS), layout.weights, d, layout.shear[:, 0], layout.shear[:, 1]])
    legislator, party, roll_call = ("legislator",), ("party",), ("roll_call",)
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "xi_2": (n,), "mu_party": (count,), "sigma_party": (count,), "tau": (), "tau_2": (),
                  "alpha": (m,), "beta": (m,), "beta_2": (m,)},
        dims={"xi": legislator, "xi_2": legislator, "mu_party": party, "sigma_party": party, "tau": (),
              "tau_2": (), "alpha": roll_call, "beta": roll_call, "beta_2": roll_call},
        coords={
            "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
            "party": list(parties.names),
            "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        },
        start=start,
        kernel_data=callbacks.KernelData.of(matrix.signed_votes(), np.append(groups, count), floats),
        layout=layout,
        orientation=weights,
    )


def graph(matrix: VoteMatrix, bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order). The kernel computes the same density faster (tested equal)."""
    import pymc as pm

    layout: Layout = bound.layout
    shear = layout.shear
    rows, cols, y = matrix.observed
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        xi, mu_party, sigma_party = pl.gauge_graph(PRIORS)
        w_2 = PRIORS["xi_2"].rv("w_2", dims="legislator")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau")
        tau_2_scaled_log = pm.Flat("tau_2_scaled_log")  # log(tau_2 sd(xi_2)): a unit-Jacobian shear
        beta = pm.Normal("beta", 0.0, tau, dims="roll_call")
        z_2 = pm.Normal("z_2", 0.0, 1.0, dims="roll_call")
        xi = pm.Deterministic("xi", xi, dims="legislator")
        xi_2 = pm.Deterministic("xi_2", project_second(w_2, xi, layout.contrast), dims="legislator")
        tau_2 = pm.Deterministic("tau_2", pm.math.exp(tau_2_scaled_log) / rms(xi_2))
        pm.Potential("tau_2_prior", logp(PRIORS["tau"], tau_2) + pm.math.log(tau_2))  # as sampled in log tau_2
        beta_2 = pm.Deterministic("beta_2", tau_2 * z_2, dims="roll_call")
        alpha = pm.Deterministic("alpha", a + shear[:, 0] * beta + shear[:, 1] * beta_2, dims="roll_call")
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        pm.Potential("xi_prior", pl.members_graph(xi, mu_party, sigma_party, layout.groups, layout.weights))
        pm.Potential("plane_bound", logp(PRIORS["plane"], (xi**2 + xi_2**2) ** 0.5).sum())
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] + beta_2[cols] * xi_2[rows] - alpha[cols],
            observed=y.astype("int8"), dims="vote",
        )
    return model


# ------------------------------------------------------------------ the kernel


@njit
def second_dimension(w2, x1, d, x2, e2):
    """`project_second` forward: writes x2 and e2 (the unit party contrast orthogonal to
    x1) and returns what the backward pass needs: (|d - (d.e1) e1|, d.e1, w2.e1,
    w2.e2), with e1 = x1 / sqrt(n)."""
    n = x1.shape[0]
    root = math.sqrt(n)
    dd = 0.0
    for i in range(n):
        dd += d[i] * x1[i]
    dd /= root
    nd = 0.0
    for i in range(n):
        e2[i] = d[i] - dd * x1[i] / root
        nd += e2[i] * e2[i]
    nd = math.sqrt(nd)
    center, b1, b2 = 0.0, 0.0, 0.0
    for i in range(n):
        e2[i] /= nd
        center += w2[i]
        b1 += w2[i] * x1[i]
        b2 += w2[i] * e2[i]
    center /= n
    b1 /= root
    for i in range(n):
        x2[i] = w2[i] - center - b1 * x1[i] / root - b2 * e2[i]
    return nd, dd, b1, b2


@njit
def second_dimension_backward(h, w2, x1, d, e2, nd, dd, b1, b2, grad_w2, grad_x1):
    """Chain rule through `second_dimension` given h = d(f)/d(x2): adds d(f)/d(w2) to
    grad_w2 and d(f)/d(x1) (x1 moves the projection) to grad_x1."""
    n = x1.shape[0]
    root = math.sqrt(n)
    h_mean, h1, h2 = 0.0, 0.0, 0.0
    for i in range(n):
        h_mean += h[i]
        h1 += h[i] * x1[i]
        h2 += h[i] * e2[i]
    h_mean /= n
    h1 /= root
    for i in range(n):
        grad_w2[i] += h[i] - h_mean - h1 * x1[i] / root - h2 * e2[i]
    # d(f)/d(e2) = -h2 w2 - b2 h, whose component along e2 is -2 h2 b2; through
    # e2 = d_rest / |d_rest| and d_rest = d - (d.e1) e1 back to e1, with e1's own
    # terms -h1 w2 - b1 h; then x1 = sqrt(n) e1.
    g_rest = np.empty(n)  # d(f)/d(d_rest)
    he1 = 0.0
    for i in range(n):
        g_rest[i] = (-h2 * w2[i] - b2 * h[i] + 2.0 * h2 * b2 * e2[i]) / nd
        he1 += g_rest[i] * x1[i]
    he1 /= root
    for i in range(n):
        grad_x1[i] += (-h1 * w2[i] - b1 * h[i] - he1 * d[i] - dd * g_rest[i]) / root


@njit
def plane_bound_logp(lp, x1, x2, edge, power, grad_x1, grad_x2):
    """lp plus the soft bound of the plane, -(rho_i / edge)^power for rho_i the distance
    of (x1_i, x2_i) from the origin; adds its gradient into grad_x1 and grad_x2 (n,)."""
    for i in range(x1.shape[0]):
        rho2 = x1[i] * x1[i] + x2[i] * x2[i]
        if rho2 == 0.0:
            continue
        wall = (rho2 / (edge * edge)) ** (0.5 * power)
        lp -= wall
        grad_x1[i] -= power * wall * x1[i] / rho2
        grad_x2[i] -= power * wall * x2[i] / rho2
    return lp


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order (w, mu (G), log sigma (G), w_2, a, log tau,
    log(tau_2 sd(xi_2)), beta, z_2); votes: (n, m) +1/-1/0; ints: (n + 1,) the groups (-1
    unaffiliated) and G; floats: the packed PRIORS (positions P), the mixture weights
    (G), the contrast (n), then the cutpoints of dim 1 (m) and dim 2 (m). Returns the
    log-density with every constant, equal to `graph`'s.
    """
    n, m = votes.shape
    group = ints[:n]
    count = ints[n]
    priors = pl.party_priors(floats, P)
    alpha_mu, alpha_sd, tau_sd = floats[P.alpha_mu], floats[P.alpha_sigma], floats[P.tau_sigma]
    dim2_mu, dim2_sd = floats[P.xi_2_mu], floats[P.xi_2_sigma]
    edge, power = floats[P.plane_edge], floats[P.plane_power]
    weights = floats[P.end : P.end + count]
    o = P.end + count
    d = floats[o : o + n]
    shear1 = floats[o + n : o + n + m]
    shear2 = floats[o + n + m : o + n + 2 * m]
    q, p = n + 2 * count, 2 * n + 2 * count + m  # w_2 starts at q, log tau sits at p
    a = x[q + n : p]
    beta1 = x[p + 2 : p + 2 + m]
    z2 = x[p + 2 + m : p + 2 + 2 * m]
    grad_a = grad[q + n : p]
    grad_beta1 = grad[p + 2 : p + 2 + m]
    grad_z2 = grad[p + 2 + m : p + 2 + 2 * m]
    grad_beta2 = np.zeros(m)

    # Dim 1 and the party level (the default model's gauge design), then dim 2's prior
    # (iid on w_2).
    x1, grad_x1 = np.empty(n), np.zeros(n)
    mu, sigma = np.empty(count), np.empty(count)
    grad_mu, grad_log_sigma = np.zeros(count), np.zeros(count)
    lp, sd1 = pl.gauge_forward(x[:n], x[n : n + count], x[n + count : q], x1, mu, sigma, priors[0], priors[1],
                               grad[:n])
    lp += pl.level_logp(x1, mu, sigma, group, weights, priors, grad_x1, grad_mu, grad_log_sigma)
    for i in range(q, q + n):
        lp += k.normal_logp(x[i], dim2_mu, dim2_sd)
        grad[i] = -(x[i] - dim2_mu) / (dim2_sd * dim2_sd)
    x2 = np.empty(n)
    e2 = np.empty(n)
    nd, dd, b1, b2 = second_dimension(x[q : q + n], x1, d, x2, e2)
    squares = 0.0
    for i in range(n):
        squares += x2[i] * x2[i]
    log_tau2 = x[p + 1] - 0.5 * math.log(squares / n)  # tau_2 = exp(x[p + 1]) / sd(xi_2)
    tau2 = math.exp(log_tau2)
    beta2 = tau2 * z2
    alpha = a + shear1 * beta1 + shear2 * beta2
    items, grad[p] = k.items_logp(alpha, x[p], beta1, grad_a, grad_beta1, alpha_mu, alpha_sd, tau_sd)
    lp += items + k.halfnormal_logp(tau2, tau_sd) + log_tau2  # tau_2, sampled as log tau_2
    grad_log_tau2 = 1.0 - (tau2 / tau_sd) ** 2
    for j in range(m):
        lp += k.normal_logp(z2[j], 0.0, 1.0)

    grad_x2 = np.zeros(n)
    lp = plane_bound_logp(lp, x1, x2, edge, power, grad_x1, grad_x2)
    lp += k.twopl2_loglik(votes, x1, x2, alpha, beta1, beta2, grad_x1, grad_x2, grad_a, grad_beta1, grad_beta2)
    for j in range(m):
        grad_beta1[j] += shear1[j] * grad_a[j]
        grad_beta2[j] += shear2[j] * grad_a[j]
        grad_z2[j] = -z2[j] + tau2 * grad_beta2[j]  # beta_2 = tau_2 z_2
        grad_log_tau2 += beta2[j] * grad_beta2[j]
    grad[p + 1] = grad_log_tau2
    for i in range(n):  # log tau_2 = x[p + 1] - log sd(xi_2)
        grad_x2[i] -= grad_log_tau2 * x2[i] / squares
    second_dimension_backward(grad_x2, x[q : q + n], x1, d, e2, nd, dd, b1, b2, grad[q : q + n], grad_x1)
    pl.gauge_backward(grad_x1, x1, sd1, grad[:n], grad_mu, grad_log_sigma, grad[n : n + count], grad[n + count : q])
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (n), xi_2 (n), mu_party (G),
    sigma_party (G), tau, tau_2, alpha (m), beta (m), beta_2 (m) (= tau_2 z_2)."""
    n, m = votes.shape
    count = ints[n]
    o = P.end + count
    d = floats[o : o + n]
    shear1 = floats[o + n : o + n + m]
    shear2 = floats[o + n + m : o + n + 2 * m]
    q, p = n + 2 * count, 2 * n + 2 * count + m
    k.standardize(x[:n], out[:n])
    second_dimension(x[q : q + n], out[:n], d, out[n : 2 * n], np.empty(n))
    for g in range(count):
        out[2 * n + g] = x[n + g]
        out[2 * n + count + g] = math.exp(x[n + count + g])
    r = 2 * n + 2 * count  # tau, tau_2, then the roll calls
    out[r] = math.exp(x[p])
    squares = 0.0
    for i in range(n, 2 * n):
        squares += out[i] * out[i]
    out[r + 1] = math.exp(x[p + 1]) / math.sqrt(squares / n)
    for j in range(m):
        beta1, beta2 = x[p + 2 + j], out[r + 1] * x[p + 2 + m + j]
        out[r + 2 + j] = x[q + n + j] + shear1[j] * beta1 + shear2[j] * beta2
        out[r + 2 + m + j] = beta1
        out[r + 2 + 2 * m + j] = beta2


# ------------------------------------------------------------------ orientation of dim 2


def _values(post, name) -> np.ndarray:
    return post[name].transpose("chain", "draw", ...).values


def _store(post, name, values: np.ndarray) -> None:
    """Write (chain, draw, ...) values back to `name` of an ArviZ posterior group."""
    order = post[name].transpose("chain", "draw", ...)
    post[name] = order.copy(data=values).transpose(*post[name].dims)


def main_axis_angle(xi_2: np.ndarray, beta: np.ndarray, beta_2: np.ndarray) -> float:
    """The angle (degrees, in (-90, 90], from dim 1 toward dim 2) of the plane's main axis
    of discrimination: the leading eigenvector of sum_j b_j b_j^T over every roll call and
    draw, b_j = (beta_j, beta_2_j sd(xi_2)) the discriminations in the frame where both
    dimensions have sd 1 in every draw. xi_2: (chain, draw, n); beta, beta_2: (chain,
    draw, m). Reported, not applied: turning dim 1 onto it agrees worse with Nokken-Poole's
    dim 1 on both shared Senates of the second-dimension era (docs/models.md, "Which
    direction is dim 1")."""
    spread = np.sqrt(np.mean(xi_2**2, axis=-1))  # (chain, draw): dim 2's sd (mean 0)
    b = np.stack([beta, beta_2 * spread[..., None]], axis=-1).reshape(-1, 2)
    axis = np.linalg.eigh(b.T @ b)[1][:, 1]
    angle = math.degrees(math.atan2(axis[1], axis[0]))
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle


def _against_configuration(x2: np.ndarray) -> np.ndarray:
    """(chain, draw) bool: the draws whose xi_2 points against v, the leading eigenvector
    of the pooled draws' second moment of xi_2 (n x n; no draw's sign enters it).
    x2: (chain, draw, n)."""
    pooled = x2.reshape(-1, x2.shape[-1])
    v = np.linalg.eigh(pooled.T @ pooled)[1][:, -1]
    return x2 @ v < 0.0


def align_look(post) -> None:
    """Dim 2 of a stopping-rule look aligned as `orient_second_dimension` aligns the
    posterior (in place; xi_2 and, where the look holds it, beta_2), so that the looks
    judge the draws the gates will judge. The overall sign is left: no diagnostic reads it."""
    flip = _against_configuration(_values(post, "xi_2"))
    if flip.any():
        for name in ("xi_2", "beta_2"):
            if name in post:
                values = _values(post, name)
                _store(post, name, np.where(flip[..., None], -values, values))


def orient_second_dimension(post, weights) -> dict:
    """Dim 2's sign (module docstring, "Orientation of dim 2"), in place on an ArviZ
    posterior group. The reference is decided once per posterior, from its own draws:
    v, the leading eigenvector of the draws' second moment of xi_2 (n x n; unchanged by
    any draw's reflection, so no draw's sign enters it, and nothing from the start). Every
    draw is aligned with v (xi_2 and beta_2 negated where xi_2 . v < 0), then every draw's
    sign is negated if the posterior means' `pca.second_dimension_lean` is negative.
    weights: (n,) the rule's r in the posterior's legislator order. Returns the draws
    negated per chain (relative to the sampler's draws), each chain's share of draws
    aligned against its own majority (`dim_2_crossing`: 0 when a chain stays in one mirror
    image, near 0.5 when it crosses freely, where dim 2 is weak), the lean (not
    negative), dim 2's mean sd over the draws and `main_axis_angle`."""
    x2, b2 = _values(post, "xi_2"), _values(post, "beta_2")  # (chain, draw, n), (chain, draw, m)
    flip = _against_configuration(x2)  # (chain, draw)
    x2, b2 = np.where(flip[..., None], -x2, x2), np.where(flip[..., None], -b2, b2)
    lean = second_dimension_lean(post["xi"].mean(("chain", "draw")).values, x2.mean(axis=(0, 1)), weights)
    if lean < 0:
        x2, b2, flip = -x2, -b2, ~flip
    share = flip.mean(axis=1)
    _store(post, "xi_2", x2)
    _store(post, "beta_2", b2)
    return {
        "draws": [int(v) for v in flip.sum(axis=1)],
        "dim_2_crossing": [round(float(min(f, 1.0 - f)), 4) for f in share],
        "lean": abs(lean),
        "dim_2_spread": round(float(np.sqrt(np.mean(x2**2, axis=-1)).mean()), 4),
        "main_axis_degrees": round(main_axis_angle(x2, _values(post, "beta"), b2), 2),
    }


def postprocess(idata, bound: Bound) -> dict:
    """Dim 2's sign (`orient_second_dimension`); records the draws negated per chain
    (`reflected_draws`), the lean of dim 2, each chain's share of draws aligned against
    its own majority, dim 2's spread and the main axis's angle."""
    frame = orient_second_dimension(idata.posterior, bound.orientation)
    return {
        "reflected_draws": json.dumps({"xi_2": frame["draws"]}),
        "second_dimension_lean": round(float(frame["lean"]), 4),
        "dim_2_crossing": json.dumps(frame["dim_2_crossing"]),
        "dim_2_spread": frame["dim_2_spread"],
        "main_axis_degrees": frame["main_axis_degrees"],
    }


SPEC = ModelSpec(
    name="two_dimensional_2pl",
    key="2d",
    title="the two-dimensional 2PL model",
    # 2: a party level on both dimensions. 3: dim 2 not standardized (a Normal prior on it,
    # its spread estimated), a soft bound on the plane, tau_2 sampled per sd of dim 2. 4: the
    # party level over whatever parties the chamber has, the sign by the orientation rule. 5:
    # dim 2 aligned with the posterior's own dim-2 configuration, not the start's
    version="5",
    job="two_dimensional_chain",
    suffix="_2d",
    beside_default=True,
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    scale=SCALE,
    postprocess=postprocess,
    align_look=align_look,
    odd=ODD,
    jittered=("a", "beta", "z_2"),
    starts=STARTS,
    max_draws_factor=MAX_DRAWS_FACTOR,
)
