"""The hierarchical 2PL IRT model (the default): priors, coordinates, starts, graph,
kernel.

Per chamber and session (n legislators, m roll calls, G party groups:
`stats/parties.py`), with the priors of `PRIORS`:

    xi          standardized: mean(xi) = 0 and sd(xi) = 1 over the chamber (population sd)
    mu_party    ~ PRIORS["mu_party"]                        every group, exchangeable
    sigma_party ~ PRIORS["sigma_party"]
    xi_i        ~ Normal(mu_party[g], sigma_party[g])       members of group g
    xi_i        ~ sum_g w_g Normal(mu_party[g], sigma_party[g])    the unaffiliated
    alpha_j     ~ PRIORS["alpha"]
    tau         ~ PRIORS["tau"]                             scale of the discriminations
    beta_j      ~ Normal(0, tau)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j               observed votes only

(`stats/party_level.py` holds the party level, shared with the two-dimensional model.)
A chamber without a party group (nonpartisan) has no party level: the model is then the
flat model's prior on the standardized positions.

Identification. The likelihood is unchanged by xi -> a + b xi (with beta -> beta / b,
alpha -> alpha - beta a / b), so the first line fixes location and scale exactly and
leaves rankings and relative positions as they are; every prior then means what it says
on the stated scale, and xi is reported in standard deviations of the chamber. The sign
is left: the density is the same for xi and -xi (with beta and mu), and the draws are
put on the side the partition's orientation rule states (`stats/orientation.py`: xi, beta
and mu_party negated in a draw where r . xi < 0; `ModelSpec.odd`), which is exactly the
posterior restricted to that half.

The discrimination scale tau is estimated: how sharply roll calls split the chamber is
the data's to say (docs/models.md). A party's spread has a boundary-avoiding prior
(Gamma(2, 4): mean 0.5 chamber sd, little mass near 0): no real party is a bloc of
identical members, and a spread near 0 is a funnel in a small chamber.

Coordinates. The sampler moves one of two exact coordinate systems for the ideal points
and the party level, chosen per chamber by how much the votes say about each member's
position (`choose_coordinates`), then a (m), log tau, beta (m), with

    alpha_j = a_j + c_j beta_j          c_j: roll call j's cutpoint from the start, fixed

- "gauge" (centered), for chambers whose votes pin every member's position: x = (w (n),
  mu (G), log sigma (G), ...), xi = (w - mean w) / sd w, and w_i ~ PRIORS["gauge"] iid as
  a gauge: iid Normal w standardized is uniform on the constraint surface and
  independent of w's own mean and sd, so the gauge's density adds nothing but a proper
  density of (mean w, sd w), which nothing reports (`test_the_gauge_is_inert`).
- "anchored" (non-centered; two groups or more), for chambers whose votes say little next
  to a party's spread (few roll calls, or a party that votes as a bloc): x = (z (n),
  log s (G), m (G - 2), ...), v_i = A_g + s_g z_i for members (A_0, A_1: the two
  largest groups' anchors, -1 and +1 in the order of their start means; A_g = m_g for
  the others), v_i = z_i for the unaffiliated, xi = (v - mean v) / sd v, mu_g = (A_g -
  mean v) / sd v, sigma_g = s_g / sd v: a bijection onto (xi on the constraint surface,
  mu, sigma), with the exact Jacobian (2/n) sd^-(n + 2G - 1) prod_g s_g^(n_g + 1)
  (checked numerically by `test_log_jacobian_matches_numeric_determinant`).

Why two: in the anchored coordinates a change of the party means with the ideal points
held is a move of every coordinate at once, so where the votes pin the positions the
party level mixes slowly (R-hat up to 1.05, bulk ESS 71 on older Senates); in the gauge
coordinates the party level is centered, a funnel where the votes do not pin the
positions (16 divergences and E-BFMI 0.18 on the first 31 roll calls of the 118th
Senate). Each is the other's remedy; both are the same model.

The cutpoint shear is linear with unit Jacobian: a near-party-line roll call's (alpha,
beta) lie along alpha = c beta, a long thin ridge for a diagonal mass matrix; in (a,
beta) that ridge is axis-aligned (~3x fewer leapfrog steps on the 117th Senate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from irt_pipeline.stats import callbacks
from irt_pipeline.stats import kernel as k
from irt_pipeline.stats import party_level as pl
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.parties import party_groups
from irt_pipeline.stats.pca import default_weights
from irt_pipeline.stats.priors import Gamma, HalfNormal, KernelPriors, Normal, logp
from irt_pipeline.stats.starts import cutpoint_shear, dispersed, item_logits, jittered_items

# The priors, written here only: the PyMC graph and the kernel both read this table.
PRIORS = {
    "gauge": Normal(0.0, 1.0),
    "alpha": Normal(0.0, 5.0),
    "tau": HalfNormal(5.0),
    "mu_party": Normal(0.0, 2.0),
    "sigma_party": Gamma(2.0, 4.0),
}
# The kernel's view of the table: every parameter's place in `floats`, by name (P.alpha_mu),
# then from P.end the mixture weights (G), the anchors (2) and the m cutpoints.
KERNEL_PRIORS = KernelPriors(PRIORS)
P = KERNEL_PRIORS.at

GAUGE, ANCHORED = 0, 1
COORDINATES = ("gauge", "anchored")
# Gauge coordinates where, in every group, a member's votes carry at least this many
# times the precision of the party's prior spread (its prior mean, 0.5 sd of the chamber).
# (The start's own spread of each group, tried instead, is no guide: PCA compresses a
# tight party, e.g. the 117th Senate's Democrats to 0.05 sd, and it sent five shared
# chambers that pass in the gauge coordinates to the anchored ones, where the 118th
# Senate's party level mixed too slowly to pass at the cap; docs/models.md.)
GAUGE_MIN_INFORMATION = 4.0
MIN_ANCHOR_GAP = 0.1  # start means of the two largest groups closer than this: gauge
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "tau": ("tau",)}
ODD = ("xi", "beta", "mu_party")  # negated together when a draw is put on the rule's side
SCALE = "standardized: chamber mean 0, sd 1; positive = conservative, by the partition's orientation rule"


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x (n legislators, m roll calls, G groups): the party
    block (gauge: w (n), mu (G), log sigma (G); anchored: z (n), log s (G), m (G - 2)),
    then a (m), log tau (1), beta (m). groups: (n,) int64 (-1: unaffiliated); weights:
    (G,) the mixture's; anchors: (2,) A_0, A_1; design: GAUGE or ANCHORED; shear: (m,)
    cutpoints c_j, alpha_j = a_j + c_j beta_j."""

    n_legislators: int
    n_roll_calls: int
    groups: np.ndarray
    weights: np.ndarray
    anchors: np.ndarray
    design: int
    shear: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.weights)

    @property
    def party_block(self) -> int:
        n, g = self.n_legislators, self.n_groups
        return n + 2 * g if self.design == GAUGE else n + g + max(g - 2, 0)

    @property
    def ndim(self) -> int:
        return self.party_block + 1 + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice | int]:
        n, m, g, p = self.n_legislators, self.n_roll_calls, self.n_groups, self.party_block
        if self.design == GAUGE:
            party = {"w": slice(0, n), "mu_party": slice(n, n + g), "sigma_party_log__": slice(n + g, n + 2 * g)}
        else:
            party = {"z": slice(0, n), "log_spread": slice(n, n + g)}
            if g > 2:
                party["m_free"] = slice(n + g, p)
        return {  # named as the PyMC graph's value variables
            **party, "a": slice(p, p + m), "tau_log__": p + m, "beta": slice(p + 1 + m, p + 1 + 2 * m),
        }

    def sizes(self) -> np.ndarray:
        return np.array([(self.groups == g).sum() for g in range(self.n_groups)], dtype=float)

    def _anchored_v(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(v, the groups' v-scale means A, spreads s) at x (anchored design)."""
        n, g = self.n_legislators, self.n_groups
        s = np.exp(x[n : n + g])
        means = np.concatenate([self.anchors, x[n + g : n + g + max(g - 2, 0)]])
        members = self.groups >= 0
        v = x[:n].copy()
        v[members] = means[self.groups[members]] + s[self.groups[members]] * x[:n][members]
        return v, means, s

    def party_level(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """xi, mu_party, sigma_party at unconstrained point x."""
        n, g = self.n_legislators, self.n_groups
        if self.design == GAUGE:
            w = x[:n]
            return {"xi": (w - w.mean()) / w.std(), "mu_party": x[n : n + g].copy(),
                    "sigma_party": np.exp(x[n + g : n + 2 * g])}
        v, means, s = self._anchored_v(x)
        center, sd = v.mean(), v.std()
        return {"xi": (v - center) / sd, "mu_party": (means - center) / sd, "sigma_party": s / sd}

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The model's variables at unconstrained point x, in `bind`'s `reported` order."""
        s = self.slices()
        beta = x[s["beta"]]
        return {
            **self.party_level(x),
            "tau": np.exp(x[s["tau_log__"]]).reshape(()),
            "alpha": x[s["a"]] + self.shear * beta,
            "beta": beta.copy(),
        }

    def unconstrained(self, start: dict) -> np.ndarray:
        """x for a start given as `xi`, `mu_party`, `sigma_party` (G each), `alpha`,
        `tau`, `beta`. Anchored: positions placed so that the two largest groups' means
        sit at their anchors (an affine map of xi with a positive scale, which
        standardization undoes)."""
        n, g = self.n_legislators, self.n_groups
        x = np.empty(self.ndim)
        s = self.slices()
        xi, mu = np.asarray(start["xi"], float), np.asarray(start["mu_party"], float)
        sigma = np.asarray(start["sigma_party"], float)
        if self.design == GAUGE:
            x[:n] = xi
            x[n : n + g] = mu
            x[n + g : n + 2 * g] = np.log(sigma)
        else:
            if (self.anchors[1] - self.anchors[0]) * (mu[1] - mu[0]) < 0:  # a start with the two
                xi, mu = -xi, -mu  # largest groups the other way round: its mirror image (same density)
            scale = (self.anchors[1] - self.anchors[0]) / (mu[1] - mu[0])  # > 0
            v = self.anchors[0] + (xi - mu[0]) * scale
            means = self.anchors[0] + (mu - mu[0]) * scale
            spreads = sigma * scale
            members = self.groups >= 0
            z = v.copy()
            z[members] = (v[members] - means[self.groups[members]]) / spreads[self.groups[members]]
            x[:n] = z
            x[n : n + g] = np.log(spreads)
            x[n + g : n + g + max(g - 2, 0)] = means[2:]
        x[s["a"]] = start["alpha"] - self.shear * start["beta"]
        x[s["tau_log__"]] = math.log(start["tau"])
        x[s["beta"]] = start["beta"]
        return x


def party_start(xi: np.ndarray, groups: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each group's mean and spread (at least 0.05) of the start's ideal points."""
    means = np.array([xi[groups == g].mean() for g in range(count)])
    spreads = np.array([max(xi[groups == g].std(), 0.05) for g in range(count)])
    return means, spreads


def member_information(votes: np.ndarray, pca: np.ndarray, items) -> np.ndarray:
    """(n,) Fisher information about each legislator's position in the start:
    sum_j beta_j^2 p_ij (1 - p_ij) over their observed votes (1/sd^2 of the chamber)."""
    alpha, beta = items
    p = 1.0 / (1.0 + np.exp(-(np.outer(pca, beta) - alpha)))
    return np.where(np.isfinite(votes), beta**2 * p * (1.0 - p), 0.0).sum(axis=1)


def choose_coordinates(votes: np.ndarray, pca: np.ndarray, groups: np.ndarray, count: int, items) -> int:
    """ANCHORED where there are two groups or more, their start means are apart, and in
    some group the median member's information is under GAUGE_MIN_INFORMATION times the
    precision of the party spread's prior mean; else GAUGE (see the module docstring)."""
    if count < 2:
        return GAUGE
    means, _ = party_start(pca, groups, count)
    if abs(means[1] - means[0]) < MIN_ANCHOR_GAP:
        return GAUGE
    information = member_information(votes, pca, items)
    spread = PRIORS["sigma_party"].alpha / PRIORS["sigma_party"].beta  # the prior mean
    ratio = min(np.median(information[groups == g]) * spread**2 for g in range(count))
    return GAUGE if ratio >= GAUGE_MIN_INFORMATION else ANCHORED


def start_values(pca: np.ndarray, groups: np.ndarray, count: int, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain: ideal points at the PCA scores (oriented,
    standardized), party means and spreads from them, roll calls at `items` (from
    `item_logits`), tau at the root mean square of those discriminations. All but the
    ideal points are jittered; every value is inside its support."""
    mu, sigma = party_start(pca, groups, count)
    alpha, beta = jittered_items(*items, rng)
    return {
        "xi": pca,
        "mu_party": mu + rng.uniform(-0.05, 0.05),
        "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, size=count)),
        "alpha": alpha,
        "tau": max(float(np.sqrt(np.mean(items[1] ** 2))), 0.1) * math.exp(rng.uniform(-0.2, 0.2)),
        "beta": beta,
    }


def bind(matrix: VoteMatrix, pca: np.ndarray, orientation: np.ndarray | None = None, design: int | None = None) -> Bound:
    """The model on this matrix; pca: (n,) oriented, standardized PCA scores in matrix
    row order (the starts and the cutpoints); orientation: (n,) the rule's r (draws are
    put where r . xi >= 0; default: the built-in party poles); design: GAUGE or ANCHORED
    (default `choose_coordinates`)."""
    pca = np.asarray(pca, float)
    n, m = matrix.shape
    if orientation is None:
        orientation = default_weights(matrix.legislators["party"])
    parties = party_groups(matrix.legislators["party"])
    groups, count = parties.groups, parties.count
    items = item_logits(matrix.votes, pca)
    if design is None:
        design = choose_coordinates(matrix.votes, pca, groups, count, items)
    if design == ANCHORED and count < 2:
        raise ValueError(f"the anchored coordinates need two party groups or more; this chamber has {count}")
    anchors = np.array([-1.0, 1.0])
    if count >= 2:
        means, _ = party_start(pca, groups, count)
        anchors = anchors if means[0] < means[1] else -anchors
    layout = Layout(n, m, groups, parties.weights, anchors, design, cutpoint_shear(*items))
    floats = np.concatenate([KERNEL_PRIORS.pack(PRIORS), layout.weights, anchors, layout.shear])
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "mu_party": (count,), "sigma_party": (count,), "tau": (), "alpha": (m,), "beta": (m,)},
        dims={"xi": ("legislator",), "mu_party": ("party",), "sigma_party": ("party",), "tau": (),
              "alpha": ("roll_call",), "beta": ("roll_call",)},
        coords={
            "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
            "party": list(parties.names),
            "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        },
        # every chain from its own over-dispersed start around the PCA scores (`dispersed`)
        start=lambda rng: layout.unconstrained(start_values(dispersed(pca, rng, orientation), groups, count, items, rng)),
        kernel_data=callbacks.KernelData.of(matrix.signed_votes(), np.append(groups, [design, count]), floats),
        layout=layout,
        attrs={"coordinates": COORDINATES[design]},
        orientation=orientation,
    )


def _anchored_graph(layout: Layout):
    """xi, mu_party, sigma_party of the PyMC graph in the anchored coordinates, with
    the party-level priors and the Jacobian as potentials (inside a pm.Model context)."""
    import pymc as pm
    import pytensor.tensor as pt

    groups, n, count = layout.groups, layout.n_legislators, layout.n_groups
    members = groups >= 0
    g = np.where(members, groups, 0)
    z = pm.Flat("z", dims="legislator")
    log_spread = pm.Flat("log_spread", dims="party")
    means = pt.as_tensor(layout.anchors)
    if count > 2:
        means = pt.concatenate([means, pm.Flat("m_free", shape=count - 2)])
    v = pt.where(members, means[g] + pt.exp(log_spread[g]) * z, z)
    center, sd = v.mean(), v.std()
    mu_party = (means - center) / sd
    sigma_party = pt.exp(log_spread) / sd
    pm.Potential(
        "party_level_prior", logp(PRIORS["mu_party"], mu_party).sum() + logp(PRIORS["sigma_party"], sigma_party).sum()
    )
    gap = abs(layout.anchors[1] - layout.anchors[0])
    pm.Potential(
        "log_jacobian",
        np.log(gap / n) - (n + 2 * count - 1) * pt.log(sd) + ((layout.sizes() + 1.0) * log_spread).sum(),
    )
    return (v - center) / sd, mu_party, sigma_party


def graph(matrix: VoteMatrix, bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order). The kernel computes the same density faster (tested equal)."""
    import pymc as pm

    layout: Layout = bound.layout
    rows, cols, y = matrix.observed
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        if layout.design == GAUGE:
            xi, mu_party, sigma_party = pl.gauge_graph(PRIORS)
        else:
            xi, mu_party, sigma_party = _anchored_graph(layout)
            pm.Deterministic("mu_party", mu_party, dims="party")
            pm.Deterministic("sigma_party", sigma_party, dims="party")
        pm.Deterministic("xi", xi, dims="legislator")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau")
        beta = pm.Normal("beta", 0.0, tau, dims="roll_call")
        alpha = pm.Deterministic("alpha", a + layout.shear * beta, dims="roll_call")
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        pm.Potential("xi_prior", pl.members_graph(xi, mu_party, sigma_party, layout.groups, layout.weights))
        pm.Bernoulli("y", logit_p=beta[cols] * xi[rows] - alpha[cols], observed=y.astype("int8"), dims="vote")
    return model


# ------------------------------------------------------------------ the kernel


@njit
def _anchored_forward(x, group, count, anchors, xi, mu, sigma):
    """Anchored design, forward: v, xi = standardize(v), mu and sigma (module docstring);
    returns (the log-Jacobian, v's centre, sd v)."""
    n = xi.shape[0]
    means = np.empty(count)
    means[0], means[1] = anchors[0], anchors[1]
    for g in range(2, count):
        means[g] = x[n + count + g - 2]
    sizes = np.zeros(count)
    v = np.empty(n)
    for i in range(n):
        g = group[i]
        if g >= 0:
            v[i] = means[g] + math.exp(x[n + g]) * x[i]
            sizes[g] += 1.0
        else:
            v[i] = x[i]
    d = k.standardize(v, xi)
    c = v.mean()
    lp = math.log(abs(anchors[1] - anchors[0]) / n) - (n + 2.0 * count - 1.0) * math.log(d)
    for g in range(count):
        mu[g] = (means[g] - c) / d
        sigma[g] = math.exp(x[n + g]) / d
        lp += (sizes[g] + 1.0) * x[n + g]
    return lp, c, d


@njit
def _anchored_backward(x, group, count, xi, mu, d, grad_xi, grad_mu, grad_log_sigma, grad):
    """Anchored design, backward: writes d/dz, d/dlog s and d/dm into grad[:party block]
    from the gradients in (xi, mu, log sigma) and the Jacobian's dependence on sd v."""
    n = xi.shape[0]
    grad_v = np.zeros(n)
    k.standardize_backward(grad_xi, xi, d, grad_v)
    grad_c, grad_d = 0.0, -(n + 2.0 * count - 1.0) / d
    for g in range(count):
        grad_c -= grad_mu[g] / d
        grad_d -= (grad_mu[g] * mu[g] + grad_log_sigma[g]) / d
        grad[n + g] = grad_log_sigma[g] + 1.0  # sigma = s / d; and the Jacobian's s_g
        if g >= 2:
            grad[n + count + g - 2] = grad_mu[g] / d
    for i in range(n):
        grad_v[i] += (grad_c + grad_d * xi[i]) / n
    for i in range(n):
        g = group[i]
        if g >= 0:
            s = math.exp(x[n + g])
            grad[i] = grad_v[i] * s
            grad[n + g] += grad_v[i] * s * x[i] + 1.0  # and the Jacobian's s_g^n_g
            if g >= 2:
                grad[n + count + g - 2] += grad_v[i]
        else:
            grad[i] = grad_v[i]


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order; votes: (n, m) float32 +1/-1/0; ints: (n + 2,) the
    groups (-1 unaffiliated), the design (GAUGE, ANCHORED) and G; floats: the packed
    PRIORS (positions P), then the mixture weights (G), the anchors (2) and the m
    cutpoints. Returns the log-density with every constant, equal to `graph`'s.
    """
    n, m = votes.shape
    group = ints[:n]
    design, count = ints[n], ints[n + 1]
    priors = pl.party_priors(floats, P)
    weights = floats[P.end : P.end + count]
    anchors = floats[P.end + count : P.end + count + 2]
    shear = floats[P.end + count + 2 : P.end + count + 2 + m]
    p = n + 2 * count if design == GAUGE else n + count + max(count - 2, 0)

    xi, grad_xi = np.empty(n), np.zeros(n)
    mu, sigma = np.empty(count), np.empty(count)
    grad_mu, grad_log_sigma = np.zeros(count), np.zeros(count)
    if design == GAUGE:
        lp, d = pl.gauge_forward(x[:n], x[n : n + count], x[n + count : n + 2 * count], xi, mu, sigma,
                                 priors[0], priors[1], grad[:n])
    else:
        lp, _, d = _anchored_forward(x, group, count, anchors, xi, mu, sigma)
    lp += pl.level_logp(xi, mu, sigma, group, weights, priors, grad_xi, grad_mu, grad_log_sigma)

    # Roll calls (alpha = a + c beta), their priors and the likelihood.
    a = x[p : p + m]
    beta = x[p + 1 + m : p + 1 + 2 * m]
    grad_a = grad[p : p + m]
    grad_beta = grad[p + 1 + m : p + 1 + 2 * m]
    alpha = a + shear * beta
    items, grad[p + m] = k.items_logp(
        alpha, x[p + m], beta, grad_a, grad_beta, floats[P.alpha_mu], floats[P.alpha_sigma], floats[P.tau_sigma]
    )
    lp += items + k.twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_a, grad_beta)
    for j in range(m):
        grad_beta[j] += shear[j] * grad_a[j]

    # Back to the party block's coordinates.
    if design == GAUGE:
        pl.gauge_backward(grad_xi, xi, d, grad[:n], grad_mu, grad_log_sigma, grad[n : n + count],
                          grad[n + count : n + 2 * count])
    else:
        _anchored_backward(x, group, count, xi, mu, d, grad_xi, grad_mu, grad_log_sigma, grad)
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (n), mu_party (G), sigma_party (G), tau
    (1), alpha (m), beta (m)."""
    n, m = votes.shape
    group = ints[:n]
    design, count = ints[n], ints[n + 1]
    anchors = floats[P.end + count : P.end + count + 2]
    shear = floats[P.end + count + 2 : P.end + count + 2 + m]
    p = n + 2 * count if design == GAUGE else n + count + max(count - 2, 0)
    if design == GAUGE:
        k.standardize(x[:n], out[:n])
        for g in range(count):
            out[n + g] = x[n + g]
            out[n + count + g] = math.exp(x[n + count + g])
    else:
        _anchored_forward(x, group, count, anchors, out[:n], out[n : n + count], out[n + count : n + 2 * count])
    r = n + 2 * count
    out[r] = math.exp(x[p + m])
    for j in range(m):
        beta = x[p + 1 + m + j]
        out[r + 1 + j] = x[p + j] + shear[j] * beta
        out[r + 1 + m + j] = beta


def rebind(matrix: VoteMatrix, pca: np.ndarray, orientation, bound: Bound) -> Bound | None:
    """The anchored coordinates for the retry after the gauge coordinates diverged (the
    centred party level's funnel, where `choose_coordinates` read a group's members as
    pinning it and they do not); None where the chamber has fewer than two groups or the
    run that diverged was in the anchored coordinates already."""
    if bound.attrs["coordinates"] != COORDINATES[GAUGE] or bound.layout.n_groups < 2:
        return None
    return bind(matrix, pca, orientation, design=ANCHORED)


SPEC = ModelSpec(
    name="hierarchical_2pl",
    key="hierarchical",
    title="the hierarchical 2PL model (party level; the default)",
    # 2: the discrimination scale tau, gates on every reported group. 3: a party level over
    # whatever parties the chamber has, the sign by the orientation rule
    version="3",
    job="irt_chain",
    checked=True,
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    scale=SCALE,
    odd=ODD,
    jittered=("a", "beta"),
    rebind=rebind,
)
