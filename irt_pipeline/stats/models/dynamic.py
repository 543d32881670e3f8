"""The dynamic 2PL IRT model: a chamber's sessions in one posterior, each member's
position a random walk across the sessions they serve (docs/dynamic_model.md).

Over a panel of T sessions of one chamber (N legislator-sessions, M roll calls in all),
with the priors of `PRIORS`:

    xi               standardized over the whole panel: mean 0, sd 1 over all N
                     legislator-sessions (population sd), in every draw
    entry            xi_{i,e(i)} ~ Normal(mu_{g,e}, sigma_g) for a member of party group
                     g entering the panel in session e; PRIORS["xi_other"] for a member
                     of no group (independents, parties with few members)
    mu_{g,t}         ~ PRIORS["mu_party"]       one per (group, session) with newcomers
    sigma_g          ~ PRIORS["sigma_party"]    one per group over the panel
    omega            ~ PRIORS["omega"]          the step sd per session
    xi_{i,t}         ~ Normal(xi_{i,s}, omega sqrt(t - s))   s: the member's previous
                     session (t - s > 1 across a gap in service)
    eta_i            = (xi_i - mean_t xi) / sd_t xi   a position standardized within
                     its session t (mean and population sd over the session's members)
    alpha_j          ~ PRIORS["alpha"];  beta_j ~ Normal(0, tau_t(j))
    tau_t            ~ PRIORS["tau"]            per session
    logit P(Yea_ij)  = beta_j eta_i - alpha_j   observed votes only

Identification. A session's roll calls read its positions in the session's own units
(eta, as each per-session model reads its standardized positions, with the same
priors), so the likelihood and the roll calls' priors are unchanged by xi -> a_t + b_t
xi within any session t: nothing but the walk and the entry level places one session
against another, preferring the placement in which continuing members move least. The
panel-wide standardization fixes the one location and scale left, in every draw, with
no session privileged. (With the roll calls in panel units, as in version 1, their
priors placed the sessions too: alpha ~ N(0, 5) preferred the shift that centres a
session's cutpoints, tau_t's prior the stretch that shrinks its discriminations; and a
session's stretch moved every position, cutpoint and discrimination of the session at
once, the direction the sampler was slowest along: docs/dynamic_model.md.) The sign: the
likelihood, the walk and the party level are unchanged by xi -> -xi, beta -> -beta,
mu -> -mu; chains start oriented and `orient_chains` reflects any chain the
orientation rule says is the mirror image.

Coordinates: x = (c (N), mu (U), log sigma (G), log omega, a (M), log tau (T),
beta (M)), w = B c, xi = standardize(w), w ~ PRIORS["gauge"] iid (inert, as in
`hierarchical.py`), alpha_j = a_j + s_j beta_j (the cutpoint shear of `starts.py`).
- B is block-orthogonal: member by member, the member's T_k positions are the
  orthonormal DCT-II transform of T_k coefficients (mode 0: the career mean times
  sqrt(T_k); mode k: a cosine of k half-periods over the career), the eigenvectors of
  the walk's precision (the path graph's Laplacian). For a member who barely moves, the
  votes pin the career mean and the walk pins the differences: in the positions
  themselves that is a correlation a diagonal mass matrix cannot follow (126 leapfrog
  steps per draw on five simulated Senates), in the DCT coordinates two separate axes
  (31). B is orthogonal: the gauge density and the Jacobian are unchanged.
- Non-centered steps (the default): the coordinates of modes k >= 1 are z with c_k =
  omega z_k / sqrt(lambda_k), lambda_k = 4 sin^2(pi k / 2 T_k), so that a member
  moving as the walk says has z of order 1 whatever omega is; the Jacobian
  (N - members) log omega + const is in the density. With centered modes omega mixed
  half as fast (docs/dynamic_model.md).

Kernel data. The votes are one float32 vector of per-session dense blocks (session t:
its n_t members x m_t roll calls, C order), so the likelihood is one pass of
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
from irt_pipeline.stats.parties import MIN_PARTY_MEMBERS, party_groups
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
    # The step sd per session (panel sd units): mean 0.2, mode 0.1, 95% between 0.024
    # and 0.56; 0 excluded (no chamber stands still, and omega -> 0 is a funnel).
    "omega": Gamma(2.0, 10.0),
}
# The kernel's view of the table: every parameter's place in `floats`, by name; from
# P.end: M cutpoints, L links' sqrt(dt), DCT bases, N mode scales.
KERNEL_PRIORS = KernelPriors(PRIORS)
P = KERNEL_PRIORS.at
# first parameter of each prior (a Normal's mu, then sigma; a Gamma's shape, then rate)
F_GAUGE, F_ALPHA, F_TAU, F_MU = P.gauge_mu, P.alpha_mu, P.tau_sigma, P.mu_party_mu
F_SIGMA, F_OTHER, F_OMEGA = P.sigma_party_alpha, P.xi_other_mu, P.omega_alpha
N_PRIOR_FLOATS = P.end
N_HEADER = 11  # ints: T, N, U, K, M, L, E, G, members, longest career, noncentered

MIN_GROUP_MEMBERS = MIN_PARTY_MEMBERS  # distinct members in the panel (stats/parties.py)
MIN_BRIDGES = 10  # start alignment: sessions sharing fewer members are not chained
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "omega": ("omega",), "tau": ("tau",)}
SCALE = ("standardized over the panel: mean 0, sd 1 over every legislator-session; positive = conservative, "
         "by the orientation rule over the panel's legislator-sessions")


def panel_rule(matrices: Sequence[VoteMatrix], sessions: Sequence[str] | None = None, rules: dict | None = None,
               where: str = ""):
    """The orientation rule over a panel's legislator-sessions (`stats/orientation.py`'s
    Orientation; weights: (N,) r in panel order). Every session keeps its own rule
    (`rules`: session -> Orientation or None, as the session's partition decides it:
    its declarations in orientation.csv, else the built-in party poles; default the
    built-in poles of each session), its r divided by the number of sessions that have
    one: r . xi > 0 reads "over the sessions, the positive side sits above the negative
    side on average", and a panel across eras is oriented by each era's own pair of
    parties. A session without a rule weighs nothing (the walk places it). poles: the
    pair the sessions' rules name most often (the party chart's). Raises BadInput
    (`where`) when no session has a rule: the scale's sign would be arbitrary."""
    from collections import Counter

    from irt_pipeline.errors import BadInput
    from irt_pipeline.stats.orientation import DECLARATIONS, Orientation, by_poles, most_named

    sessions = [str(s) for s in (sessions if sessions is not None else range(len(matrices)))]
    if rules is None:
        rules = {s: by_poles(m.legislators["party"].astype(str).to_numpy()) for s, m in zip(sessions, matrices)}
    decided = [s for s in sessions if rules.get(s) is not None]
    if not decided:
        raise BadInput(where or "panel", f"no session of the panel ({', '.join(sessions)}) has an orientation rule "
                       f"(no pair of party poles sits in any, none is declared): declare which legislators are on "
                       f"the positive side in {DECLARATIONS} (columns session,chamber,legislator_id,side)")
    weights = np.concatenate([
        rules[s].weights / len(decided) if s in decided else np.zeros(m.shape[0]) for s, m in zip(sessions, matrices)
    ])
    texts = Counter(rules[s].rule for s in decided)
    rule = "each session's own rule, " + "; ".join(f"{text} ({n} of {len(sessions)} sessions)" for text, n in texts.items())
    if len(decided) < len(sessions):
        rule += f"; no rule in {', '.join(s for s in sessions if s not in decided)} (placed by the walk)"
    return Orientation(weights, rule, most_named(rules[s].poles for s in decided))


def dct_basis(t: int) -> np.ndarray:
    """(t, t) orthonormal DCT-II basis: column k is cos(pi k (s + 1/2) / t) over the
    career's sessions s, normalized (column 0 constant)."""
    s = np.arange(t)[:, None] + 0.5
    basis = np.cos(np.pi * np.arange(t)[None, :] * s / t) * np.sqrt(2.0 / t)
    basis[:, 0] = np.sqrt(1.0 / t)
    return basis


@dataclass(frozen=True)
class Panel:
    """The panel's structure (index arrays int64; legislator-sessions are ordered by
    session, then by their matrix's rows).

    sessions: (T,) labels in time order; time: (T,) each session's place in time (the
    walk's dt); rows, items, cells: (T + 1,) offsets of each session's legislator-
    sessions, roll calls and vote cells; members: legislator ids; member: (N,) index
    into members; party: (N,) labels; group: (N,) party group (index into `groups`) or
    -1 (other); entrant: (E,) the legislator-session where each member enters the
    panel, entrant_unit: (E,) its entry mean (index into units) or -1; units: (U, 2)
    (group, session) of each entry mean; link_prev, link_cur: (L,) consecutive
    services of a member, link_dt: (L,) sessions between them; member_offsets:
    (members + 1,), member_rows: (N,): member q's legislator-sessions in time order are
    member_rows[member_offsets[q]: member_offsets[q + 1]] (their DCT coefficients in x
    are at the same offsets).
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
    link_prev: np.ndarray
    link_cur: np.ndarray
    link_dt: np.ndarray
    member_offsets: np.ndarray
    member_rows: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(T, N, U, K, M): sessions, legislator-sessions, entry means, members serving
        more than one session, roll calls."""
        careers = np.diff(self.member_offsets)
        return len(self.sessions), int(self.rows[-1]), len(self.units), int((careers > 1).sum()), int(self.items[-1])

    @property
    def longest(self) -> int:
        return int(np.diff(self.member_offsets).max())

    def session_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.rows))

    def session_of_item(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.items))

    def ints(self, noncentered: bool) -> np.ndarray:
        t, n, u, kk, m = self.shape
        header = [t, n, u, kk, m, len(self.link_prev), len(self.entrant), len(self.groups), len(self.members),
                  self.longest, int(noncentered)]
        return np.concatenate([
            header, self.rows, self.items, self.cells, self.entrant, self.entrant_unit, self.link_prev,
            self.link_cur, self.units[:, 0], self.member_offsets, self.member_rows,
        ]).astype(np.int64)

    def basis_floats(self) -> np.ndarray:
        """The DCT-II bases of careers of 1 .. longest sessions, each (T, T) row-major
        (row: session of the career, column: mode), one after the other."""
        return np.concatenate([dct_basis(t).ravel() for t in range(1, self.longest + 1)])

    def mode_scales(self) -> np.ndarray:
        """(N,) in coefficient order: 1 / sqrt(lambda_k) for each member's mode k >= 1,
        lambda_k = 4 sin^2(pi k / 2 T) (the path Laplacian's eigenvalues); 0 for mode 0."""
        out = np.zeros(len(self.member))
        for q in range(len(self.members)):
            o0, o1 = self.member_offsets[q], self.member_offsets[q + 1]
            out[o0 + 1: o1] = 1.0 / (2.0 * np.sin(np.pi * np.arange(1, o1 - o0) / (2.0 * (o1 - o0))))
        return out

    def to_w(self, c: np.ndarray) -> np.ndarray:
        """Positions w (N,) in panel order from DCT coefficients c (N,)."""
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
    # the shared party groups (stats/parties.py), counted in distinct members: one label
    # per (member, party) pair, so a member who serves many sessions counts once
    pairs = pd.DataFrame({"member": member, "party": parties}).drop_duplicates()
    groups = party_groups(pairs["party"].to_numpy(), MIN_GROUP_MEMBERS).names
    group_index = {g: i for i, g in enumerate(groups)}
    group = np.array([group_index.get(p, -1) for p in parties], dtype=np.int64)
    rows = np.concatenate([[0], np.cumsum([m.shape[0] for m in matrices])]).astype(np.int64)
    items = np.concatenate([[0], np.cumsum([m.shape[1] for m in matrices])]).astype(np.int64)
    cells = np.concatenate([[0], np.cumsum([m.votes.size for m in matrices])]).astype(np.int64)
    session = np.repeat(np.arange(len(matrices)), np.diff(rows))

    last: dict[int, int] = {}  # member -> their latest legislator-session so far
    entrant, link_prev, link_cur = [], [], []
    for row, who in enumerate(member):
        if who in last:
            link_prev.append(last[who])
            link_cur.append(row)
        else:
            entrant.append(row)
        last[who] = row
    unit_keys = sorted({(group[r], session[r]) for r in entrant if group[r] >= 0})
    unit_index = {key: i for i, key in enumerate(unit_keys)}
    link_prev, link_cur = np.array(link_prev, dtype=np.int64), np.array(link_cur, dtype=np.int64)
    return Panel(
        sessions=tuple(str(s) for s in sessions), time=time, rows=rows, items=items, cells=cells,
        members=members, member=member, party=parties, groups=groups, group=group,
        entrant=np.array(entrant, dtype=np.int64),
        entrant_unit=np.array([unit_index.get((group[r], session[r]), -1) for r in entrant], dtype=np.int64),
        units=np.array(unit_keys, dtype=np.int64).reshape(-1, 2),
        link_prev=link_prev, link_cur=link_cur,
        link_dt=(time[session[link_cur]] - time[session[link_prev]]).astype(np.int64),
        member_offsets=np.concatenate([[0], np.cumsum(np.bincount(member, minlength=len(members)))]).astype(np.int64),
        member_rows=np.argsort(member, kind="stable").astype(np.int64),
    )


def stacked_votes(matrices: Sequence[VoteMatrix]) -> np.ndarray:
    """(1, cells) float32: every session's signed votes (+1 Yea, -1 Nay, 0 missing), C
    order, one block after the other (the kernel's layout)."""
    return np.concatenate([m.signed_votes().ravel() for m in matrices]).reshape(1, -1)


@dataclass(frozen=True)
class Layout:
    """The unconstrained vector x: the positions' coordinates (N; `coefficients`), mu
    (U), log sigma (G), log omega, a (M), log tau (T), beta (M). shear: (M,) cutpoints,
    alpha = a + shear * beta; noncentered: modes k >= 1 scaled by omega."""

    panel: Panel
    shear: np.ndarray
    noncentered: bool = True

    @property
    def ndim(self) -> int:
        t, n, u, kk, m = self.panel.shape
        return n + u + len(self.panel.groups) + 1 + 2 * m + t

    def slices(self) -> dict[str, slice | int]:
        t, n, u, kk, m = self.panel.shape
        g = n + u + len(self.panel.groups)
        p = g + 1
        return {  # named as the PyMC graph's value variables, in its order
            "c": slice(0, n),
            "mu_party": slice(n, n + u),
            "sigma_party_log__": slice(n + u, g),
            "omega_log__": g,
            "a": slice(p, p + m),
            "tau_log__": slice(p + m, p + m + t),
            "beta": slice(p + m + t, p + 2 * m + t),
        }

    def coefficients(self, x: np.ndarray) -> np.ndarray:
        """The DCT coefficients c (N,) at x."""
        c = x[self.slices()["c"]].copy()
        if self.noncentered:
            c *= np.where(self.panel.mode_scales() > 0, math.exp(x[self.slices()["omega_log__"]]) * self.panel.mode_scales(), 1.0)
        return c

    def position_coordinates(self, c: np.ndarray, omega: float) -> np.ndarray:
        """The inverse of `coefficients`: x's position coordinates for coefficients c."""
        if not self.noncentered:
            return c.copy()
        scales = self.panel.mode_scales()
        return c / np.where(scales > 0, omega * scales, 1.0)

    def reported(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The reported variables at x, in `expand` order (the roll calls' alpha and
        beta are not reported: M of them per draw would dwarf the positions)."""
        s = self.slices()
        w = self.panel.to_w(self.coefficients(x))
        return {
            "xi": (w - w.mean()) / w.std(),
            "mu_party": x[s["mu_party"]].copy(),
            "sigma_party": np.exp(x[s["sigma_party_log__"]]),
            "omega": np.array(math.exp(x[s["omega_log__"]])),
            "tau": np.exp(x[s["tau_log__"]]),
        }

    def unconstrained(self, start: dict) -> np.ndarray:
        """x for a start given as xi, mu_party, sigma_party, omega, alpha, tau, beta
        (positions w = xi)."""
        s = self.slices()
        x = np.empty(self.ndim)
        x[s["c"]] = self.position_coordinates(self.panel.to_c(np.asarray(start["xi"], float)), start["omega"])
        x[s["mu_party"]] = start["mu_party"]
        x[s["sigma_party_log__"]] = np.log(start["sigma_party"])
        x[s["omega_log__"]] = math.log(start["omega"])
        x[s["a"]] = start["alpha"] - self.shear * start["beta"]
        x[s["tau_log__"]] = np.log(start["tau"])
        x[s["beta"]] = start["beta"]
        return x


# ------------------------------------------------------------------ starts


def aligned_scores(matrices: Sequence[VoteMatrix], scores: Sequence[np.ndarray], orientation=None) -> list[np.ndarray]:
    """Per-session scores (each standardized within its session) put on one scale: each
    session is flipped to agree with the one before on their shared members and mapped
    onto it by mean-sigma through them (chained from the first; a session sharing fewer
    than MIN_BRIDGES members keeps its own scale); then the whole panel standardized
    and oriented so that r . scores >= 0 (orientation: (N,) the rule's r, default
    `panel_rule` of the matrices' own party poles). Point estimates only: the sampler's
    start."""
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
            score = y.mean() + y.std() / x.std() * (score - x.mean())
        out.append(score)
    flat = np.concatenate(out)
    out = [(s - flat.mean()) / flat.std() for s in out]
    if orientation is None:
        orientation = panel_rule(matrices).weights
    if np.concatenate(out) @ orientation < 0:
        out = [-s for s in out]
    return out


def standardized(v: np.ndarray) -> np.ndarray:
    """(v - mean v) / sd v (population sd): a session's positions in the units its roll
    calls are read in."""
    return (v - v.mean()) / v.std()


def session_scores(matrices: Sequence[VoteMatrix]) -> list[np.ndarray]:
    """Each session's first principal component, standardized (stats/pca.py)."""
    from irt_pipeline.stats.pca import pca_scores

    return [pca_scores(m)["pc1"].to_numpy() for m in matrices]


def start_values(panel: Panel, xi: np.ndarray, items, rng: np.random.Generator) -> dict:
    """A valid, jittered start for one chain: positions at `xi` (panel-standardized),
    entry means and spreads from the entrants' positions, omega at the positions'
    typical step (at least 0.02), roll calls at `items` ((alpha, beta), jittered), tau
    per session at the rms of its beta."""
    alpha, beta = jittered_items(*items, rng)
    t, n, u, kk, m = panel.shape
    n_groups = len(panel.groups)
    grouped = panel.entrant_unit >= 0
    unit = panel.entrant_unit[grouped]
    position = xi[panel.entrant[grouped]]
    mu = np.array([position[unit == q].mean() for q in range(u)])
    sigma = np.full(n_groups, 0.5)
    for g in range(n_groups):
        mine = panel.units[unit, 0] == g
        if mine.sum() > 2:
            sigma[g] = max(float(np.sqrt(np.mean((position[mine] - mu[unit[mine]]) ** 2))), 0.05)
    steps = (xi[panel.link_cur] - xi[panel.link_prev]) / np.sqrt(panel.link_dt)
    omega = max(float(np.sqrt(np.mean(steps**2))), 0.02) if len(steps) else 0.1
    item_session = panel.session_of_item()
    tau = np.array([max(float(np.sqrt(np.mean(items[1][item_session == s] ** 2))), 0.1) for s in range(t)])
    return {
        "xi": xi,
        "mu_party": mu + rng.uniform(-0.05, 0.05, u),
        "sigma_party": sigma * np.exp(rng.uniform(-0.2, 0.2, n_groups)),
        "omega": omega * math.exp(rng.uniform(-0.2, 0.2)),
        "alpha": alpha,
        "tau": tau * np.exp(rng.uniform(-0.2, 0.2, t)),
        "beta": beta,
    }


def bind(
    matrices: Sequence[VoteMatrix], sessions: Sequence[str], scores=None, time=None, *,
    xi=None, items=None, shear=None, noncentered: bool = True, orientation=None,
) -> Bound:
    """The model on a panel: `matrices` one per session of `sessions` (time order).

    The start: xi (N,) panel-standardized positions in panel order (default: per-session
    `scores`, default each session's PCA pc1, aligned by `aligned_scores`); items:
    (alpha, beta) (M,) each (default: `item_logits` per session on xi); shear: (M,)
    the cutpoints of the coordinates (default `cutpoint_shear` of items). A warm start
    (`warm_bind`) passes all three from a stored posterior. orientation: the panel's
    rule (`panel_rule`; default each session's built-in party poles): the chains start
    on its side and `postprocess` reflects any that is not."""
    panel = build_panel(matrices, sessions, time)
    rule = panel_rule(matrices, sessions) if orientation is None else orientation
    if xi is None:
        scores = session_scores(matrices) if scores is None else scores
        xi = np.concatenate(aligned_scores(matrices, scores, rule.weights))
    xi = np.asarray(xi, float)
    if items is None:
        fits = [item_logits(m.votes, standardized(xi[panel.rows[t]: panel.rows[t + 1]])) for t, m in enumerate(matrices)]
        items = (np.concatenate([f[0] for f in fits]), np.concatenate([f[1] for f in fits]))
    layout = Layout(panel, cutpoint_shear(*items) if shear is None else np.asarray(shear, float), noncentered)
    floats = np.concatenate([
        KERNEL_PRIORS.pack(PRIORS), layout.shear, np.sqrt(panel.link_dt), panel.basis_floats(), panel.mode_scales(),
    ])
    t, n, u, kk, m = panel.shape
    session_of_row = panel.session_of_row()
    return Bound(
        ndim=layout.ndim,
        coordinates=layout.slices(),
        reported={"xi": (n,), "mu_party": (u,), "sigma_party": (len(panel.groups),), "omega": (), "tau": (t,)},
        dims={"xi": ("legislator_session",), "mu_party": ("party_session",), "sigma_party": ("party",),
              "omega": (), "tau": ("session",)},
        coords={
            "legislator_session": [f"{panel.sessions[s]}|{panel.members[i]}" for s, i in zip(session_of_row, panel.member)],
            "party_session": [f"{panel.sessions[s]}|{panel.groups[g]}" for g, s in panel.units],
            "party": list(panel.groups),
            "session": list(panel.sessions),
            "roll_call": [str(r) for mm in matrices for r in mm.roll_calls["roll_call_id"]],
        },
        start=lambda rng: layout.unconstrained(start_values(panel, xi, items, rng)),
        kernel_data=callbacks.KernelData.of(stacked_votes(matrices), panel.ints(noncentered), floats),
        layout=layout,
        attrs={"coordinates": "dct, non-centered steps" if noncentered else "dct, centered",
               "orientation_rule": rule.rule, "orientation_poles": ",".join(rule.poles or ())},
        orientation=rule.weights,
    )


# ------------------------------------------------------------------ warm starts


def coordinate_labels(bound: Bound) -> np.ndarray:
    """(ndim,) a name for every coordinate of x ("c:<legislator>:<career length>:<mode>",
    "mu:<session>|<party>", "log_sigma:<party>", "log_omega", "a:<roll call>",
    "log_tau:<session>", "beta:<roll call>"): how a warm start finds a stored
    coordinate in a grown panel (a member whose career grew has new coefficients)."""
    c = bound.coords
    panel: Panel = bound.layout.panel
    careers = np.diff(panel.member_offsets)
    modes = [f"c:{member}:{length}:{k}" for member, length in zip(panel.members, careers) for k in range(length)]
    return np.array(
        modes + [f"mu:{v}" for v in c["party_session"]] + [f"log_sigma:{v}" for v in c["party"]] + ["log_omega"]
        + [f"a:{v}" for v in c["roll_call"]] + [f"log_tau:{v}" for v in c["session"]]
        + [f"beta:{v}" for v in c["roll_call"]]
    )


def warm_bind(previous: Bound, state, matrices: Sequence[VoteMatrix], sessions: Sequence[str], time=None,
              orientation=None):
    """The model on a grown panel (more votes in a session, a new session, new members),
    started from a stored posterior of `previous`: (bound, initial_point(seed),
    (center, scale)) for `panel_sampling.sample_bound`.

    state (`panel_sampling.Run`): `starts` (draws, ndim) the last kept draws of every
    chain, `mean`, `sd` (ndim,) of the kept draws, all in `previous`'s x; `xi_mean`
    posterior means of its positions. Coordinates found by name keep their stored
    values (roll calls keep their cutpoint shear, so their coordinates mean the same);
    positions are carried through w (legislator-session by legislator-session), so a
    member whose career grew keeps their path; positions new to the panel start at their
    session's PCA scores mapped onto the stored scale through the session's stored
    members (or at the member's latest stored position), new roll calls at
    `item_logits` on those positions. center, scale: the preconditioning (the stored
    mean and sd, or for a new coordinate its start and the median stored sd of its
    kind). Nothing is recomputed for the stored sessions (no PCA, no item fits).
    orientation: the grown panel's rule, as `bind` takes it."""
    old_labels = coordinate_labels(previous)
    old_index = {label: i for i, label in enumerate(old_labels)}
    old_rows = {label: i for i, label in enumerate(previous.coords["legislator_session"])}
    panel = build_panel(matrices, sessions, time)
    labels = [f"{panel.sessions[s]}|{panel.members[i]}" for s, i in zip(panel.session_of_row(), panel.member)]
    row_of = np.array([old_rows.get(label, -1) for label in labels])
    stored = row_of >= 0
    xi = np.where(stored, state.xi_mean[np.maximum(row_of, 0)], np.nan)
    latest = {label.split("|", 1)[1]: state.xi_mean[i] for label, i in old_rows.items()}  # time order: the last wins
    for t, matrix in enumerate(matrices):
        rows = slice(panel.rows[t], panel.rows[t + 1])
        missing = np.isnan(xi[rows])
        if not missing.any():
            continue
        known = ~missing
        if known.sum() >= MIN_BRIDGES:  # the session's PCA scores onto the stored scale
            score = session_scores([matrix])[0]
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
    n_items = int(sum(m.shape[1] for m in matrices))
    alpha, beta, shear = np.empty(n_items), np.empty(n_items), np.empty(n_items)
    old_shear = dict(zip(previous.coords["roll_call"], previous.layout.shear))
    j = 0
    for t, matrix in enumerate(matrices):
        ids = [str(r) for r in matrix.roll_calls["roll_call_id"]]
        new = np.array([f"a:{r}" not in old_index for r in ids])
        if new.any():
            a_new, b_new = item_logits(matrix.votes[:, new], standardized(xi[panel.rows[t]: panel.rows[t + 1]]))
            alpha[j + np.flatnonzero(new)], beta[j + np.flatnonzero(new)] = a_new, b_new
            shear[j + np.flatnonzero(new)] = cutpoint_shear(a_new, b_new)
        for q in np.flatnonzero(~new):
            b = state.mean[old_index[f"beta:{ids[q]}"]]
            alpha[j + q] = state.mean[old_index[f"a:{ids[q]}"]] + old_shear[ids[q]] * b
            beta[j + q], shear[j + q] = b, old_shear[ids[q]]
        j += len(ids)
    bound = bind(matrices, sessions, time=time, xi=xi, items=(alpha, beta), shear=shear,
                 noncentered=previous.layout.noncentered, orientation=orientation)
    labels_new = coordinate_labels(bound)
    where = np.array([old_index.get(label, -1) for label in labels_new])
    found = where >= 0
    kinds = np.array([label.split(":", 1)[0] for label in labels_new])
    old_kinds = np.array([label.split(":", 1)[0] for label in old_labels])
    typical = {kind: float(np.median(state.sd[old_kinds == kind])) for kind in set(old_kinds)}
    c = bound.coordinates["c"]
    old_omega = previous.coordinates["omega_log__"]

    def positions(x_old: np.ndarray, log_omega: float) -> np.ndarray:
        """The new position coordinates carrying a stored point's positions (through w;
        new legislator-sessions onto the stored gauge)."""
        w_old = previous.layout.panel.to_w(previous.layout.coefficients(x_old))
        w = w_old.mean() + w_old.std() * xi
        w[stored] = w_old[row_of[stored]]
        return bound.layout.position_coordinates(panel.to_c(w), math.exp(log_omega))

    center = np.where(found, state.mean[np.maximum(where, 0)], bound.start(np.random.default_rng(0)))
    scale = np.where(found, state.sd[np.maximum(where, 0)], [typical.get(kind, 1.0) for kind in kinds])
    center[c] = positions(state.mean, state.mean[old_omega])

    def initial_point(seed) -> np.ndarray:
        rng = np.random.default_rng(int(seed) % (2**63))
        x_old = state.starts[rng.integers(len(state.starts))]
        x = bound.start(rng)  # the new coordinates' own starts
        x[found] = x_old[where[found]]
        x[c] = positions(x_old, x_old[old_omega])
        return x

    return bound, initial_point, (center, scale)


# ------------------------------------------------------------------ the PyMC graph


def basis_matrix(panel: Panel) -> np.ndarray:
    """(N, N) dense B, w = B c (for the graph, on small panels)."""
    return np.column_stack([panel.to_w(e) for e in np.eye(len(panel.member))])


def graph(matrices: Sequence[VoteMatrix], bound: Bound):
    """The model as a PyMC graph in the sampler's coordinates (value variables in
    `Layout.slices` order): the reference the kernel is tested against."""
    import pymc as pm
    import pytensor.tensor as pt

    layout: Layout = bound.layout
    panel = layout.panel
    rows, cols, ys = [], [], []
    for s, matrix in enumerate(matrices):
        r, c = np.nonzero(np.isfinite(matrix.votes))
        rows.append(r + panel.rows[s])
        cols.append(c + panel.items[s])
        ys.append(matrix.votes[r, c].astype("int8"))
    rows, cols, ys = np.concatenate(rows), np.concatenate(cols), np.concatenate(ys)
    with pm.Model(coords={**bound.coords, "vote": np.arange(len(rows))}) as model:
        coefficients = pm.Flat("c", dims="legislator_session")
        mu = PRIORS["mu_party"].rv("mu_party", dims="party_session")
        sigma = PRIORS["sigma_party"].rv("sigma_party", dims="party")
        omega = PRIORS["omega"].rv("omega")
        a = pm.Flat("a", dims="roll_call")
        tau = PRIORS["tau"].rv("tau", dims="session")
        beta = pm.Normal("beta", 0.0, tau[panel.session_of_item()], dims="roll_call")
        if layout.noncentered:
            scales = panel.mode_scales()
            moving = scales > 0
            coefficients = pt.where(moving, omega * scales * coefficients, coefficients)
            pm.Potential("steps_jacobian", moving.sum() * pt.log(omega) + np.log(scales[moving]).sum())
        w = pt.dot(basis_matrix(panel), coefficients)
        pm.Potential("gauge", logp(PRIORS["gauge"], w).sum())
        xi = (w - w.mean()) / w.std()
        pm.Deterministic("xi", xi, dims="legislator_session")
        alpha = a + layout.shear * beta
        pm.Potential("alpha_prior", logp(PRIORS["alpha"], alpha).sum())
        grouped = panel.entrant_unit >= 0
        unit = panel.entrant_unit[grouped]
        entry = pm.logp(pm.Normal.dist(mu[unit], sigma[panel.units[unit, 0]]), xi[panel.entrant[grouped]]).sum()
        entry += logp(PRIORS["xi_other"], xi[panel.entrant[~grouped]]).sum()
        pm.Potential("entry_prior", entry)
        steps = pm.Normal.dist(xi[panel.link_prev], omega * np.sqrt(panel.link_dt))
        pm.Potential("walk", pm.logp(steps, xi[panel.link_cur]).sum())
        eta = pt.concatenate([  # each session's positions standardized within it
            (xi[r0:r1] - xi[r0:r1].mean()) / xi[r0:r1].std() for r0, r1 in zip(panel.rows[:-1], panel.rows[1:])
        ])
        pm.Bernoulli("y", logit_p=beta[cols] * eta[rows] - alpha[cols], observed=ys, dims="vote")
    return model


# ------------------------------------------------------------------ the kernel


@njit
def _structure(ints):
    """The index arrays of `Panel.ints`."""
    t_n, n, u, n_links, n_entrants, n_members = ints[0], ints[1], ints[2], ints[5], ints[6], ints[8]
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
    unit_group = ints[o: o + u]
    o += u
    member_offsets = ints[o: o + n_members + 1]
    o += n_members + 1
    member_rows = ints[o: o + n]
    return rows, items, cells, entrant, entrant_unit, link_prev, link_cur, unit_group, member_offsets, member_rows


@njit
def _float_blocks(ints, floats):
    """(shear (M), link_scale (L), basis, mode_scale (N)) views of `floats`."""
    n, m, n_links, longest = ints[1], ints[4], ints[5], ints[9]
    o = N_PRIOR_FLOATS
    shear = floats[o: o + m]
    o += m
    link_scale = floats[o: o + n_links]
    o += n_links
    basis_end = o + longest * (longest + 1) * (2 * longest + 1) // 6  # sum of T^2, T <= longest
    return shear, link_scale, floats[o:basis_end], floats[basis_end: basis_end + n]


@njit
def _positions(x, omega, noncentered, mode_scale, member_offsets, member_rows, basis, c, w):
    """c: the DCT coefficients from x's position coordinates (scaled by omega where
    non-centered); w = B c. Writes c and w (N each)."""
    for i in range(c.shape[0]):
        c[i] = x[i] * omega * mode_scale[i] if noncentered and mode_scale[i] > 0.0 else x[i]
    for q in range(member_offsets.shape[0] - 1):
        o0 = member_offsets[q]
        t = member_offsets[q + 1] - o0
        b0 = (t - 1) * t * (2 * t - 1) // 6  # where the (t, t) basis starts
        for s in range(t):
            acc = 0.0
            for mode in range(t):
                acc += basis[b0 + s * t + mode] * c[o0 + mode]
            w[member_rows[o0 + s]] = acc


@njit
def _positions_backward(grad_w, member_offsets, member_rows, basis, grad_c):
    """grad_c = B^T grad_w."""
    for q in range(member_offsets.shape[0] - 1):
        o0 = member_offsets[q]
        t = member_offsets[q + 1] - o0
        b0 = (t - 1) * t * (2 * t - 1) // 6
        for mode in range(t):
            acc = 0.0
            for s in range(t):
                acc += basis[b0 + s * t + mode] * grad_w[member_rows[o0 + s]]
            grad_c[o0 + mode] = acc


@njit
def logp_grad(x, grad, votes, ints, floats):
    """Log-density in the sampler's coordinates and its gradient (written to grad).

    x: (ndim,) in `Layout.slices` order; votes: (1, cells) float32 (or float64, the
    reference) per-session blocks; ints: `Panel.ints`; floats: the packed PRIORS
    (KERNEL_PRIORS order), the M cutpoints, the L links' sqrt(dt), the DCT bases
    (`Panel.basis_floats`), the N mode scales (`Panel.mode_scales`); anything after
    them is ignored. Returns the log-density with every constant, equal to `graph`'s.
    """
    t_n, n, u, m, n_links, n_entrants, n_groups = ints[0], ints[1], ints[2], ints[4], ints[5], ints[6], ints[7]
    noncentered = ints[10] == 1
    rows, items, cells, entrant, entrant_unit, link_prev, link_cur, unit_group, offsets, member_rows = _structure(ints)
    shear, link_scale, basis, mode_scale = _float_blocks(ints, floats)
    i_mu, i_sigma, i_omega = n, n + u, n + u + n_groups
    p = i_omega + 1
    for q in range(x.shape[0]):
        grad[q] = 0.0
    log_omega = x[i_omega]
    omega = math.exp(log_omega)

    # positions: w = B c, the gauge density, xi = standardize(w)
    c = np.empty(n)
    w = np.empty(n)
    _positions(x, omega, noncentered, mode_scale, offsets, member_rows, basis, c, w)
    lp = 0.0
    if noncentered:  # the Jacobian of c_k = omega * scale_k * z_k
        for i in range(n):
            if mode_scale[i] > 0.0:
                lp += log_omega + math.log(mode_scale[i])
    gauge_mu, gauge_sd = floats[F_GAUGE], floats[F_GAUGE + 1]
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
        sigma_g = math.exp(x[i_sigma + g])
        lp += k.gamma_logp(sigma_g, sigma_shape, sigma_rate) + x[i_sigma + g]
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

    # the walk
    lp += k.gamma_logp(omega, floats[F_OMEGA], floats[F_OMEGA + 1]) + log_omega
    g_log_omega = floats[F_OMEGA] - floats[F_OMEGA + 1] * omega
    for r in range(n_links):
        s = omega * link_scale[r]
        z = (xi[link_cur[r]] - xi[link_prev[r]]) / s
        lp += -0.5 * z * z - math.log(s) - 0.5 * k.LOG_2PI
        grad_xi[link_cur[r]] -= z / s
        grad_xi[link_prev[r]] += z / s
        g_log_omega += z * z - 1.0

    # roll calls, session by session: priors, then the likelihood of the session's block
    alpha_mu, alpha_sd, tau_sd = floats[F_ALPHA], floats[F_ALPHA + 1], floats[F_TAU]
    alpha = x[p: p + m] + shear * x[p + m + t_n: p + 2 * m + t_n]
    for s in range(t_n):
        j0, j1 = items[s], items[s + 1]
        r0, r1 = rows[s], rows[s + 1]
        a_grad = grad[p + j0: p + j1]
        b_grad = grad[p + m + t_n + j0: p + m + t_n + j1]
        beta_s = x[p + m + t_n + j0: p + m + t_n + j1]
        items_lp, g_log_tau = k.items_logp(alpha[j0:j1], x[p + m + s], beta_s, a_grad, b_grad, alpha_mu, alpha_sd, tau_sd)
        lp += items_lp
        grad[p + m + s] = g_log_tau
        block = votes[0, cells[s]: cells[s + 1]].reshape((r1 - r0, j1 - j0))
        eta = np.empty(r1 - r0)  # the session's positions standardized within it
        d_s = k.standardize(xi[r0:r1], eta)
        grad_eta = np.zeros(r1 - r0)
        lp += k.twopl_loglik(block, eta, alpha[j0:j1], beta_s, grad_eta, a_grad, b_grad)
        k.standardize_backward(grad_eta, eta, d_s, grad_xi[r0:r1])
        for j in range(j1 - j0):
            b_grad[j] += shear[j0 + j] * a_grad[j]

    # back through xi = standardize(w), w = B c, and c's scaling
    k.standardize_backward(grad_xi, xi, d, grad_w)
    _positions_backward(grad_w, offsets, member_rows, basis, grad[:n])
    if noncentered:
        for i in range(n):
            if mode_scale[i] > 0.0:
                g_log_omega += grad[i] * c[i] + 1.0
                grad[i] *= omega * mode_scale[i]
    grad[i_omega] = g_log_omega
    return lp


@njit
def expand(x, out, votes, ints, floats):
    """`Layout.reported` as one flat vector: xi (N), mu_party (U), sigma_party (G),
    omega, tau (T)."""
    t_n, n, u, m, n_groups = ints[0], ints[1], ints[2], ints[4], ints[7]
    structure = _structure(ints)
    _, _, basis, mode_scale = _float_blocks(ints, floats)
    i_omega = n + u + n_groups
    omega = math.exp(x[i_omega])
    c = np.empty(n)
    w = np.empty(n)
    _positions(x, omega, ints[10] == 1, mode_scale, structure[8], structure[9], basis, c, w)
    k.standardize(w, out[:n])
    for q in range(u):
        out[n + q] = x[n + q]
    for g in range(n_groups):
        out[n + u + g] = math.exp(x[n + u + g])
    out[i_omega] = omega
    for s in range(t_n):
        out[i_omega + 1 + s] = math.exp(x[i_omega + 1 + m + s])


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


def reflected_chains(xi: np.ndarray, orientation: np.ndarray) -> list[int]:
    """Chains (xi: (chains, draws, N)) whose mean positions lie on the negative side of
    the orientation rule r (N,): r . mean(xi) < 0."""
    if not np.any(orientation):
        return []
    means = xi.mean(axis=1)
    return [c for c in range(xi.shape[0]) if means[c] @ orientation < 0]


def orient_chains(idata, orientation) -> list[int]:
    """Reflect (xi and mu_party negated) every chain in the mirror image by the rule r
    (N,); returns them. (Whole chains, not draw by draw as `orientation.fold_draws`: a
    chain of the panel that crossed to the mirror image would be a failed run.)"""
    post = idata.posterior
    flipped = reflected_chains(post["xi"].values, np.asarray(orientation, float))
    if flipped:
        sign = np.ones(post.sizes["chain"])
        sign[flipped] = -1.0
        for name in ("xi", "mu_party"):
            post[name] = post[name] * sign.reshape((-1,) + (1,) * (post[name].ndim - 1))
    return flipped


def postprocess(idata, bound: Bound) -> dict:
    flipped = orient_chains(idata, bound.orientation)
    return {"reflected_chains": ",".join(str(c) for c in flipped)}


def as_common_scale(xi_draws: np.ndarray, bound: Bound, matrices: Sequence[VoteMatrix]):
    """The posterior's positions as a `stats.common_scale.CommonScale` (its tables,
    party gap and careers then apply unchanged): xi_draws (draws, N) in panel order."""
    panel: Panel = bound.layout.panel
    return _scale(panel.sessions, xi_draws, panel.rows, [m.legislators for m in matrices], {})


def scale_of_posterior(idata, legislators: dict[str, pd.DataFrame]):
    """A stored posterior of this model as a `stats.common_scale.CommonScale`: every
    draw (chains stacked) of each session's positions, in the order of that session's
    `legislators` frame (legislator_id, legislator_name, party; session -> frame);
    the sessions the fit left out (attrs "left_out") named with their reasons."""
    import json

    xi = idata.posterior["xi"]
    draws = xi.stack(sample=("chain", "draw")).transpose("sample", "legislator_session").values
    labels = [str(v).split("|", 1) for v in xi["legislator_session"].values]
    sessions = tuple(idata.attrs["sessions"].split(","))
    rows, frames = [0], []
    columns = []
    for session in sessions:
        ids = [member for s, member in labels if s == session]
        where = {member: i for i, (s, member) in enumerate(labels) if s == session}
        frame = legislators[session].assign(legislator_id=lambda f: f["legislator_id"].astype(str))
        frame = frame.set_index("legislator_id").loc[ids].reset_index()
        columns += [where[member] for member in ids]
        frames.append(frame)
        rows.append(rows[-1] + len(ids))
    return _scale(sessions, draws[:, columns], np.array(rows), frames, json.loads(idata.attrs.get("left_out", "{}")))


def _scale(sessions, xi_draws: np.ndarray, rows: np.ndarray, frames, left_out: dict):
    """CommonScale whose links are identities (a = 0, b = 1): nothing is linked, the
    panel is one posterior. xi_draws: (draws, N) with session t's members at columns
    rows[t]:rows[t + 1], in the order of frames[t]."""
    from irt_pipeline.stats import common_scale as cs

    draws, legislators, links = {}, {}, []
    zeros = np.zeros(len(xi_draws))
    for t, session in enumerate(sessions):
        draws[session] = xi_draws[:, rows[t]: rows[t + 1]]
        legislators[session] = frames[t].reset_index(drop=True)
        links.append(cs.Link(session, sessions[t - 1] if t else None, 0, zeros, zeros + 1.0))
    order = cs.session_order([*sessions, *left_out])
    return cs.CommonScale(order, links, draws, legislators, dict(left_out))


SPEC = ModelSpec(
    name="dynamic_2pl",
    key="dynamic",
    title="the dynamic 2PL model (a chamber's sessions in one posterior)",
    version="2",  # 2: roll calls read each session's standardized positions
    job="dynamic_scale_job",
    prefix="dynamic_",
    priors=PRIORS,
    gated=GATED,
    bind=bind,
    graph=graph,
    logp_grad=logp_grad,
    expand_kernel=expand,
    odd=("xi", "mu_party"),
    scale=SCALE,
    postprocess=postprocess,
    jittered=("a", "beta"),
)
