"""The hierarchical 2PL IRT model (the default): priors, coordinates, starts, graph,
kernel.

Per chamber and session (n legislators, m roll calls), with the priors of `PRIORS`:

    xi          standardized: mean(xi) = 0 and sd(xi) = 1 over the chamber (population sd)
    mu_party    ~ PRIORS["mu_party"], ordered: Democrats below Republicans
    sigma_party ~ PRIORS["sigma_party"]
    xi_i        ~ Normal(mu_party[p_i], sigma_party[p_i])   Democrats and Republicans
    xi_i        ~ PRIORS["xi_other"]                        everyone else
    alpha_j     ~ PRIORS["alpha"]
    tau         ~ PRIORS["tau"]                             scale of the discriminations
    beta_j      ~ Normal(0, tau)
    logit P(Yea_ij) = beta_j * xi_i - alpha_j               observed votes only

Identification. The likelihood is unchanged by xi -> a + b xi (with beta -> beta / b,
alpha -> alpha - beta a / b), so the first line fixes location and scale exactly and
leaves rankings and relative positions as they are; every prior then means what it says
on the stated scale, and xi is reported in standard deviations of the chamber. The
ordering of the party means fixes the sign: positive = conservative.

The discrimination scale tau is estimated: how sharply roll calls split the chamber is
the data's to say. With a fixed beta ~ N(0, 1) on this scale the near-party-line roll
calls of a polarized chamber, whose discriminations are several standard deviations,
were held down and the model predicted votes worse than the flat model (docs/models.md).

A legislator outside the two major parties is a party of one: its prior is
PRIORS["xi_other"], the prior of a party mean; a party of one has no spread to estimate.

A party's spread has a boundary-avoiding prior (Gamma(2, 4): mean 0.5 chamber sd, little
mass near 0; Chung et al. 2013): no real party is a bloc of identical members, and a
spread near 0 is a funnel for the sampler in a small chamber with few roll calls.

Coordinates. The sampler moves one of two exact coordinate systems for the ideal points
and the party level, chosen per chamber by how much the votes say about each member's
position (`choose_coordinates`), then a (m), log tau, beta (m), with

    alpha_j = a_j + c_j beta_j          c_j: roll call j's cutpoint from the start, fixed

- "gauge" (centered), for chambers whose votes pin every member's position: x = (w (n),
  mu_D, log(mu_R - mu_D), log sigma (2), ...), xi = (w - mean w) / sd w, and w_i ~
  PRIORS["gauge"] iid as a gauge. iid Normal w standardized is uniform on the constraint
  surface and independent of w's own mean and sd, so the gauge's density adds nothing
  but a proper density of (mean w, sd w), which nothing reports
  (`test_the_gauge_is_inert`). The party means and spreads are coordinates of their own.
- "anchored" (non-centered), for chambers whose votes say little next to a party's
  spread (few roll calls, or a party that votes as a bloc): x = (z (n), log s (2), ...),
  v_i = anchor_g + s_g z_i (anchors -1 for Democrats, +1 for Republicans), v_i = z_i
  for everyone else, xi = (v - mean v) / sd v, mu_g = (anchor_g - mean v) / sd v,
  sigma_g = s_g / sd v: a bijection onto (xi on the constraint surface, mu, sigma),
  with the exact Jacobian (2/n) sd^-(n+3) prod_g s_g^(n_g + 1) in the density (checked
  numerically by `test_log_jacobian_matches_numeric_determinant`).

Why two: in the anchored coordinates a change of the party means with the ideal points
held is a move of every coordinate at once, so where the votes pin the positions the
party level mixes slowly (R-hat up to 1.05, bulk ESS 71 on older Senates with the model
as first shipped); in the gauge coordinates the party level is centered, a funnel where
the votes do not pin the positions (16 divergences and E-BFMI 0.18 on the first 31 roll
calls of the 118th Senate). Each is the other's remedy; both are the same model.

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
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.matrix import MAJOR_PARTIES, VoteMatrix
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.priors import Gamma, HalfNormal, KernelPriors, Normal, logp
from irt_pipeline.stats.starts import cutpoint_shear, item_logits, jittered_items

# The priors, written here only: the PyMC graph and the kernel both read this table.
PRIORS = {
    "gauge": Normal(0.0, 1.0),
    "alpha": Normal(0.0, 5.0),
    "tau": HalfNormal(5.0),
    "mu_party": Normal(0.0, 2.0),
    "sigma_party": Gamma(2.0, 4.0),
    "xi_other": Normal(0.0, 2.0),
}
# The kernel's view of the table: every parameter's place in `floats`, by name (P.alpha_mu),
# then the m cutpoints from P.end.
KERNEL_PRIORS = KernelPriors(PRIORS)
P = KERNEL_PRIORS.at

PARTY_DIM = list(MAJOR_PARTIES)  # index 0 Democrat, 1 Republican
OTHER_GROUP = 2
ANCHORS = np.array([-1.0, 1.0])  # party means on the anchored scale v
GAUGE, ANCHORED = 0, 1
COORDINATES = ("gauge", "anchored")
# Gauge coordinates where, in every party, a member's votes carry at least this many
# times the precision of the party's prior spread (its prior mean, 0.5 sd of the chamber).
GAUGE_MIN_INFORMATION = 4.0
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "tau": ("tau",)}
SCALE = "standardized: chamber mean 0, sd 1; positive = conservative"


def party_groups(parties) -> np.ndarray:
    """(n,) int64: 0 Democrat, 1 Republican, 2 any other party or none."""
    parties = np.asarray(parties)
    groups = np.full(len(parties), OTHER_GROUP, dtype=np.int64)
    for code, name in enumerate(PARTY_DIM):
        groups[parties == name] = code
    return groups


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x (n legislators, m roll calls): the party block (gauge:
    w (n), mu_D and log(mu_R - mu_D), log sigma (2); anchored: z (n), log s (2)), then
    a (m), log tau (1), beta (m). groups: (n,) int64 from `party_groups`; design: GAUGE
    or ANCHORED; shear: (m,) cutpoints c_j, alpha_j = a_j + c_j beta_j."""

    n_legislators: int
    n_roll_calls: int
    groups: np.ndarray
    design: int
    shear: np.ndarray

    @property
    def party_block(self) -> int:
        return self.n_legislators + (4 if self.design == GAUGE else 2)

    @property
    def ndim(self) -> int:
        return self.party_block + 1 + 2 * self.n_roll_calls

    def slices(self) -> dict[str, slice | int]:
        n, m, p = self.n_legislators, self.n_roll_calls, self.party_block
        party = (
            {"w": slice(0, n), "mu_party_ordered__": slice(n, n + 2), "sigma_party_log__": slice(n + 2, n + 4)}
            if self.design == GAUGE
            else {"z": slice(0, n), "log_spread": slice(n, n + 2)}
        )
        return {  # named as the PyMC graph's value variables
            **party,
            "a": slice(p, p + m),
            "tau_log__": p + m,  # a scalar
            "beta": slice(p + 1 + m, p + 1 + 2 * m),
        }

    def _anchored(self, log_spread) -> tuple[np.ndarray, np.ndarray]:
        """Per-legislator shift and scale of v = shift + scale * z (anchored design)."""
        major = self.groups < OTHER_GROUP
        shift, scale = np.zeros(self.n_legislators), np.ones(self.n_legislators)
        shift[major] = ANCHORS[self.groups[major]]
        scale[major] = np.exp(np.asarray(log_spread))[self.groups[major]]
        return shift, scale

    def party_level(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """xi, mu_party, sigma_party at unconstrained point x."""
        s = self.slices()
        if self.design == GAUGE:
            w = x[s["w"]]
            mu_d, log_gap = x[s["mu_party_ordered__"]]
            return {"xi": (w - w.mean()) / w.std(), "mu_party": np.array([mu_d, mu_d + math.exp(log_gap)]),
                    "sigma_party": np.exp(x[s["sigma_party_log__"]])}
        shift, scale = self._anchored(x[s["log_spread"]])
        v = shift + scale * x[s["z"]]
        center, sd = v.mean(), v.std()
        return {"xi": (v - center) / sd, "mu_party": (ANCHORS - center) / sd,
                "sigma_party": np.exp(x[s["log_spread"]]) / sd}

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
        """x for a start given as `xi`, `mu_party` (ordered), `sigma_party`, `alpha`,
        `tau`, `beta`. Anchored: positions placed so that the party means sit at the
        anchors (an affine map of xi, which standardization undoes)."""
        x = np.empty(self.ndim)
        s = self.slices()
        xi, mu = np.asarray(start["xi"], float), np.asarray(start["mu_party"], float)
        sigma = np.asarray(start["sigma_party"], float)
        if self.design == GAUGE:
            x[s["w"]] = xi
            x[s["mu_party_ordered__"]] = [mu[0], math.log(mu[1] - mu[0])]
            x[s["sigma_party_log__"]] = np.log(sigma)
        else:
            half_gap = (mu[1] - mu[0]) / 2
            v = (xi - mu.mean()) / half_gap  # party means at -1 and +1
            log_spread = np.log(sigma / half_gap)
            shift, scale = self._anchored(log_spread)
            x[s["z"]] = (v - shift) / scale
            x[s["log_spread"]] = log_spread
        x[s["a"]] = start["alpha"] - self.shear * start["beta"]
        x[s["tau_log__"]] = math.log(start["tau"])
        x[s["beta"]] = start["beta"]
        return x


def party_start(xi: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Party means (ordered: at least 0.1 apart) and spreads (at least 0.05) of the
    start's ideal points."""
    means = np.array([xi[groups == g].mean() for g in (0, 1)])
    if not means[1] - means[0] >= 0.1:
        means = np.array([-0.5, 0.5])
    spreads = np.array([max(xi[groups == g].std(), 0.05) for g in (0, 1)])
    return means, spreads


def member_information(votes: np.ndarray, pca: np.ndarray, items) -> np.ndarray:
    """(n,) Fisher information about each legislator's position in the start:
    sum_j beta_j^2 p_ij (1 - p_ij) over their observed votes (1/sd^2 of the chamber)."""
    alpha, beta = items
    p = 1.0 / (1.0 + np.exp(-(np.outer(pca, beta) - alpha)))
    return np.where(np.isfinite(votes), beta**2 * p * (1.0 - p), 0.0).sum(axis=1)


def choose_coordinates(votes: np.ndarray, pca: np.ndarray, groups: np.ndarray, items) -> int:
    """GAUGE where, in both parties, the median member's information is at least
    GAUGE_MIN_INFORMATION times the precision of the party spread's prior mean, else
    ANCHORED (see the module docstring)."""
    information = member_information(votes, pca, items)
    spread = PRIORS["sigma_party"].alpha / PRIORS["sigma_party"].beta  # the prior mean
    ratio = min(np.median(information[groups == g]) * spread**2 for g in (0, 1))
    return GAUGE if ratio >= GAUGE_MIN_INFORMATION else ANCHORED


def start_values(pca: np.ndarray, groups: np.ndarray, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain: ideal points at the PCA scores (oriented,
    standardized), party means and spreads from them, roll calls at `items` (from
    `item_logits`), tau at the root mean square of those discriminations. All but the
    ideal points are jittered; every value is inside its support."""
    mu, sigma = party_start(pca, groups)
    alpha, beta = jittered_items(*items, rng)
    return {
        "xi": pca,
        "mu_party": mu + rng.uniform(-0.05, 0.05),
        "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, size=2)),
        "alpha": alpha,
        "tau": max(float(np.sqrt(np.mean(items[1] ** 2))), 0.1) * math.exp(rng.uniform(-0.2, 0.2)),
        "beta": beta,
    }


def bind(matrix: VoteMatrix, pca: np.ndarray, design: int | None = None) -> Bound:
    """The model on this matrix; pca: (n,) oriented, standardized PCA scores in matrix
    row order (the starts and the cutpoints); design: GAUGE or ANCHORED (default
    `choose_coordinates`)."""
    pca = np.asarray(pca, float)
    n, m = matrix.shape
    groups = party_groups(matrix.legislators["party"])
    items = item_logits(matrix.votes, pca)
    if design is None:
        design = choose_coordinates(matrix.votes, pca, groups, items)
    layout = Layout(n, m, groups, design, cutpoint_shear(*items))
    floats = np.concatenate([KERNEL_PRIORS.pack(PRIORS), layout.shear])
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "mu_party": (2,), "sigma_party": (2,), "tau": (), "alpha": (m,), "beta": (m,)},
        dims={"xi": ("legislator",), "mu_party": ("party",), "sigma_party": ("party",), "tau": (),
              "alpha": ("roll_call",), "beta": ("roll_call",)},
        coords={
            "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
            "party": PARTY_DIM,
            "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        },
        start=lambda rng: layout.unconstrained(start_values(pca, groups, items, rng)),
        kernel_data=callbacks.KernelData.of(matrix.signed_votes(), np.append(groups, design), floats),
        layout=layout,
        attrs={"coordinates": COORDINATES[design]},
    )


def gauge_party_graph(priors: dict):
    """xi, mu_party, sigma_party of the PyMC graph in the gauge coordinates (value
    variables w, mu_party_ordered__, sigma_party_log__), with `priors`' gauge, mu_party
    and sigma_party (inside a pm.Model context; also the two-dimensional model's dim 1)."""
    import pymc as pm

    w = priors["gauge"].rv("w", dims="legislator")
    mu_party = priors["mu_party"].rv(
        "mu_party", dims="party", transform=pm.distributions.transforms.ordered, initval=np.array([-0.5, 0.5])
    )
    sigma_party = priors["sigma_party"].rv("sigma_party", dims="party")
    return (w - w.mean()) / w.std(), mu_party, sigma_party


def party_members_graph(xi, mu_party, sigma_party, groups: np.ndarray):
    """The log-density of the party members' positions (a PyTensor scalar): xi_i ~
    Normal(mu_party[g], sigma_party[g]) for Democrats and Republicans (everyone else
    contributes 0)."""
    import pymc as pm
    import pytensor.tensor as pt

    major = groups < OTHER_GROUP
    g = np.where(major, groups, 0)
    return pt.where(major, pm.logp(pm.Normal.dist(mu_party[g], sigma_party[g]), xi), 0.0).sum()


def _party_graph(layout: Layout):
    """xi, mu_party, sigma_party of the PyMC graph in `layout`'s coordinates, with the
    gauge density or the Jacobian as potentials (inside a pm.Model context)."""
    import pymc as pm
    import pytensor.tensor as pt

    if layout.design == GAUGE:
        return gauge_party_graph(PRIORS)
    groups, n = layout.groups, layout.n_legislators
    major = groups < OTHER_GROUP
    g = np.where(major, groups, 0)
    z = pm.Flat("z", dims="legislator")
    log_spread = pm.Flat("log_spread", dims="party")
    v = pt.where(major, ANCHORS[g] + pt.exp(log_spread[g]) * z, z)
    center, sd = v.mean(), v.std()
    mu_party = (ANCHORS - center) / sd
    sigma_party = pt.exp(log_spread) / sd
    pm.Potential("party_level_prior", logp(PRIORS["mu_party"], mu_party).sum() + logp(PRIORS["sigma_party"], sigma_party).sum())
    # Change of variables: v = mean(v) + sd(v) xi has volume n sd^(n-2) d(mean v)
    # d(sd v) dS(xi); (mean v, sd v) -> mu has |det| 2 / sd^3; s -> sigma = s / sd
    # gives sd^-2; z -> v gives prod_g s_g^n_g; log s -> s gives prod_g s_g.
    sizes = np.array([(groups == q).sum() for q in (0, 1)])
    pm.Potential("log_jacobian", np.log(2.0 / n) - (n + 3) * pt.log(sd) + ((sizes + 1.0) * log_spread).sum())
    return (v - center) / sd, mu_party, sigma_party


def graph(matrix: VoteMatrix, bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order). The kernel computes the same density faster (tested equal)."""
    import pymc as pm

    layout: Layout = bound.layout
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        xi, mu_party, sigma_party = _party_graph(layout)
        pm.Deterministic("xi", xi, dims="legislator")
        if layout.design == ANCHORED:
            pm.Deterministic("mu_party", mu_party, dims="party")
            pm.Deterministic("sigma_party", sigma_party, dims="party")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau")
        beta = pm.Normal("beta", 0.0, tau, dims="roll_call")
        alpha = pm.Deterministic("alpha", a + layout.shear * beta, dims="roll_call")
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        others = layout.groups >= OTHER_GROUP
        pm.Potential(
            "xi_prior",
            party_members_graph(xi, mu_party, sigma_party, layout.groups)
            + logp(PRIORS["xi_other"], xi[np.flatnonzero(others)]).sum(),
        )
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model


# ------------------------------------------------------------------ the kernel


@njit(inline="always")
def party_priors(floats, at):
    """The gauge and party-level prior parameters `gauge_party_logp` and
    `_anchored_party` take, read by name from a model's packed `floats` (positions `at`)."""
    return (floats[at.gauge_mu], floats[at.gauge_sigma], floats[at.mu_party_mu], floats[at.mu_party_sigma],
            floats[at.sigma_party_alpha], floats[at.sigma_party_beta])


@njit
def gauge_party_logp(x, grad, xi, mu, sigma, priors):
    """Gauge design, forward: xi = standardize(w), mu, sigma from x (w = x[:n], then
    mu_D, log(mu_R - mu_D), log sigma (2)); the gauge density and the party-level
    priors (not the ideal points' own prior), with `priors` from `party_priors`.
    Writes their gradient into grad[:n+4] and returns (log-density, sd w). Also the
    two-dimensional model's dim 1."""
    n = xi.shape[0]
    gauge_mu, gauge_sd, mu_mu, mu_sd, sigma_shape, sigma_rate = priors
    lp = 0.0
    for i in range(n):
        lp += k.normal_logp(x[i], gauge_mu, gauge_sd)
        grad[i] = -(x[i] - gauge_mu) / (gauge_sd * gauge_sd)
    d = k.standardize(x[:n], xi)
    log_gap = x[n + 1]
    mu[0] = x[n]
    mu[1] = x[n] + math.exp(log_gap)
    lp += log_gap
    grad[n], grad[n + 1] = 0.0, 1.0
    for g in range(2):
        log_sigma = x[n + 2 + g]
        sigma[g] = math.exp(log_sigma)
        lp += k.normal_logp(mu[g], mu_mu, mu_sd) + k.gamma_logp(sigma[g], sigma_shape, sigma_rate) + log_sigma
        e = -(mu[g] - mu_mu) / (mu_sd * mu_sd)
        grad[n] += e
        if g == 1:
            grad[n + 1] += e * math.exp(log_gap)
        grad[n + 2 + g] = sigma_shape - sigma_rate * sigma[g]
    return lp, d


@njit
def _anchored_party(x, grad, group, xi, mu, sigma, priors):
    """Anchored design, forward: v = anchor + s z, xi = standardize(v), mu and sigma
    as functions of v; the party-level priors and what is left of the log-Jacobian
    log(2/n) - (n + 3) log d + sum_g (n_g + 1) log s_g once each member's prior
    N(xi; mu_g, sigma_g) = N(v; anchor_g, s_g) d has given up its -log s_g + log d:
    log(2/n) - (n_other + 3) log d + sum_g log s_g. Writes the gradient with respect to
    v (holding s) into grad[:n] and d/d log s (holding v) into grad[n:n+2]; returns
    (log-density, sd v)."""
    n = xi.shape[0]
    _, _, mu_mu, mu_sd, sigma_shape, sigma_rate = priors
    v = np.empty(n)
    n_other = 0.0
    for i in range(n):
        g = group[i]
        if g < 2:
            v[i] = ANCHORS[g] + math.exp(x[n + g]) * x[i]
        else:
            v[i] = x[i]
            n_other += 1.0
    d = k.standardize(v, xi)
    c = v.mean()
    grad_c, grad_d = 0.0, 0.0
    lp = math.log(2.0 / n) - (n_other + 3.0) * math.log(d)
    grad_d -= (n_other + 3.0) / d
    for g in range(2):
        mu[g] = (ANCHORS[g] - c) / d
        sigma[g] = math.exp(x[n + g]) / d
        lp += k.normal_logp(mu[g], mu_mu, mu_sd) + k.gamma_logp(sigma[g], sigma_shape, sigma_rate) + x[n + g]
        e = (mu[g] - mu_mu) / (mu_sd * mu_sd)
        grad_c += e / d
        grad_d += e * mu[g] / d
        q = sigma_shape - 1.0 - sigma_rate * sigma[g]  # d lp / d log sigma
        grad_d -= q / d
        grad[n + g] = q + 1.0  # and the log s_g left of the Jacobian (members' terms come later)
    for i in range(n):
        grad[i] = (grad_c + grad_d * xi[i]) / n  # d/dv through mean and sd
    return lp, d


@njit
def party_members_logp(lp, xi, group, mu, sigma, grad_xi, grad_party):
    """Gauge design: lp plus the party members' prior, N(xi_i; mu_g, sigma_g) for the
    members of the two parties (everyone else is left alone); adds its gradient into
    grad_xi (n,) and grad_party (4,), the gradient with respect to (mu_D, log(mu_R -
    mu_D), log sigma_D, log sigma_R). Also the two-dimensional model's dim 1."""
    for i in range(xi.shape[0]):
        g = group[i]
        if g < 2:
            e = (xi[i] - mu[g]) / sigma[g]
            lp += -0.5 * e * e - math.log(sigma[g]) - 0.5 * k.LOG_2PI
            grad_xi[i] -= e / sigma[g]
            grad_party[0] += e / sigma[g]
            if g == 1:
                grad_party[1] += e / sigma[g] * (mu[1] - mu[0])
            grad_party[2 + g] += e * e - 1.0
    return lp


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order; votes: (n, m) float32 +1/-1/0; ints: (n + 1,) the
    groups (0 Democrat, 1 Republican, 2 other), then the design (GAUGE, ANCHORED);
    floats: the packed PRIORS (positions P), then the m cutpoints. Returns the
    log-density with every constant, equal to `graph`'s.
    """
    n, m = votes.shape
    group = ints[:n]
    design = ints[n]
    alpha_mu, alpha_sd, tau_sd = floats[P.alpha_mu], floats[P.alpha_sigma], floats[P.tau_sigma]
    other_mu, other_sd = floats[P.xi_other_mu], floats[P.xi_other_sigma]
    shear = floats[P.end : P.end + m]
    p = n + 4 if design == GAUGE else n + 2

    xi = np.empty(n)
    grad_xi = np.zeros(n)
    mu = np.empty(2)
    sigma = np.empty(2)
    priors = party_priors(floats, P)
    if design == GAUGE:
        lp, d = gauge_party_logp(x, grad, xi, mu, sigma, priors)
    else:
        lp, d = _anchored_party(x, grad, group, xi, mu, sigma, priors)

    # The ideal points' prior: members N(xi; mu_g, sigma_g), everyone else xi_other.
    # Anchored: N(xi; mu_g, sigma_g) = N(v; anchor_g, s_g) d, the d in the Jacobian.
    for i in range(n):
        if group[i] >= 2:
            lp += k.normal_logp(xi[i], other_mu, other_sd)
            grad_xi[i] -= (xi[i] - other_mu) / (other_sd * other_sd)
    if design == GAUGE:
        lp = party_members_logp(lp, xi, group, mu, sigma, grad_xi, grad[n : n + 4])
    else:
        for i in range(n):
            g = group[i]
            if g < 2:
                # Members' -log s_g + log d and the Jacobian's s_g^n_g, d^-n_major cancel
                # (see `_anchored_party`): left is log phi(z), z = (v - anchor_g) / s_g.
                s = sigma[g] * d
                e = x[i]
                lp += -0.5 * e * e - 0.5 * k.LOG_2PI
                grad[i] -= e / s  # d/dv, holding s
                grad[n + g] += e * e  # d/d log s, holding v

    # Roll calls (alpha = a + c beta), their priors and the likelihood.
    a = x[p : p + m]
    log_tau = x[p + m]
    beta = x[p + 1 + m : p + 1 + 2 * m]
    grad_a = grad[p : p + m]
    grad_beta = grad[p + 1 + m : p + 1 + 2 * m]
    alpha = a + shear * beta
    items, grad_log_tau = k.items_logp(alpha, log_tau, beta, grad_a, grad_beta, alpha_mu, alpha_sd, tau_sd)
    lp += items
    grad[p + m] = grad_log_tau
    lp += k.twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_a, grad_beta)
    for j in range(m):
        grad_beta[j] += shear[j] * grad_a[j]

    # Back through xi = standardize(.) to the party block's coordinates.
    if design == GAUGE:
        k.standardize_backward(grad_xi, xi, d, grad[:n])
    else:
        grad_v = grad[:n].copy()
        k.standardize_backward(grad_xi, xi, d, grad_v)
        for i in range(n):
            g = group[i]
            if g < 2:
                s = math.exp(x[n + g])
                grad[i] = grad_v[i] * s
                grad[n + g] += grad_v[i] * s * x[i]
            else:
                grad[i] = grad_v[i]
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (n), mu_party (2), sigma_party (2),
    tau (1), alpha (m), beta (m)."""
    n, m = votes.shape
    group = ints[:n]
    design = ints[n]
    shear = floats[P.end : P.end + m]
    p = n + 4 if design == GAUGE else n + 2
    if design == GAUGE:
        k.standardize(x[:n], out[:n])
        out[n] = x[n]
        out[n + 1] = x[n] + math.exp(x[n + 1])
        out[n + 2] = math.exp(x[n + 2])
        out[n + 3] = math.exp(x[n + 3])
    else:
        v = np.empty(n)
        for i in range(n):
            g = group[i]
            v[i] = ANCHORS[g] + math.exp(x[n + g]) * x[i] if g < 2 else x[i]
        d = k.standardize(v, out[:n])
        c = v.mean()
        for g in range(2):
            out[n + g] = (ANCHORS[g] - c) / d
            out[n + 2 + g] = math.exp(x[n + g]) / d
    out[n + 4] = math.exp(x[p + m])
    for j in range(m):
        beta = x[p + 1 + m + j]
        out[n + 5 + j] = x[p + j] + shear[j] * beta
        out[n + 5 + m + j] = beta


SPEC = ModelSpec(
    name="hierarchical_2pl",
    key="hierarchical",
    title="the hierarchical 2PL model (party level; the default)",
    version="2",  # 2: the discrimination scale tau, gates on every reported group
    job="irt_chain",
    checked=True,
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    scale=SCALE,
    jittered=("a", "beta"),
)
