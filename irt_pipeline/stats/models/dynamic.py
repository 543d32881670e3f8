"""The dynamic 2PL IRT model: a chamber's sessions in one posterior, each member's
position a random walk across the sessions they serve (docs/dynamic_model.md).

Over a panel of T sessions of one chamber (N legislator-sessions, M roll calls in all),
with the priors of `PRIORS`:

    xi                 standardized over the whole panel: mean 0, sd 1 over all N
                       legislator-sessions (population sd), per draw
    entry              xi_{i,e(i)} ~ Normal(mu_{g,e}, sigma_{g,e}) for a member of party
                       group g entering the panel in session e; PRIORS["xi_other"] for
                       a member of no group (independents, small parties)
    mu_{g,t}           ~ PRIORS["mu_party"]      one per (group, session) with entrants
    sigma_{g,t}        ~ PRIORS["sigma_party"]
    omega              ~ PRIORS["omega"]         the median member's step sd per session
    kappa              ~ PRIORS["kappa"]         sd of members' log step sd
    e_k                ~ Normal(0, 1)            one per member serving >= 2 sessions
    omega_k            = omega exp(kappa e_k)
    xi_{i,t}           ~ Normal(xi_{i,s}, omega_k sqrt(t - s))  s: the member's previous
                       session (t - s > 1 across a gap in service)
    alpha_j            ~ PRIORS["alpha"]; beta_j ~ Normal(0, tau_t(j));
    tau_t              ~ PRIORS["tau"]            per session
    logit P(Yea_ij)    = beta_j xi_i - alpha_j    observed votes only

Identification. Within a session the likelihood is unchanged by xi -> a_t + b_t xi
(with that session's alpha, beta, tau compensating), so the votes say nothing about
how one session's scale sits against another's: only the random walk does, by
preferring the placement in which continuing members move least (weighted by their
own step scales, so a member who moves a lot counts for little). The panel-wide
standardization then fixes the one location and scale left, in every draw, with no
session privileged. The sign: the likelihood, the walk and the party level are all
unchanged by xi -> -xi, beta -> -beta, mu -> -mu; chains start oriented and each chain
is reflected after sampling if the orientation rule says so (`orient_chains`).

Coordinates (one design, "gauge": the legislator-sessions' positions are centered):
x = (w (N), mu (U), log sigma (U), log omega, log kappa, e (K), a (M), log tau (T),
beta (M)) with xi = standardize(w), w ~ PRIORS["gauge"] iid (inert, as in
`hierarchical.py`), alpha_j = a_j + c_j beta_j (the cutpoint shear of `starts.py`).

Kernel data. The votes are one float32 vector of per-session dense blocks (session t:
its n_t members x m_t roll calls, C order), so the likelihood is one pass over
`kernel.twopl_loglik` per block with no gather: legislator-sessions are ordered by
session, so a session's positions are a contiguous slice of xi.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from irt_pipeline.stats import callbacks
from irt_pipeline.stats import kernel as k
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.priors import Gamma, HalfNormal, Normal, logp, pack
from irt_pipeline.stats.starts import cutpoint_shear, item_logits, jittered_items

# The priors, written here only: the PyMC graph and the kernel both read this table.
PRIORS = {
    "gauge": Normal(0.0, 1.0),
    "alpha": Normal(0.0, 5.0),
    "tau": HalfNormal(5.0),
    "mu_party": Normal(0.0, 2.0),
    "sigma_party": Gamma(2.0, 4.0),
    "xi_other": Normal(0.0, 2.0),
    # The median member's step sd per session (panel sd units): mean 0.2, mode 0.1,
    # 95% between 0.024 and 0.56; 0 is excluded, as no real chamber stands still.
    "omega": Gamma(2.0, 10.0),
    # The spread of members' log step sd: 1 lets a member move e times as fast as the
    # median one at one prior sd (a member moving 2 panel sd over 20 sessions is ~2).
    "kappa": HalfNormal(1.0),
}
KERNEL_PRIORS = (
    ("gauge", Normal), ("alpha", Normal), ("tau", HalfNormal), ("mu_party", Normal),
    ("sigma_party", Gamma), ("xi_other", Normal), ("omega", Gamma), ("kappa", HalfNormal),
)


def _offsets(order) -> dict[str, int]:
    """Where each prior's parameters start in the packed floats."""
    sizes = {Normal: 2, HalfNormal: 1, Gamma: 2}
    out, at = {}, 0
    for name, family in order:
        out[name] = at
        at += sizes[family]
    return {**out, "end": at}


_AT = _offsets(KERNEL_PRIORS)
F_GAUGE, F_ALPHA, F_TAU, F_MU = _AT["gauge"], _AT["alpha"], _AT["tau"], _AT["mu_party"]
F_SIGMA, F_OTHER, F_OMEGA, F_KAPPA = _AT["sigma_party"], _AT["xi_other"], _AT["omega"], _AT["kappa"]
N_PRIOR_FLOATS = _AT["end"]  # then the M cutpoints, then the L links' sqrt(dt)
N_HEADER = 7  # ints: T, N, U, K, M, L, E, then the index arrays (`Panel.ints`)

MIN_GROUP_MEMBERS = 5  # a party with fewer distinct members in the panel is "other"
MIN_BRIDGES = 10  # start alignment: sessions sharing fewer members are not chained
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "omega": ("omega", "kappa"), "tau": ("tau",)}
SCALE = "standardized over the panel: mean 0, sd 1 over every legislator-session; positive = conservative"
POLES = ("Democrat", "Republican")  # low, high: until the orientation rule of the party-level work


@dataclass(frozen=True)
class Panel:
    """The panel's structure (index arrays int64; legislator-sessions are ordered by session, then by
    their matrix's rows).

    sessions: (T,) labels in panel order; time: (T,) each session's place in time (the
    walk's dt); rows, items, cells: (T + 1,) offsets of each session's legislator-
    sessions, roll calls and vote cells; member: (N,) index into `members` (legislator
    ids); party: (N,) party labels (str); group: (N,) party group (index into
    `groups`) or -1 (other); entrant: (E,)
    the legislator-session where each member enters, entrant_unit: (E,) its party-level
    unit or -1; units: (U, 2) (group, session) of each party-level unit; link_prev,
    link_cur, link_walker: (L,) consecutive services of a walker (index into
    `walkers`, the members serving >= 2 sessions), link_dt: (L,) sessions between them.
    """

    sessions: tuple[str, ...]
    time: np.ndarray
    rows: np.ndarray
    items: np.ndarray
    cells: np.ndarray
    members: tuple[str, ...]
    member: np.ndarray
    party: np.ndarray
    groups: tuple[str, ...]
    group: np.ndarray
    entrant: np.ndarray
    entrant_unit: np.ndarray
    units: np.ndarray
    walkers: np.ndarray
    link_prev: np.ndarray
    link_cur: np.ndarray
    link_walker: np.ndarray
    link_dt: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(T, N, U, K, M): sessions, legislator-sessions, party units, walkers, roll calls."""
        return len(self.sessions), int(self.rows[-1]), len(self.units), len(self.walkers), int(self.items[-1])

    def session_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.rows))

    def session_of_item(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.items))

    def ints(self) -> np.ndarray:
        t, n, u, kk, m = self.shape
        header = [t, n, u, kk, m, len(self.link_prev), len(self.entrant)]
        return np.concatenate([
            header, self.rows, self.items, self.cells, self.entrant, self.entrant_unit,
            self.link_prev, self.link_cur, self.link_walker,
        ]).astype(np.int64)


def build_panel(matrices: Sequence[VoteMatrix], sessions: Sequence[str], time=None) -> Panel:
    """The panel of `matrices` (one per session, in time order), legislators matched by
    legislator_id. time: each session's place in time (default 0, 1, ...)."""
    if not matrices or len(matrices) != len(sessions):
        raise ValueError("a panel needs one vote matrix per session, at least one")
    if len(set(sessions)) != len(sessions):
        raise ValueError("a session appears twice in the panel")
    time = np.arange(len(sessions), dtype=np.int64) if time is None else np.asarray(time, np.int64)
    if np.any(np.diff(time) <= 0):
        raise ValueError("sessions must be in time order")
    ids = [m.legislators["legislator_id"].astype(str).to_numpy() for m in matrices]
    for session, these in zip(sessions, ids):
        if len(set(these)) != len(these):
            raise ValueError(f"session {session}: a legislator_id appears twice")
    members = tuple(pd.unique(np.concatenate(ids)))
    index = {m: i for i, m in enumerate(members)}
    member = np.array([index[i] for these in ids for i in these], dtype=np.int64)
    parties = np.concatenate([m.legislators["party"].astype(str).to_numpy() for m in matrices])
    sizes = pd.Series(member).groupby(parties).nunique()
    groups = tuple(sorted(p for p, count in sizes.items() if count >= MIN_GROUP_MEMBERS))
    group_index = {g: i for i, g in enumerate(groups)}
    group = np.array([group_index.get(p, -1) for p in parties], dtype=np.int64)
    rows = np.concatenate([[0], np.cumsum([m.shape[0] for m in matrices])]).astype(np.int64)
    items = np.concatenate([[0], np.cumsum([m.shape[1] for m in matrices])]).astype(np.int64)
    cells = np.concatenate([[0], np.cumsum([m.shape[0] * m.shape[1] for m in matrices])]).astype(np.int64)
    session = np.repeat(np.arange(len(matrices)), np.diff(rows))

    last: dict[int, int] = {}  # member -> their latest legislator-session so far
    entrant, link_prev, link_cur, link_member = [], [], [], []
    for row, who in enumerate(member):
        if who in last:
            link_prev.append(last[who])
            link_cur.append(row)
            link_member.append(who)
        else:
            entrant.append(row)
        last[who] = row
    walkers = np.array(sorted(set(link_member)), dtype=np.int64)
    walker_index = {w: i for i, w in enumerate(walkers)}
    unit_keys = sorted({(group[r], session[r]) for r in entrant if group[r] >= 0})
    unit_index = {key: i for i, key in enumerate(unit_keys)}
    entrant = np.array(entrant, dtype=np.int64)
    link_prev, link_cur = np.array(link_prev, dtype=np.int64), np.array(link_cur, dtype=np.int64)
    return Panel(
        sessions=tuple(str(s) for s in sessions), time=time, rows=rows, items=items, cells=cells,
        members=members, member=member, party=parties, groups=groups, group=group, entrant=entrant,
        entrant_unit=np.array([unit_index.get((group[r], session[r]), -1) for r in entrant], dtype=np.int64),
        units=np.array(unit_keys, dtype=np.int64).reshape(-1, 2), walkers=walkers,
        link_prev=link_prev, link_cur=link_cur,
        link_walker=np.array([walker_index[w] for w in link_member], dtype=np.int64),
        link_dt=(time[session[link_cur]] - time[session[link_prev]]).astype(np.int64),
    )


def stacked_votes(matrices: Sequence[VoteMatrix]) -> np.ndarray:
    """(1, cells) float32: every session's signed votes (+1 Yea, -1 Nay, 0 missing), C
    order, one block after the other (the kernel's layout)."""
    return np.concatenate([m.signed_votes().ravel() for m in matrices]).reshape(1, -1)


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x: w (N), mu (U), log sigma (U), log omega, log kappa,
    e (K), a (M), log tau (T), beta (M). shear: (M,) cutpoints, alpha = a + c beta."""

    panel: Panel
    shear: np.ndarray

    @property
    def ndim(self) -> int:
        t, n, u, kk, m = self.panel.shape
        return n + 2 * u + 2 + kk + 2 * m + t

    def slices(self) -> dict[str, slice | int]:
        t, n, u, kk, m = self.panel.shape
        p = n + 2 * u + 2 + kk
        return {  # named as the PyMC graph's value variables, in its order
            "w": slice(0, n),
            "mu_party": slice(n, n + u),
            "sigma_party_log__": slice(n + u, n + 2 * u),
            "omega_log__": n + 2 * u,
            "kappa_log__": n + 2 * u + 1,
            "e": slice(n + 2 * u + 2, p),
            "a": slice(p, p + m),
            "tau_log__": slice(p + m, p + m + t),
            "beta": slice(p + m + t, p + 2 * m + t),
        }

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The reported variables at x, in `expand` order (the roll calls' alpha and
        beta are not reported: M of them per draw would dwarf the positions)."""
        s = self.slices()
        w = x[s["w"]]
        omega, kappa = math.exp(x[s["omega_log__"]]), math.exp(x[s["kappa_log__"]])
        return {
            "xi": (w - w.mean()) / w.std(),
            "mu_party": x[s["mu_party"]].copy(),
            "sigma_party": np.exp(x[s["sigma_party_log__"]]),
            "omega": np.array(omega),
            "kappa": np.array(kappa),
            "omega_member": omega * np.exp(kappa * x[s["e"]]),
            "tau": np.exp(x[s["tau_log__"]]),
        }

    def items(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.slices()
        beta = x[s["beta"]]
        return x[s["a"]] + self.shear * beta, beta.copy()

    def unconstrained(self, start: dict) -> np.ndarray:
        """x for a start given as xi, mu_party, sigma_party, omega, kappa, e, alpha,
        tau, beta (w = xi)."""
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["w"]] = start["xi"]
        x[s["mu_party"]] = start["mu_party"]
        x[s["sigma_party_log__"]] = np.log(start["sigma_party"])
        x[s["omega_log__"]] = math.log(start["omega"])
        x[s["kappa_log__"]] = math.log(start["kappa"])
        x[s["e"]] = start["e"]
        x[s["a"]] = start["alpha"] - self.shear * start["beta"]
        x[s["tau_log__"]] = np.log(start["tau"])
        x[s["beta"]] = start["beta"]
        return x


# ------------------------------------------------------------------ starts


def aligned_scores(matrices: Sequence[VoteMatrix], scores: Sequence[np.ndarray], poles=POLES) -> list[np.ndarray]:
    """Per-session scores (each standardized within its session) put on one scale: each
    session is flipped to agree with the one before on their shared members and mapped
    onto it by mean-sigma through them (chained from the first; a session sharing fewer
    than MIN_BRIDGES members keeps its own scale); then the whole panel standardized
    and oriented so that poles[1]'s members lie above poles[0]'s. Point estimates only:
    the sampler's start."""
    out = [np.asarray(scores[0], float).copy()]
    for prev_matrix, matrix, score in zip(matrices[:-1], matrices[1:], scores[1:]):
        score = np.asarray(score, float).copy()
        prev = pd.Series(out[-1], index=prev_matrix.legislators["legislator_id"].astype(str).to_numpy())
        cur = pd.Series(score, index=matrix.legislators["legislator_id"].astype(str).to_numpy())
        both = prev.index.intersection(cur.index)
        if len(both) >= MIN_BRIDGES:
            x, y = cur[both].to_numpy(), prev[both].to_numpy()
            if np.corrcoef(x, y)[0, 1] < 0:
                score, x = -score, -x
            b = y.std() / x.std()
            score = y.mean() + b * (score - x.mean())
        out.append(score)
    flat = np.concatenate(out)
    center, sd = flat.mean(), flat.std()
    out = [(s - center) / sd for s in out]
    parties = np.concatenate([m.legislators["party"].astype(str).to_numpy() for m in matrices])
    flat = np.concatenate(out)
    low, high = (parties == poles[0]), (parties == poles[1])
    if low.any() and high.any() and flat[high].mean() < flat[low].mean():
        out = [-s for s in out]
    return out


def session_scores(matrices: Sequence[VoteMatrix]) -> list[np.ndarray]:
    """Each session's first principal component, standardized (stats/pca.py)."""
    from irt_pipeline.stats.pca import pca_scores

    return [pca_scores(m)["pc1"].to_numpy() for m in matrices]


def start_values(panel: Panel, xi: np.ndarray, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain: positions at `xi` (panel-standardized),
    party units at their entrants' mean and sd, omega at the positions' typical step,
    kappa 0.5, e near 0, roll calls at `items` ((alpha, beta), jittered), tau per
    session at the rms of its beta."""
    alpha, beta = jittered_items(*items, rng)
    t, n, u, kk, m = panel.shape
    mu, sigma = np.zeros(u), np.full(u, 0.5)
    for unit in range(u):
        rows = panel.entrant[panel.entrant_unit == unit]
        mu[unit] = xi[rows].mean()
        if len(rows) > 2:
            sigma[unit] = max(xi[rows].std(), 0.05)
    steps = (xi[panel.link_cur] - xi[panel.link_prev]) / np.sqrt(panel.link_dt)
    omega = max(float(np.median(np.abs(steps))) / 0.6745, 0.02) if len(steps) else 0.1
    item_session = panel.session_of_item()
    tau = np.array([max(float(np.sqrt(np.mean(items[1][item_session == s] ** 2))), 0.1) for s in range(t)])
    return {
        "xi": xi,
        "mu_party": mu + rng.uniform(-0.05, 0.05, u),
        "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, u)),
        "omega": omega * math.exp(rng.uniform(-0.2, 0.2)),
        "kappa": 0.5 * math.exp(rng.uniform(-0.2, 0.2)),
        "e": rng.uniform(-0.1, 0.1, kk),
        "alpha": alpha,
        "tau": tau * np.exp(rng.uniform(-0.2, 0.2, t)),
        "beta": beta,
    }


def bind(matrices: Sequence[VoteMatrix], sessions: Sequence[str], scores=None, time=None) -> Bound:
    """The model on a panel: `matrices` one per session of `sessions` (time order);
    scores: per-session start scores (default each session's PCA pc1), aligned across
    sessions by `aligned_scores`."""
    panel = build_panel(matrices, sessions, time)
    scores = session_scores(matrices) if scores is None else scores
    xi = np.concatenate(aligned_scores(matrices, scores))
    per_session = [xi[panel.rows[t]: panel.rows[t + 1]] for t in range(len(matrices))]
    fits = [item_logits(m.votes, s) for m, s in zip(matrices, per_session)]
    items = (np.concatenate([f[0] for f in fits]), np.concatenate([f[1] for f in fits]))
    layout = Layout(panel, cutpoint_shear(*items))
    floats = np.concatenate([pack(PRIORS, KERNEL_PRIORS), layout.shear, np.sqrt(panel.link_dt)])
    t, n, u, kk, m = panel.shape
    sessions_of_rows = panel.session_of_row()
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "mu_party": (u,), "sigma_party": (u,), "omega": (), "kappa": (),
                  "omega_member": (kk,), "tau": (t,)},
        dims={"xi": ("legislator_session",), "mu_party": ("party_session",), "sigma_party": ("party_session",),
              "omega": (), "kappa": (), "omega_member": ("member",), "tau": ("session",)},
        coords={
            "legislator_session": [f"{panel.sessions[s]}|{panel.members[i]}" for s, i in zip(sessions_of_rows, panel.member)],
            "party_session": [f"{panel.sessions[s]}|{panel.groups[g]}" for g, s in panel.units],
            "member": [panel.members[i] for i in panel.walkers],
            "session": list(panel.sessions),
            "roll_call": [str(r) for mm in matrices for r in mm.roll_calls["roll_call_id"]],
        },
        start=lambda rng: layout.unconstrained(start_values(panel, xi, items, rng)),
        kernel_data=callbacks.KernelData.of(stacked_votes(matrices), panel.ints(), floats),
        layout=layout,
        attrs={"coordinates": "gauge"},
    )


# ------------------------------------------------------------------ the PyMC graph


def graph(matrices: Sequence[VoteMatrix], bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order): the reference the kernel is tested against."""
    import pymc as pm
    import pytensor.tensor as pt

    layout: Layout = bound.layout
    panel = layout.panel
    t, n, u, kk, m = panel.shape
    rows, cols, ys = [], [], []
    for s, matrix in enumerate(matrices):
        r, c = np.nonzero(np.isfinite(matrix.votes))
        rows.append(r + panel.rows[s])
        cols.append(c + panel.items[s])
        ys.append(matrix.votes[r, c].astype("int8"))
    rows, cols, ys = np.concatenate(rows), np.concatenate(cols), np.concatenate(ys)
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        w = PRIORS["gauge"].rv("w", dims="legislator_session")
        xi = (w - w.mean()) / w.std()
        pm.Deterministic("xi", xi, dims="legislator_session")
        mu = PRIORS["mu_party"].rv("mu_party", dims="party_session")
        sigma = PRIORS["sigma_party"].rv("sigma_party", dims="party_session")
        omega = PRIORS["omega"].rv("omega")
        kappa = PRIORS["kappa"].rv("kappa")
        e = pm.Normal("e", 0.0, 1.0, dims="member")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau", dims="session")
        beta = pm.Normal("beta", 0.0, tau[panel.session_of_item()], dims="roll_call")
        alpha = a + layout.shear * beta
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        grouped = panel.entrant_unit >= 0
        unit = panel.entrant_unit[grouped]
        entry = pm.logp(pm.Normal.dist(mu[unit], sigma[unit]), xi[panel.entrant[grouped]]).sum()
        entry += logp(PRIORS["xi_other"], xi[panel.entrant[~grouped]]).sum()
        pm.Potential("entry_prior", entry)
        scale = omega * pt.exp(kappa * e[panel.link_walker]) * np.sqrt(panel.link_dt)
        pm.Potential("walk", pm.logp(pm.Normal.dist(xi[panel.link_prev], scale), xi[panel.link_cur]).sum())
        pm.Bernoulli("y", logit_p=beta[cols] * xi[rows] - alpha[cols], observed=ys, dims="vote")
    return model


# ------------------------------------------------------------------ the kernel


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order; votes: (1, cells) float32 (or float64, the
    reference) per-session blocks; ints: `Panel.ints`; floats: the packed PRIORS
    (KERNEL_PRIORS order), the M cutpoints, the L links' sqrt(dt). Returns the
    log-density with every constant, equal to `graph`'s.
    """
    t_n, n, u, kk, m, n_links, n_entrants = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6]
    o = N_HEADER
    rows = ints[o: o + t_n + 1]
    o += t_n + 1
    items = ints[o: o + t_n + 1]
    o += t_n + 1
    cells = ints[o: o + t_n + 1]
    o += t_n + 1
    entrant = ints[o: o + n_entrants]
    o += n_entrants
    entrant_unit = ints[o: o + n_entrants]
    o += n_entrants
    link_prev = ints[o: o + n_links]
    o += n_links
    link_cur = ints[o: o + n_links]
    o += n_links
    link_walker = ints[o: o + n_links]
    shear = floats[N_PRIOR_FLOATS: N_PRIOR_FLOATS + m]
    link_scale = floats[N_PRIOR_FLOATS + m: N_PRIOR_FLOATS + m + n_links]

    i_mu = n
    i_sigma = n + u
    i_omega = n + 2 * u
    i_kappa = i_omega + 1
    i_e = i_omega + 2
    p = i_e + kk
    for q in range(x.shape[0]):
        grad[q] = 0.0

    # gauge and positions
    gauge_mu, gauge_sd = floats[F_GAUGE], floats[F_GAUGE + 1]
    lp = 0.0
    for i in range(n):
        lp += k.normal_logp(x[i], gauge_mu, gauge_sd)
        grad[i] = -(x[i] - gauge_mu) / (gauge_sd * gauge_sd)
    xi = np.empty(n)
    d = k.standardize(x[:n], xi)
    grad_xi = np.zeros(n)

    # party units and the entrants' prior
    mu_mu, mu_sd = floats[F_MU], floats[F_MU + 1]
    sigma_shape, sigma_rate = floats[F_SIGMA], floats[F_SIGMA + 1]
    for q in range(u):
        mu_q = x[i_mu + q]
        log_sigma = x[i_sigma + q]
        sigma_q = math.exp(log_sigma)
        lp += k.normal_logp(mu_q, mu_mu, mu_sd) + k.gamma_logp(sigma_q, sigma_shape, sigma_rate) + log_sigma
        grad[i_mu + q] = -(mu_q - mu_mu) / (mu_sd * mu_sd)
        grad[i_sigma + q] = sigma_shape - sigma_rate * sigma_q
    other_mu, other_sd = floats[F_OTHER], floats[F_OTHER + 1]
    for r in range(n_entrants):
        i = entrant[r]
        q = entrant_unit[r]
        if q >= 0:
            sigma_q = math.exp(x[i_sigma + q])
            z = (xi[i] - x[i_mu + q]) / sigma_q
            lp += -0.5 * z * z - x[i_sigma + q] - 0.5 * k.LOG_2PI
            grad_xi[i] -= z / sigma_q
            grad[i_mu + q] += z / sigma_q
            grad[i_sigma + q] += z * z - 1.0
        else:
            lp += k.normal_logp(xi[i], other_mu, other_sd)
            grad_xi[i] -= (xi[i] - other_mu) / (other_sd * other_sd)

    # the walk: omega, kappa, e and the steps
    log_omega, log_kappa = x[i_omega], x[i_kappa]
    omega, kappa = math.exp(log_omega), math.exp(log_kappa)
    omega_shape, omega_rate, kappa_sd = floats[F_OMEGA], floats[F_OMEGA + 1], floats[F_KAPPA]
    lp += k.gamma_logp(omega, omega_shape, omega_rate) + log_omega
    lp += k.halfnormal_logp(kappa, kappa_sd) + log_kappa
    g_log_omega = omega_shape - omega_rate * omega
    g_log_kappa = 1.0 - (kappa / kappa_sd) ** 2
    for q in range(kk):
        e = x[i_e + q]
        lp += -0.5 * e * e - 0.5 * k.LOG_2PI
        grad[i_e + q] = -e
    for r in range(n_links):
        q = link_walker[r]
        e = x[i_e + q]
        s = omega * math.exp(kappa * e) * link_scale[r]
        z = (xi[link_cur[r]] - xi[link_prev[r]]) / s
        lp += -0.5 * z * z - math.log(s) - 0.5 * k.LOG_2PI
        grad_xi[link_cur[r]] -= z / s
        grad_xi[link_prev[r]] += z / s
        g = z * z - 1.0  # d lp / d log s
        g_log_omega += g
        g_log_kappa += g * kappa * e
        grad[i_e + q] += g * kappa
    grad[i_omega] = g_log_omega
    grad[i_kappa] = g_log_kappa

    # roll calls, session by session: priors, then the likelihood of the session's block
    alpha_mu, alpha_sd, tau_sd = floats[F_ALPHA], floats[F_ALPHA + 1], floats[F_TAU]
    alpha = x[p: p + m] + shear * x[p + m + t_n: p + 2 * m + t_n]
    for s in range(t_n):
        j0, j1 = items[s], items[s + 1]
        r0, r1 = rows[s], rows[s + 1]
        a_grad = grad[p + j0: p + j1]
        b_grad = grad[p + m + t_n + j0: p + m + t_n + j1]
        beta_s = x[p + m + t_n + j0: p + m + t_n + j1]
        items_lp, g_log_tau = k.items_logp(
            alpha[j0:j1], x[p + m + s], beta_s, a_grad, b_grad, alpha_mu, alpha_sd, tau_sd
        )
        lp += items_lp
        grad[p + m + s] = g_log_tau
        block = votes[0, cells[s]: cells[s + 1]].reshape((r1 - r0, j1 - j0))
        lp += k.twopl_loglik(block, xi[r0:r1], alpha[j0:j1], beta_s, grad_xi[r0:r1], a_grad, b_grad)
        for j in range(j1 - j0):
            b_grad[j] += shear[j0 + j] * a_grad[j]

    k.standardize_backward(grad_xi, xi, d, grad[:n])
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (N), mu_party (U), sigma_party (U),
    omega, kappa, omega_member (K), tau (T)."""
    t_n, n, u, kk = ints[0], ints[1], ints[2], ints[3]
    k.standardize(x[:n], out[:n])
    for q in range(u):
        out[n + q] = x[n + q]
        out[n + u + q] = math.exp(x[n + u + q])
    omega = math.exp(x[n + 2 * u])
    kappa = math.exp(x[n + 2 * u + 1])
    at = n + 2 * u
    out[at] = omega
    out[at + 1] = kappa
    for q in range(kk):
        out[at + 2 + q] = omega * math.exp(kappa * x[n + 2 * u + 2 + q])
    m = ints[4]
    p = n + 2 * u + 2 + kk
    for s in range(t_n):
        out[at + 2 + kk + s] = math.exp(x[p + m + s])


def nutpie_logp(dim, x_, grad_, logp_, meta_):
    ok, x, grad, votes, ints, floats = callbacks.logp_arguments(dim, x_, grad_, meta_)
    return callbacks.finish(logp_grad(x, grad, votes, ints, floats), grad, logp_) if ok else callbacks.WRONG_SIZE


def nutpie_expand(dim, n_expanded, x_, out_, meta_):
    ok, x, out, votes, ints, floats = callbacks.expand_arguments(dim, n_expanded, x_, out_, meta_)
    if ok:
        expand(x, out, votes, ints, floats)
    return 0 if ok else callbacks.WRONG_SIZE


# ------------------------------------------------------------------ after sampling


def reflected_chains(xi: np.ndarray, parties: np.ndarray, poles=POLES) -> list[int]:
    """Chains (xi: (chains, draws, N)) whose mean position of poles[1]'s members lies
    below that of poles[0]'s."""
    low, high = parties == poles[0], parties == poles[1]
    if not (low.any() and high.any()):
        return []
    means = xi.mean(axis=1)
    return [c for c in range(xi.shape[0]) if means[c, high].mean() < means[c, low].mean()]


def orient_chains(idata, parties, poles=POLES) -> list[int]:
    """Reflect (xi, mu_party negated) every chain in the mirror image; returns them."""
    post = idata.posterior
    flipped = reflected_chains(post["xi"].values, np.asarray(parties), poles)
    if flipped:
        sign = np.ones(post.sizes["chain"])
        sign[flipped] = -1.0
        for name in ("xi", "mu_party"):
            if name in post:
                post[name] = post[name] * sign.reshape((-1,) + (1,) * (post[name].ndim - 1))
    return flipped


def postprocess(idata, bound: Bound) -> dict:
    flipped = orient_chains(idata, bound.layout.panel.party)
    return {"reflected_chains": ",".join(str(c) for c in flipped)}


def as_common_scale(xi_draws: np.ndarray, bound: Bound, matrices: Sequence[VoteMatrix]):
    """The posterior's positions as a `stats.common_scale.CommonScale` (so its tables,
    party gap and careers apply unchanged): xi_draws (draws, N) in panel order. Its
    links are identities (a = 0, b = 1): there is no linking step."""
    from irt_pipeline.stats import common_scale as cs

    panel: Panel = bound.layout.panel
    draws, legislators, links = {}, {}, []
    for t, (session, matrix) in enumerate(zip(panel.sessions, matrices)):
        draws[session] = xi_draws[:, panel.rows[t]: panel.rows[t + 1]]
        legislators[session] = matrix.legislators.reset_index(drop=True)
        zeros = np.zeros(len(xi_draws))
        links.append(cs.Link(session, panel.sessions[t - 1] if t else None, 0, zeros, zeros + 1.0))
    return cs.CommonScale(list(panel.sessions), links, draws, legislators)


# Not registered in MODELS yet: `bind` takes a panel (a list of matrices), not one
# matrix, so the sampling path and the assets need the panel-level wiring first.
SPEC = ModelSpec(
    name="dynamic_2pl",
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp=nutpie_logp,
    expand=nutpie_expand,
    scale=SCALE,
    postprocess=postprocess,
    jittered=("a", "beta"),
)
