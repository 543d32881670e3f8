"""The dynamic 2PL IRT model: a chamber's sessions in one posterior, each member's
position a random walk across the sessions they serve (docs/dynamic_model.md).

Over a panel of T sessions of one chamber (N legislator-sessions, M roll calls in all),
with the priors of `PRIORS`:

    xi                 standardized over the whole panel: mean 0, sd 1 over all N
                       legislator-sessions (population sd), per draw
    entry              xi_{i,e(i)} ~ Normal(mu_{g,e}, sigma_g) for a member of party
                       group g entering the panel in session e; PRIORS["xi_other"] for
                       a member of no group (independents, small parties)
    mu_{g,t}           ~ PRIORS["mu_party"]      one per (group, session) with entrants
    sigma_g            ~ PRIORS["sigma_party"]   one per group over the panel
    omega              ~ PRIORS["omega"]         a typical member's step sd per session
    nu                 ~ PRIORS["nu"]            how alike members' step sizes are
    v_k                ~ InvGamma(nu / 2, nu omega^2 / 2)   member k's step variance
    xi_{i,t}           ~ Normal(xi_{i,s}, v_k (t - s))  s: the member's previous session
                       (t - s > 1 across a gap in service)
    alpha_j            ~ PRIORS["alpha"]; beta_j ~ Normal(0, tau_t(j));
    tau_t              ~ PRIORS["tau"]            per session
    logit P(Yea_ij)    = beta_j xi_i - alpha_j    observed votes only

The party level is the distribution a member enters from: its mean per session (where
the party has newcomers), its spread per party over the panel. A spread per session
was a funnel wherever a party had one or two newcomers (divergences on a simulated
panel); pooled, every spread is estimated from all of the party's entrants.

Each member's step variance v_k is integrated out: given omega and nu, a member's steps
d (their number T_k, d_l scaled by sqrt(dt_l)) are jointly Student-t with nu degrees
of freedom and scale omega, with density

    Gamma(a + T_k/2) / Gamma(a) b^a (b + S_k/2)^-(a + T_k/2) (2 pi)^(-T_k/2) prod dt^-1/2,
    a = nu/2, b = a omega^2, S_k = sum_l d_l^2 / dt_l,

so most members can stay put while some move (a member whose steps are all large is
read as a member with a large scale; nu -> infinity is one shared omega) with no
per-member scale for the sampler to move: a latent scale per member made a funnel with
that member's positions (divergences on a simulated panel), which this removes. Each
member's step sd is reported as (b + S_k/2) / (a + T_k/2), square-rooted: the inverse of
the posterior mean of 1/v_k given the draw (`omega_member`).

Identification. Within a session the likelihood is unchanged by xi -> a_t + b_t xi
(with that session's alpha, beta, tau compensating), so the votes say nothing about
how one session's scale sits against another's: only the random walk does, by
preferring the placement in which continuing members move least (weighted by their
own step scales, so a member who moves a lot counts for little). The panel-wide
standardization then fixes the one location and scale left, in every draw, with no
session privileged. The sign: the likelihood, the walk and the party level are all
unchanged by xi -> -xi, beta -> -beta, mu -> -mu; chains start oriented and each chain
is reflected after sampling if the orientation rule says so (`orient_chains`).

Coordinates: x = (c (N), mu (U), log sigma (G), log omega, log nu, a (M), log tau (T),
beta (M)) with w = B c, xi = standardize(w), w ~ PRIORS["gauge"] iid (inert, as in
`hierarchical.py`), alpha_j = a_j + c_j beta_j (the cutpoint shear of `starts.py`).
B is block-orthogonal: member by member, the member's positions in their T_k sessions
are the orthonormal DCT-II transform of their T_k coefficients (mode 0 is their career
mean, mode k a cosine of k half-periods over the career), the eigenvectors of the walk's
precision (the path graph's Laplacian). A member who barely moves has positions nearly
equal across sessions, tightly correlated: along their career the votes pin the mean
and the walk pins the differences, a condition number that grows with the career's
length for a diagonal mass matrix; in the DCT coordinates the two are separate axes.
B is orthogonal, so the gauge density and the Jacobian are unchanged.

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
    # Degrees of freedom of a member's steps (Student-t): mean 20, 95% between 2.4 and
    # 56; small: members' step sizes differ widely; large: one step size for all
    # (Juarez and Steel 2010's prior for a t's degrees of freedom).
    "nu": Gamma(2.0, 0.1),
}
KERNEL_PRIORS = (
    ("gauge", Normal), ("alpha", Normal), ("tau", HalfNormal), ("mu_party", Normal),
    ("sigma_party", Gamma), ("xi_other", Normal), ("omega", Gamma), ("nu", Gamma),
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
F_SIGMA, F_OTHER, F_OMEGA, F_NU = _AT["sigma_party"], _AT["xi_other"], _AT["omega"], _AT["nu"]
N_PRIOR_FLOATS = _AT["end"]  # then the M cutpoints, then the L links' sqrt(dt)
N_HEADER = 10  # ints: T, N, U, K, M, L, E, G, members, longest career; index arrays (`Panel.ints`)

MIN_GROUP_MEMBERS = 5  # a party with fewer distinct members in the panel is "other"
MIN_BRIDGES = 10  # start alignment: sessions sharing fewer members are not chained
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "omega": ("omega", "nu"), "tau": ("tau",)}
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
    unit or -1; units: (U, 2) (group, session) of each entry mean; link_prev,
    link_cur, link_walker: (L,) consecutive services of a walker (index into
    `walkers`, the members serving >= 2 sessions), link_dt: (L,) sessions between them;
    walker_steps: (K,) each walker's number of steps; member_offsets: (members + 1,),
    member_rows: (N,): member q's legislator-sessions, in time order, are
    member_rows[member_offsets[q]: member_offsets[q + 1]] (and so are their DCT
    coefficients in x).
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
    walker_steps: np.ndarray
    member_offsets: np.ndarray
    member_rows: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(T, N, U, K, M): sessions, legislator-sessions, party units, walkers, roll calls."""
        return len(self.sessions), int(self.rows[-1]), len(self.units), len(self.walkers), int(self.items[-1])

    def session_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.rows))

    def session_of_item(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.items))

    @property
    def longest(self) -> int:
        return int(np.diff(self.member_offsets).max())

    def ints(self) -> np.ndarray:
        t, n, u, kk, m = self.shape
        header = [t, n, u, kk, m, len(self.link_prev), len(self.entrant), len(self.groups),
                  len(self.members), self.longest]
        return np.concatenate([
            header, self.rows, self.items, self.cells, self.entrant, self.entrant_unit,
            self.link_prev, self.link_cur, self.link_walker, self.walker_steps, self.units[:, 0],
            self.member_offsets, self.member_rows,
        ]).astype(np.int64)

    def basis_floats(self) -> np.ndarray:
        """The DCT-II bases for careers of 1 .. longest sessions, each (T, T) row-major
        (row t: session t of the career, column k: mode k), one after the other."""
        return np.concatenate([dct_basis(t).ravel() for t in range(1, self.longest + 1)])

    def to_w(self, c: np.ndarray) -> np.ndarray:
        """Positions w (N,) in panel order from the coefficients c (N,) (`Layout`)."""
        w = np.empty_like(c)
        for q in range(len(self.members)):
            o0, o1 = self.member_offsets[q], self.member_offsets[q + 1]
            w[self.member_rows[o0:o1]] = dct_basis(o1 - o0) @ c[o0:o1]
        return w

    def to_c(self, w: np.ndarray) -> np.ndarray:
        c = np.empty_like(w)
        for q in range(len(self.members)):
            o0, o1 = self.member_offsets[q], self.member_offsets[q + 1]
            c[o0:o1] = dct_basis(o1 - o0).T @ w[self.member_rows[o0:o1]]
        return c


def dct_basis(t: int) -> np.ndarray:
    """(t, t) orthonormal DCT-II basis: column k is cos(pi k (s + 1/2) / t) over s,
    normalized (column 0 constant)."""
    s = np.arange(t)[:, None] + 0.5
    k = np.arange(t)[None, :]
    basis = np.cos(np.pi * k * s / t) * np.sqrt(2.0 / t)
    basis[:, 0] = np.sqrt(1.0 / t)
    return basis


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
        walker_steps=np.bincount([walker_index[w] for w in link_member], minlength=len(walkers)).astype(np.int64),
        member_offsets=np.concatenate([[0], np.cumsum(np.bincount(member, minlength=len(members)))]).astype(np.int64),
        member_rows=np.argsort(member, kind="stable").astype(np.int64),
    )


def stacked_votes(matrices: Sequence[VoteMatrix]) -> np.ndarray:
    """(1, cells) float32: every session's signed votes (+1 Yea, -1 Nay, 0 missing), C
    order, one block after the other (the kernel's layout)."""
    return np.concatenate([m.signed_votes().ravel() for m in matrices]).reshape(1, -1)


def member_step_sd(panel: Panel, xi: np.ndarray, omega: float, nu: float) -> np.ndarray:
    """(K,) each walker's step sd given the positions: sqrt((b + S_k/2) / (a + T_k/2)),
    a = nu/2, b = a omega^2 (1 / sqrt of the posterior mean of 1/v_k)."""
    a = nu / 2.0
    b = a * omega**2
    steps = (xi[panel.link_cur] - xi[panel.link_prev]) ** 2 / panel.link_dt
    total = np.bincount(panel.link_walker, weights=steps, minlength=len(panel.walkers))
    return np.sqrt((b + total / 2.0) / (a + panel.walker_steps / 2.0))


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x: c (N, each member's DCT coefficients: `Panel.to_w`),
    mu (U), log sigma (G), log omega, log nu, a (M), log tau (T), beta (M). shear:
    (M,) cutpoints, alpha = a + c beta."""

    panel: Panel
    shear: np.ndarray

    @property
    def ndim(self) -> int:
        t, n, u, kk, m = self.panel.shape
        return n + u + len(self.panel.groups) + 2 + 2 * m + t

    def slices(self) -> dict[str, slice | int]:
        t, n, u, kk, m = self.panel.shape
        g = n + u + len(self.panel.groups)
        p = g + 2
        return {  # named as the PyMC graph's value variables, in its order
            "c": slice(0, n),
            "mu_party": slice(n, n + u),
            "sigma_party_log__": slice(n + u, g),
            "omega_log__": g,
            "nu_log__": g + 1,
            "a": slice(p, p + m),
            "tau_log__": slice(p + m, p + m + t),
            "beta": slice(p + m + t, p + 2 * m + t),
        }

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The reported variables at x, in `expand` order (the roll calls' alpha and
        beta are not reported: M of them per draw would dwarf the positions)."""
        s = self.slices()
        w = self.panel.to_w(x[s["c"]])
        omega, nu = math.exp(x[s["omega_log__"]]), math.exp(x[s["nu_log__"]])
        xi = (w - w.mean()) / w.std()
        return {
            "xi": xi,
            "mu_party": x[s["mu_party"]].copy(),
            "sigma_party": np.exp(x[s["sigma_party_log__"]]),
            "omega": np.array(omega),
            "nu": np.array(nu),
            "omega_member": member_step_sd(self.panel, xi, omega, nu),
            "tau": np.exp(x[s["tau_log__"]]),
        }

    def items(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.slices()
        beta = x[s["beta"]]
        return x[s["a"]] + self.shear * beta, beta.copy()

    def unconstrained(self, start: dict) -> np.ndarray:
        """x for a start given as xi, mu_party, sigma_party, omega, nu, alpha, tau,
        beta (w = xi)."""
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["c"]] = self.panel.to_c(np.asarray(start["xi"], float))
        x[s["mu_party"]] = start["mu_party"]
        x[s["sigma_party_log__"]] = np.log(start["sigma_party"])
        x[s["omega_log__"]] = math.log(start["omega"])
        x[s["nu_log__"]] = math.log(start["nu"])
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
    entry means and spreads from the entrants' positions, omega at the positions' typical step,
    nu 20, roll calls at `items` ((alpha, beta), jittered), tau per
    session at the rms of its beta."""
    alpha, beta = jittered_items(*items, rng)
    t, n, u, kk, m = panel.shape
    n_groups = len(panel.groups)
    mu, sigma = np.zeros(u), np.full(n_groups, 0.5)
    for unit in range(u):
        mu[unit] = xi[panel.entrant[panel.entrant_unit == unit]].mean()
    for g in range(n_groups):
        entrants = panel.entrant_unit >= 0
        mine = panel.entrant[entrants][panel.units[panel.entrant_unit[entrants], 0] == g]
        deviations = xi[mine] - mu[panel.entrant_unit[entrants][panel.units[panel.entrant_unit[entrants], 0] == g]]
        if len(mine) > 2:
            sigma[g] = max(float(np.sqrt(np.mean(deviations**2))), 0.05)
    steps = (xi[panel.link_cur] - xi[panel.link_prev]) / np.sqrt(panel.link_dt)
    omega = max(float(np.median(np.abs(steps))) / 0.6745, 0.02) if len(steps) else 0.1
    item_session = panel.session_of_item()
    tau = np.array([max(float(np.sqrt(np.mean(items[1][item_session == s] ** 2))), 0.1) for s in range(t)])
    return {
        "xi": xi,
        "mu_party": mu + rng.uniform(-0.05, 0.05, u),
        "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, n_groups)),
        "omega": omega * math.exp(rng.uniform(-0.2, 0.2)),
        "nu": 20.0 * math.exp(rng.uniform(-0.2, 0.2)),
        "alpha": alpha,
        "tau": tau * np.exp(rng.uniform(-0.2, 0.2, t)),
        "beta": beta,
    }


def bind(
    matrices: Sequence[VoteMatrix], sessions: Sequence[str], scores=None, time=None, *,
    xi=None, items=None, shear=None,
) -> Bound:
    """The model on a panel: `matrices` one per session of `sessions` (time order).

    The start: xi (N,) panel-standardized positions in panel order (default: per-session
    `scores`, default each session's PCA pc1, aligned by `aligned_scores`); items:
    (alpha, beta) (M,) each (default: `item_logits` per session on xi); shear: (M,)
    the cutpoints of the coordinates (default `cutpoint_shear` of items). A warm start
    (`warm_bind`) passes all three from a stored posterior."""
    panel = build_panel(matrices, sessions, time)
    if xi is None:
        scores = session_scores(matrices) if scores is None else scores
        xi = np.concatenate(aligned_scores(matrices, scores))
    xi = np.asarray(xi, float)
    if items is None:
        fits = [item_logits(m.votes, xi[panel.rows[t]: panel.rows[t + 1]]) for t, m in enumerate(matrices)]
        items = (np.concatenate([f[0] for f in fits]), np.concatenate([f[1] for f in fits]))
    layout = Layout(panel, cutpoint_shear(*items) if shear is None else np.asarray(shear, float))
    floats = np.concatenate([pack(PRIORS, KERNEL_PRIORS), layout.shear, np.sqrt(panel.link_dt), panel.basis_floats()])
    t, n, u, kk, m = panel.shape
    sessions_of_rows = panel.session_of_row()
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "mu_party": (u,), "sigma_party": (len(panel.groups),), "omega": (), "nu": (),
                  "omega_member": (kk,), "tau": (t,)},
        dims={"xi": ("legislator_session",), "mu_party": ("party_session",), "sigma_party": ("party",),
              "omega": (), "nu": (), "omega_member": ("member",), "tau": ("session",)},
        coords={
            "legislator_session": [f"{panel.sessions[s]}|{panel.members[i]}" for s, i in zip(sessions_of_rows, panel.member)],
            "party_session": [f"{panel.sessions[s]}|{panel.groups[g]}" for g, s in panel.units],
            "party": list(panel.groups),
            "member": [panel.members[i] for i in panel.walkers],
            "session": list(panel.sessions),
            "roll_call": [str(r) for mm in matrices for r in mm.roll_calls["roll_call_id"]],
        },
        start=lambda rng: layout.unconstrained(start_values(panel, xi, items, rng)),
        kernel_data=callbacks.KernelData.of(stacked_votes(matrices), panel.ints(), floats),
        layout=layout,
        attrs={"coordinates": "gauge"},
    )


def coordinate_labels(bound: Bound) -> np.ndarray:
    """(ndim,) a name for every coordinate of x ("c:<legislator>:<career length>:<mode>",
    "mu:<session>|<party>", "log_sigma:<party>", "log_omega", "log_nu",
    "a:<roll call>", "log_tau:<session>", "beta:<roll call>"): how a warm start finds a
    stored coordinate in a grown panel."""
    c = bound.coords
    panel: Panel = bound.layout.panel
    careers = np.diff(panel.member_offsets)
    modes = [f"c:{member}:{length}:{k}" for member, length in zip(panel.members, careers) for k in range(length)]
    return np.array(
        modes + [f"mu:{v}" for v in c["party_session"]]
        + [f"log_sigma:{v}" for v in c["party"]] + ["log_omega", "log_nu"]
        + [f"a:{v}" for v in c["roll_call"]] + [f"log_tau:{v}" for v in c["session"]]
        + [f"beta:{v}" for v in c["roll_call"]]
    )


def warm_bind(previous: Bound, state, matrices: Sequence[VoteMatrix], sessions: Sequence[str], time=None):
    """The model on a grown panel (more votes in a session, a new session, new members),
    started from a stored posterior of `previous`: returns (bound, initial_point(seed),
    (center, scale)).

    state: what `panel_sampling.Run` keeps: `starts` (draws, ndim) a few of the last
    kept draws of every chain, `mean` and `sd` (ndim,) of the kept draws, all in
    `previous`'s x; `xi_mean` (N_previous,) posterior means of the positions. Every
    coordinate of the new panel found by name in the old one keeps its stored values
    (and roll calls keep their cutpoint shear, so their coordinates mean the same);
    positions new to the panel start at their session's PCA scores mapped onto the
    stored scale through the session's members with stored positions (or, for a
    member already in the panel, at their latest stored position), new roll calls at
    `item_logits` on those positions; their preconditioning scale is the median
    stored sd of coordinates of the same kind."""
    old_labels = coordinate_labels(previous)
    old_index = {label: i for i, label in enumerate(old_labels)}
    old_rows = {label: i for i, label in enumerate(previous.coords["legislator_session"])}
    panel = build_panel(matrices, sessions, time)
    rows_of = panel.session_of_row()
    labels = [f"{panel.sessions[s]}|{panel.members[i]}" for s, i in zip(rows_of, panel.member)]
    xi = np.full(len(labels), np.nan)
    latest: dict[str, float] = {}
    for label, i in old_rows.items():
        latest[label.split("|", 1)[1]] = state.xi_mean[i]  # sessions are in time order
    for r, label in enumerate(labels):
        if label in old_rows:
            xi[r] = state.xi_mean[old_rows[label]]
    for t, matrix in enumerate(matrices):
        rows = slice(panel.rows[t], panel.rows[t + 1])
        missing = np.isnan(xi[rows])
        if not missing.any():
            continue
        score = session_scores([matrix])[0]
        known = ~missing
        if known.sum() >= MIN_BRIDGES:  # map the session's PCA scores onto the stored scale
            x, y = score[known], xi[rows][known]
            if np.corrcoef(x, y)[0, 1] < 0:
                score, x = -score, -x
            mapped = y.mean() + y.std() / x.std() * (score - x.mean())
        else:
            ids = np.array(panel.members)[panel.member[rows]]
            mapped = np.array([latest.get(i, 0.0) for i in ids])
        block = xi[rows]
        block[missing] = mapped[missing]
        xi[rows] = block
    # roll calls: stored ones keep (alpha, beta) and their shear; new ones from item_logits
    roll_calls = [str(r) for m in matrices for r in m.roll_calls["roll_call_id"]]
    old_shear = dict(zip(previous.coords["roll_call"], previous.layout.shear))
    alpha, beta, shear = np.empty(len(roll_calls)), np.empty(len(roll_calls)), np.empty(len(roll_calls))
    j = 0
    for t, matrix in enumerate(matrices):
        ids = [str(r) for r in matrix.roll_calls["roll_call_id"]]
        new = np.array([f"a:{r}" not in old_index for r in ids])
        if new.any():
            a_new, b_new = item_logits(matrix.votes[:, new], xi[panel.rows[t]: panel.rows[t + 1]])
            alpha[j + np.flatnonzero(new)], beta[j + np.flatnonzero(new)] = a_new, b_new
            shear[j + np.flatnonzero(new)] = cutpoint_shear(a_new, b_new)
        for q, r in enumerate(ids):
            if not new[q]:
                b = state.mean[old_index[f"beta:{r}"]]
                alpha[j + q] = state.mean[old_index[f"a:{r}"]] + old_shear[r] * b
                beta[j + q] = b
                shear[j + q] = old_shear[r]
        j += len(ids)
    bound = bind(matrices, sessions, time=time, xi=xi, items=(alpha, beta), shear=shear)
    labels_new = coordinate_labels(bound)
    found = np.array([label in old_index for label in labels_new])
    where = np.array([old_index.get(label, -1) for label in labels_new])
    kinds = np.array([label.split(":", 1)[0] for label in labels_new])
    old_kinds = np.array([label.split(":", 1)[0] for label in old_labels])
    fallback = {kind: float(np.median(state.sd[old_kinds == kind])) for kind in set(old_kinds)}
    reference = bound.start(np.random.default_rng(0))
    c = bound.coordinates["c"]
    # positions: mapped through w by legislator-session (a member whose career grew has
    # new coefficients); new legislator-sessions onto the stored gauge
    row_of = np.array([old_rows.get(label, -1) for label in labels])
    old = row_of >= 0

    def positions(stored_c: np.ndarray) -> np.ndarray:
        w_old = previous.layout.panel.to_w(stored_c)
        w = w_old.mean() + w_old.std() * xi
        w[old] = w_old[row_of[old]]
        return bound.layout.panel.to_c(w)

    center = np.where(found, state.mean[np.maximum(where, 0)], reference)
    scale = np.where(found, state.sd[np.maximum(where, 0)], [fallback.get(kind, 1.0) for kind in kinds])
    center[c] = positions(state.mean[previous.coordinates["c"]])

    def initial_point(seed) -> np.ndarray:
        rng = np.random.default_rng(int(seed) % (2**63))
        stored = state.starts[rng.integers(len(state.starts))]
        x = bound.start(rng)  # the new coordinates' own starts
        x[found] = stored[where[found]]
        x[c] = positions(stored[previous.coordinates["c"]])
        return x

    return bound, initial_point, (center, scale)


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
        coefficients = pm.Flat("c", dims="legislator_session")
        w = pt.dot(basis_matrix(panel), coefficients)
        pm.Potential("gauge", logp(PRIORS["gauge"], w).sum())
        xi = (w - w.mean()) / w.std()
        pm.Deterministic("xi", xi, dims="legislator_session")
        mu = PRIORS["mu_party"].rv("mu_party", dims="party_session")
        sigma = PRIORS["sigma_party"].rv("sigma_party", dims="party")
        omega = PRIORS["omega"].rv("omega")
        nu = PRIORS["nu"].rv("nu")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau", dims="session")
        beta = pm.Normal("beta", 0.0, tau[panel.session_of_item()], dims="roll_call")
        alpha = a + layout.shear * beta
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        grouped = panel.entrant_unit >= 0
        unit = panel.entrant_unit[grouped]
        entry = pm.logp(pm.Normal.dist(mu[unit], sigma[panel.units[unit, 0]]), xi[panel.entrant[grouped]]).sum()
        entry += logp(PRIORS["xi_other"], xi[panel.entrant[~grouped]]).sum()
        pm.Potential("entry_prior", entry)
        pm.Potential("walk", walk_graph(xi, omega, nu, panel))
        pm.Bernoulli("y", logit_p=beta[cols] * xi[rows] - alpha[cols], observed=ys, dims="vote")
    return model


def basis_matrix(panel: Panel) -> np.ndarray:
    """(N, N) dense B, w = B c (for the graph on small panels)."""
    n = len(panel.member)
    return np.column_stack([panel.to_w(e) for e in np.eye(n)])


def walk_graph(xi, omega, nu, panel: Panel):
    """The walk's log-density (PyTensor scalar): each walker's steps jointly Student-t
    (their step variance integrated out), see the module docstring."""
    import pytensor.tensor as pt
    from pytensor.tensor.math import gammaln

    a = nu / 2.0
    b = a * omega**2
    squares = (xi[panel.link_cur] - xi[panel.link_prev]) ** 2 / panel.link_dt
    total = pt.inc_subtensor(pt.zeros(len(panel.walkers))[panel.link_walker], squares)
    steps = panel.walker_steps.astype(float)
    per_walker = gammaln(a + steps / 2) - gammaln(a) + a * pt.log(b) - (a + steps / 2) * pt.log(b + total / 2)
    constant = -0.5 * len(panel.link_dt) * math.log(2 * math.pi) - 0.5 * np.log(panel.link_dt).sum()
    return per_walker.sum() + constant


# ------------------------------------------------------------------ the kernel


@njit(inline="always")
def _digamma(x):
    """digamma(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series
    to x^-10 (truncation error < 1e-13)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))))
    return result + math.log(x) - 0.5 / x - series


@njit
def _structure(ints):
    """The index arrays of `Panel.ints`."""
    t_n, n_links, n_entrants, kk = ints[0], ints[5], ints[6], ints[3]
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
    o += n_links
    walker_steps = ints[o: o + kk]
    o += kk
    unit_group = ints[o: o + ints[2]]
    o += ints[2]
    member_offsets = ints[o: o + ints[8] + 1]
    o += ints[8] + 1
    member_rows = ints[o: o + ints[1]]
    return (rows, items, cells, entrant, entrant_unit, link_prev, link_cur, link_walker, walker_steps, unit_group,
            member_offsets, member_rows)


@njit
def _positions(c, member_offsets, member_rows, basis, w):
    """w = B c (`Panel.to_w`): each member's coefficients through their DCT-II basis
    (basis: `Panel.basis_floats`)."""
    for q in range(member_offsets.shape[0] - 1):
        o0 = member_offsets[q]
        t = member_offsets[q + 1] - o0
        b0 = (t - 1) * t * (2 * t - 1) // 6  # sum of s^2, s < t: where the (t, t) basis starts
        for s in range(t):
            acc = 0.0
            for kk in range(t):
                acc += basis[b0 + s * t + kk] * c[o0 + kk]
            w[member_rows[o0 + s]] = acc


@njit
def _positions_backward(grad_w, member_offsets, member_rows, basis, grad_c):
    """grad_c = B^T grad_w."""
    for q in range(member_offsets.shape[0] - 1):
        o0 = member_offsets[q]
        t = member_offsets[q + 1] - o0
        b0 = (t - 1) * t * (2 * t - 1) // 6
        for kk in range(t):
            acc = 0.0
            for s in range(t):
                acc += basis[b0 + s * t + kk] * grad_w[member_rows[o0 + s]]
            grad_c[o0 + kk] = acc


@njit
def _walker_squares(xi, link_prev, link_cur, link_walker, link_scale, kk):
    """(K,) S_k: each walker's sum of squared steps over dt."""
    total = np.zeros(kk)
    for r in range(link_prev.shape[0]):
        d = (xi[link_cur[r]] - xi[link_prev[r]]) / link_scale[r]
        total[link_walker[r]] += d * d
    return total


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order; votes: (1, cells) float32 (or float64, the
    reference) per-session blocks; ints: `Panel.ints`; floats: the packed PRIORS
    (KERNEL_PRIORS order), the M cutpoints, the L links' sqrt(dt), the DCT bases
    (`Panel.basis_floats`; anything after them is ignored). Returns the log-density with every constant, equal to `graph`'s.
    """
    t_n, n, u, kk, m, n_links, n_entrants, n_groups = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7]
    structure = _structure(ints)
    rows, items, cells, entrant, entrant_unit, link_prev, link_cur, link_walker, walker_steps, unit_group = structure[:10]
    member_offsets, member_rows = structure[10], structure[11]
    shear = floats[N_PRIOR_FLOATS: N_PRIOR_FLOATS + m]
    link_scale = floats[N_PRIOR_FLOATS + m: N_PRIOR_FLOATS + m + n_links]
    basis = floats[N_PRIOR_FLOATS + m + n_links:]

    i_mu = n
    i_sigma = n + u
    i_omega = n + u + n_groups
    i_nu = i_omega + 1
    p = i_nu + 1
    for q in range(x.shape[0]):
        grad[q] = 0.0

    # positions w = B c, their gauge density, xi = standardize(w)
    w = np.empty(n)
    _positions(x[:n], member_offsets, member_rows, basis, w)
    gauge_mu, gauge_sd = floats[F_GAUGE], floats[F_GAUGE + 1]
    lp = 0.0
    grad_w = np.empty(n)
    for i in range(n):
        lp += k.normal_logp(w[i], gauge_mu, gauge_sd)
        grad_w[i] = -(w[i] - gauge_mu) / (gauge_sd * gauge_sd)
    xi = np.empty(n)
    d = k.standardize(w, xi)
    grad_xi = np.zeros(n)

    # the entry level (per-session means, per-group spreads) and the entrants' prior
    mu_mu, mu_sd = floats[F_MU], floats[F_MU + 1]
    sigma_shape, sigma_rate = floats[F_SIGMA], floats[F_SIGMA + 1]
    for q in range(u):
        lp += k.normal_logp(x[i_mu + q], mu_mu, mu_sd)
        grad[i_mu + q] = -(x[i_mu + q] - mu_mu) / (mu_sd * mu_sd)
    for g in range(n_groups):
        log_sigma = x[i_sigma + g]
        sigma_g = math.exp(log_sigma)
        lp += k.gamma_logp(sigma_g, sigma_shape, sigma_rate) + log_sigma
        grad[i_sigma + g] = sigma_shape - sigma_rate * sigma_g
    other_mu, other_sd = floats[F_OTHER], floats[F_OTHER + 1]
    for r in range(n_entrants):
        i = entrant[r]
        q = entrant_unit[r]
        if q >= 0:
            g = unit_group[q]
            sigma_g = math.exp(x[i_sigma + g])
            z = (xi[i] - x[i_mu + q]) / sigma_g
            lp += -0.5 * z * z - x[i_sigma + g] - 0.5 * k.LOG_2PI
            grad_xi[i] -= z / sigma_g
            grad[i_mu + q] += z / sigma_g
            grad[i_sigma + g] += z * z - 1.0
        else:
            lp += k.normal_logp(xi[i], other_mu, other_sd)
            grad_xi[i] -= (xi[i] - other_mu) / (other_sd * other_sd)

    # the walk: each walker's steps jointly Student-t (their variance integrated out)
    log_omega, log_nu = x[i_omega], x[i_nu]
    omega, nu = math.exp(log_omega), math.exp(log_nu)
    lp += k.gamma_logp(omega, floats[F_OMEGA], floats[F_OMEGA + 1]) + log_omega
    lp += k.gamma_logp(nu, floats[F_NU], floats[F_NU + 1]) + log_nu
    g_log_omega = floats[F_OMEGA] - floats[F_OMEGA + 1] * omega
    g_log_nu = floats[F_NU] - floats[F_NU + 1] * nu
    a = 0.5 * nu
    b = a * omega * omega
    total = _walker_squares(xi, link_prev, link_cur, link_walker, link_scale, kk)
    coef = np.empty(kk)
    g_b, g_a = 0.0, 0.0
    lgamma_a, digamma_a, log_b = math.lgamma(a), _digamma(a), math.log(b)
    for q in range(kk):
        shape = a + 0.5 * walker_steps[q]
        c = b + 0.5 * total[q]
        log_c = math.log(c)
        lp += math.lgamma(shape) - lgamma_a + a * log_b - shape * log_c
        coef[q] = shape / c
        g_b += a / b - shape / c
        g_a += _digamma(shape) - digamma_a + log_b - log_c
    for r in range(n_links):
        lp -= 0.5 * k.LOG_2PI + math.log(link_scale[r])
        g = coef[link_walker[r]] * (xi[link_cur[r]] - xi[link_prev[r]]) / (link_scale[r] * link_scale[r])
        grad_xi[link_cur[r]] -= g
        grad_xi[link_prev[r]] += g
    grad[i_omega] = g_log_omega + g_b * 2.0 * b
    grad[i_nu] = g_log_nu + a * (g_a + g_b * omega * omega)

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

    k.standardize_backward(grad_xi, xi, d, grad_w)
    _positions_backward(grad_w, member_offsets, member_rows, basis, grad[:n])
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (N), mu_party (U), sigma_party (G),
    omega, nu, omega_member (K), tau (T)."""
    t_n, n, u, kk, m, n_links, n_groups = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[7]
    structure = _structure(ints)
    link_prev, link_cur, link_walker, walker_steps = structure[5], structure[6], structure[7], structure[8]
    link_scale = floats[N_PRIOR_FLOATS + m: N_PRIOR_FLOATS + m + n_links]
    w = np.empty(n)
    _positions(x[:n], structure[10], structure[11], floats[N_PRIOR_FLOATS + m + n_links:], w)
    k.standardize(w, out[:n])
    for q in range(u):
        out[n + q] = x[n + q]
    for g in range(n_groups):
        out[n + u + g] = math.exp(x[n + u + g])
    omega = math.exp(x[n + u + n_groups])
    nu = math.exp(x[n + u + n_groups + 1])
    at = n + u + n_groups
    out[at] = omega
    out[at + 1] = nu
    a = 0.5 * nu
    b = a * omega * omega
    total = _walker_squares(out[:n], link_prev, link_cur, link_walker, link_scale, kk)
    for q in range(kk):
        out[at + 2 + q] = math.sqrt((b + 0.5 * total[q]) / (a + 0.5 * walker_steps[q]))
    p = n + u + n_groups + 2
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


# The same in preconditioned coordinates u, x = center + scale * u, with center and
# scale (ndim each) after the model's floats (stats/panel_sampling.py: warm starts).
@njit
def _unscaled(u, floats):
    dim = u.shape[0]
    end = floats.shape[0]
    center, scale = floats[end - 2 * dim: end - dim], floats[end - dim: end]
    return center + scale * u, scale


def nutpie_logp_scaled(dim, x_, grad_, logp_, meta_):
    ok, u, grad, votes, ints, floats = callbacks.logp_arguments(dim, x_, grad_, meta_)
    if not ok:
        return callbacks.WRONG_SIZE
    x, scale = _unscaled(u, floats)
    value = logp_grad(x, grad, votes, ints, floats)
    for q in range(dim):
        grad[q] *= scale[q]
    return callbacks.finish(value, grad, logp_)


def nutpie_expand_scaled(dim, n_expanded, x_, out_, meta_):
    ok, u, out, votes, ints, floats = callbacks.expand_arguments(dim, n_expanded, x_, out_, meta_)
    if ok:
        x, _ = _unscaled(u, floats)
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
