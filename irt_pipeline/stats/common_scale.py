"""One scale across the sessions of a chamber: per-session ideal points linked through
the legislators who serve in adjacent sessions.

Each session's posterior reports xi standardized within the session (per draw: mean
0, sd 1 over its legislators), so the same number means different positions in
different sessions. If a legislator's position does not change from one session to
the next, the two scales are related by an affine map, common = a_s + b_s * xi_s, and
the legislators who serve in both sessions (the bridges) determine it.

Method (mean-sigma linking, chained, per posterior draw, bootstrapped over bridges):
- Sessions are ordered by their keys, numbers compared as numbers ("99" < "117",
  "2023-2024" < "2025-2026"; `session_order`).
- The first session of the linked run is the reference: the common scale is in its
  units (mean 0, sd 1 over its legislators; + conservative). Each later session is
  mapped onto the scale of the session before it: for a draw d, with x its bridges'
  xi in draw d and y the same legislators' common-scale positions in draw d of the
  previous session, b = sd_w(y) / sd_w(x) and a = mean_w(y) - b mean_w(x), where w are
  Bayesian-bootstrap weights over the bridges (Dirichlet(1, ..., 1), fresh per draw).
  The previous session's draws already carry its own link's uncertainty, so link
  uncertainty accumulates along the chain and reaches every result; the bootstrap adds
  the uncertainty of which legislators happen to bridge and how much each of them
  moved, which the posterior draws alone do not know about (without it the party
  gap's 94% intervals covered 0.65 of simulated truths with members moving as real
  Senators do; with it 0.975, and more than nominal where nobody moves: it also
  counts the bridges' posterior noise a second time. docs/common_scale.md).
- Sessions are posteriors of separate fits, hence independent: draw d of one session
  is paired with draw d of another after a seeded permutation of each (seeded by the
  session key, so a session's draws never depend on which other sessions exist; two
  fits started from the same seed must not share random numbers). Each session
  contributes LINK_DRAWS draws (resampled with replacement if it has fewer).
- A legislator whose party label differs between the two sessions is no bridge (a
  party switch is a move). Adjacent sessions with fewer than MIN_BRIDGES bridges are
  not linked: the sessions on either side form separate runs, the longest run (the
  latest on a tie) becomes the common scale and every session outside it is named
  with the reason, never guessed.

What it assumes: bridges do not move on average between adjacent sessions (individual
moves average out). It cannot tell all legislators moving together from the agenda
moving: a shift or stretch shared by every bridge is absorbed into the map, so the
scale sees polarization through replacement (and through members moving unevenly),
not a chamber drifting as one. Chaining forward from the first session keeps earlier
sessions' results unchanged when a later session arrives.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LINK_DRAWS = 1000
MIN_BRIDGES = 10
HDI_PROB = 0.94
SEED = 20240117
METHODS = ("mean_sigma", "regression")


@dataclass(frozen=True)
class SessionDraws:
    """One session's ideal points on its own scale.

    legislators: legislator_id, legislator_name, party, one row per column of `xi`.
    xi: (draws, legislators), standardized within the session per draw.
    """

    session: str
    legislators: pd.DataFrame
    xi: np.ndarray


@dataclass(frozen=True)
class Link:
    """The map of `session` onto the common scale, through `linked_to` (None for the
    reference). a, b: (LINK_DRAWS,) per draw; bridges: how many legislators linked it."""

    session: str
    linked_to: str | None
    bridges: int
    a: np.ndarray
    b: np.ndarray


@dataclass
class CommonScale:
    """Every linked session's draws on the common scale.

    order: every session given, in session order (session_index = position in it).
    draws: session -> (LINK_DRAWS, legislators) common-scale positions, columns in the
    order of `legislators[session]`. left_out: session -> why it is not on the scale.
    """

    order: list[str]
    links: list[Link]
    draws: dict[str, np.ndarray]
    legislators: dict[str, pd.DataFrame]
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def linked(self) -> list[str]:
        return [link.session for link in self.links]

    @property
    def reference(self) -> str | None:
        return self.links[0].session if self.links else None

    def session_index(self, session: str) -> int:
        return self.order.index(session)


def session_order(sessions) -> list[str]:
    """Sessions sorted by their keys with digit runs compared as numbers."""

    def natural(key: str):
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key) if part]

    return sorted(dict.fromkeys(sessions), key=lambda s: (natural(s), s))


def _rng(seed: int, session: str, purpose: str) -> np.random.Generator:
    words = np.frombuffer(hashlib.sha256(f"{purpose}:{session}".encode()).digest()[:16], dtype=np.uint32)
    return np.random.default_rng(np.random.SeedSequence([seed, *words.tolist()]))


def _aligned(draws: SessionDraws, n_draws: int, seed: int) -> np.ndarray:
    """(n_draws, legislators): a seeded permutation of the session's draws, resampled
    with replacement when it has fewer than n_draws."""
    xi = np.asarray(draws.xi, dtype=float)
    rng = _rng(seed, draws.session, "draws")
    index = rng.choice(len(xi), n_draws, replace=len(xi) < n_draws)
    return xi[index]


def bridges(earlier: pd.DataFrame, later: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Column positions (in `earlier`, in `later`) of the legislators in both frames
    with the same party label in both."""
    left = earlier.reset_index(drop=True).assign(_pos=lambda f: np.arange(len(f)))
    right = later.reset_index(drop=True).assign(_pos=lambda f: np.arange(len(f)))
    both = left.merge(right, on="legislator_id", suffixes=("_e", "_l"))
    both = both[both["party_e"].astype(str) == both["party_l"].astype(str)]
    return both["_pos_e"].to_numpy(), both["_pos_l"].to_numpy()


def link_map(x: np.ndarray, y: np.ndarray, weights: np.ndarray, method: str = "mean_sigma"):
    """Per draw, the affine map taking x onto y: (a, b), each (draws,).

    x, y: (draws, bridges) positions of the same legislators on the session's own scale
    and on the common scale; weights: (draws, bridges), rows summing to 1. mean_sigma:
    b = sd_w(y) / sd_w(x) (symmetric, not attenuated by noise in x); regression: b =
    cov_w(x, y) / var_w(x) (least squares of y on x, attenuated by noise in x).
    """
    mx = (weights * x).sum(axis=1)
    my = (weights * y).sum(axis=1)
    dx, dy = x - mx[:, None], y - my[:, None]
    var_x = (weights * dx * dx).sum(axis=1)
    if method == "mean_sigma":
        b = np.sqrt((weights * dy * dy).sum(axis=1) / var_x)
    elif method == "regression":
        b = (weights * dx * dy).sum(axis=1) / var_x
    else:
        raise ValueError(f"unknown linking method {method!r}; expected one of {METHODS}")
    return my - b * mx, b


def _runs(legislators: list[pd.DataFrame], min_bridges: int):
    """Split the ordered sessions (their legislators frames) where adjacent ones share
    fewer than min_bridges bridges: (runs as lists of positions, {position after a
    break: bridge count})."""
    runs, breaks = [[0]], {}
    for i in range(1, len(legislators)):
        count = len(bridges(legislators[i - 1], legislators[i])[0])
        if count < min_bridges:
            runs.append([i])
            breaks[i] = count
        else:
            runs[-1].append(i)
    return runs, breaks


def connected_run(legislators: dict[str, pd.DataFrame], min_bridges: int = MIN_BRIDGES):
    """The sessions a common scale can hold: (the longest run of consecutive sessions, in
    session order, each sharing at least `min_bridges` bridges with the one before (the
    latest such run on a tie), {every other session: why it is left out}).
    legislators: session -> its legislators (legislator_id, party)."""
    order = session_order(legislators)
    runs, breaks = _runs([legislators[s] for s in order], min_bridges)
    chosen = max(runs, key=lambda run: (len(run), run[-1]))
    left_out = {}
    for run in runs:
        if run is chosen:
            continue
        # the break between this run and the chosen one that lies next to this run
        at = run[-1] + 1 if run[-1] < chosen[0] else run[0]
        for i in run:
            left_out[order[i]] = (
                f"not linked: only {breaks[at]} legislator(s) served in both {order[at - 1]} and {order[at]} "
                f"(at least {min_bridges} needed); the common scale runs {order[chosen[0]]}-{order[chosen[-1]]}"
            )
    return [order[i] for i in chosen], left_out


def link_sessions(
    sessions: list[SessionDraws],
    left_out: dict[str, str] | None = None,
    *,
    min_bridges: int = MIN_BRIDGES,
    n_draws: int = LINK_DRAWS,
    method: str = "mean_sigma",
    bootstrap: bool = True,
    seed: int = SEED,
) -> CommonScale:
    """Put `sessions` (any order) on one scale; see the module docstring.

    left_out: sessions already excluded (e.g. failed gates), session -> reason; they
    keep their place in the session order and are reported with the others.
    method: "mean_sigma" or "regression" (see `link_map`); bootstrap: Bayesian
    bootstrap weights over the bridges, fresh per draw (else equal weights).
    """
    if method not in METHODS:
        raise ValueError(f"unknown linking method {method!r}; expected one of {METHODS}")
    left_out = dict(left_out or {})
    by_key = {s.session: s for s in sessions}
    order = session_order([*by_key, *left_out])
    ordered = [by_key[s] for s in order if s in by_key]
    if not ordered:
        return CommonScale(order, [], {}, {}, left_out)

    linked, unlinked = connected_run({s.session: s.legislators for s in ordered}, min_bridges)
    left_out.update(unlinked)
    position = {s.session: i for i, s in enumerate(ordered)}
    chosen = [position[s] for s in linked]

    reference = ordered[chosen[0]]
    draws = {reference.session: _aligned(reference, n_draws, seed)}
    links = {reference.session: Link(reference.session, None, 0, np.zeros(n_draws), np.ones(n_draws))}
    for prev_pos, pos in zip(chosen[:-1], chosen[1:]):
        prev, cur = ordered[prev_pos].session, ordered[pos].session
        in_prev, in_cur = bridges(by_key[prev].legislators, by_key[cur].legislators)
        xi = _aligned(by_key[cur], n_draws, seed)
        x, y = xi[:, in_cur], draws[prev][:, in_prev]
        shape = (n_draws, len(in_cur))
        weights = _rng(seed, cur, "bridges").exponential(size=shape) if bootstrap else np.ones(shape)
        a, b = link_map(x, y, weights / weights.sum(axis=1, keepdims=True), method)
        draws[cur] = a[:, None] + b[:, None] * xi
        links[cur] = Link(cur, prev, len(in_cur), a, b)
    links = list(links.values())
    legislators = {s: by_key[s].legislators.reset_index(drop=True) for s in draws}
    return CommonScale(order, links, draws, legislators, {s: left_out[s] for s in order if s in left_out})


def _hdi(draws: np.ndarray) -> np.ndarray:
    """(columns, 2): the 94% HDI of each column of (draws, columns)."""
    import arviz as az

    return np.atleast_2d(az.hdi(np.asarray(draws, float)[None], hdi_prob=HDI_PROB))


def legislator_sessions(scale: CommonScale) -> pd.DataFrame:
    """One row per legislator per linked session: position on the common scale (mean,
    sd, 94% HDI; reference-session sd units, + conservative) and the unlinked
    per-session posterior mean (session_xi_mean: its own session's sd units)."""
    frames = []
    for link in scale.links:
        session = link.session
        z = scale.draws[session]
        info = scale.legislators[session]
        hdi = _hdi(z)
        frames.append(
            pd.DataFrame(
                {
                    "session": session,
                    "session_index": scale.session_index(session),
                    "legislator_id": info["legislator_id"].astype(str).to_numpy(),
                    "name": info["legislator_name"].astype(str).to_numpy(),
                    "party": info["party"].astype(str).to_numpy(),
                    "position_mean": z.mean(axis=0),
                    "position_sd": z.std(axis=0),
                    "position_hdi_low": hdi[:, 0],
                    "position_hdi_high": hdi[:, 1],
                    "session_xi_mean": ((z - link.a[:, None]) / link.b[:, None]).mean(axis=0),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=LEGISLATOR_SESSION_COLUMNS)
    return pd.concat(frames, ignore_index=True)[LEGISLATOR_SESSION_COLUMNS]


LEGISLATOR_SESSION_COLUMNS = [
    "session", "session_index", "legislator_id", "name", "party",
    "position_mean", "position_sd", "position_hdi_low", "position_hdi_high", "session_xi_mean",
]
CAREER_COLUMNS = [
    "legislator_id", "name", "party", "first_session", "last_session", "sessions",
    "position_mean", "position_sd", "position_hdi_low", "position_hdi_high",
    "trend_mean", "trend_hdi_low", "trend_hdi_high",
]


def careers(scale: CommonScale) -> pd.DataFrame:
    """One row per legislator over the linked sessions: first and last session, how
    many, mean position (per draw the average over their sessions: mean, sd, 94% HDI)
    and trend (per draw the least-squares slope of position on session_index: common-
    scale units per session, mean and 94% HDI; empty for a single session). name and
    party are those of the last session."""
    columns: dict[str, list] = {}
    for session in scale.linked:
        info = scale.legislators[session]
        for j, legislator in enumerate(info["legislator_id"].astype(str)):
            columns.setdefault(legislator, []).append((session, j))
    rows = []
    for legislator, served in columns.items():
        z = np.column_stack([scale.draws[s][:, j] for s, j in served])
        t = np.array([scale.session_index(s) for s, _ in served], dtype=float)
        position = z.mean(axis=1)
        low, high = _hdi(position[:, None])[0]
        trend_mean = trend_low = trend_high = np.nan
        if len(t) > 1:
            centred = t - t.mean()
            trend = (z - z.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
            trend_mean = trend.mean()
            trend_low, trend_high = _hdi(trend[:, None])[0]
        last_session, last_j = served[-1]
        last = scale.legislators[last_session].iloc[last_j]
        rows.append(
            {
                "legislator_id": legislator,
                "name": str(last["legislator_name"]),
                "party": str(last["party"]),
                "first_session": served[0][0],
                "last_session": last_session,
                "sessions": len(served),
                "position_mean": position.mean(),
                "position_sd": position.std(),
                "position_hdi_low": low,
                "position_hdi_high": high,
                "trend_mean": trend_mean,
                "trend_hdi_low": trend_low,
                "trend_hdi_high": trend_high,
            }
        )
    table = pd.DataFrame(rows, columns=CAREER_COLUMNS)
    return table.sort_values(["sessions", "legislator_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def long_serving(careers_table: pd.DataFrame, parties, per_party: int = 3) -> list[str]:
    """legislator_ids of the `per_party` longest-serving members of each of `parties`
    (most linked sessions, then the lowest id), for the trajectories picture; without
    parties, the 2 x per_party longest-serving members."""
    if not parties:
        rows = careers_table[careers_table["sessions"] > 1]
        return rows.sort_values(["sessions", "legislator_id"], ascending=[False, True], kind="stable")[
            "legislator_id"
        ].head(2 * per_party).tolist()
    chosen = []
    for party in parties:
        rows = careers_table[(careers_table["party"] == party) & (careers_table["sessions"] > 1)]
        chosen += rows.sort_values(["sessions", "legislator_id"], ascending=[False, True], kind="stable")[
            "legislator_id"
        ].head(per_party).tolist()
    return chosen


def party_medians(scale: CommonScale, parties) -> pd.DataFrame:
    """Per linked session and party of `parties` (the partitions' poles: labels as the
    source writes them): members, the median and quartiles of the members' posterior
    mean positions, and the 94% HDI of the party median (per draw: median over the
    members)."""
    rows = []
    for session in scale.linked:
        z = scale.draws[session]
        party = scale.legislators[session]["party"].astype(str).to_numpy()
        means = z.mean(axis=0)
        for name in parties:
            members = party == name
            if not members.any():
                continue
            medians = np.median(z[:, members], axis=1)
            low, high = _hdi(medians[:, None])[0]
            rows.append(
                {
                    "session": session,
                    "session_index": scale.session_index(session),
                    "party": name,
                    "members": int(members.sum()),
                    "median": float(np.median(means[members])),
                    "q25": float(np.quantile(means[members], 0.25)),
                    "q75": float(np.quantile(means[members], 0.75)),
                    "median_hdi_low": low,
                    "median_hdi_high": high,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["session", "session_index", "party", "members", "median", "q25", "q75", "median_hdi_low", "median_hdi_high"],
    )


def party_gap(scale: CommonScale, high: str, low: str) -> pd.DataFrame:
    """Per linked session with both parties: median(high) - median(low) on the common
    scale, per draw (mean and 94% HDI); high, low: the conservative and the liberal pole."""
    rows = []
    for session in scale.linked:
        z = scale.draws[session]
        party = scale.legislators[session]["party"].astype(str).to_numpy()
        if not ((party == high).any() and (party == low).any()):
            continue
        gap = np.median(z[:, party == high], axis=1) - np.median(z[:, party == low], axis=1)
        lo, hi = _hdi(gap[:, None])[0]
        rows.append({"session": session, "session_index": scale.session_index(session), "gap_mean": gap.mean(), "gap_hdi_low": lo, "gap_hdi_high": hi})
    return pd.DataFrame(rows, columns=["session", "session_index", "gap_mean", "gap_hdi_low", "gap_hdi_high"])


def links_table(scale: CommonScale) -> pd.DataFrame:
    """Per linked session: what it was linked to, through how many bridges, and the
    map's a and b (mean and sd over draws)."""
    return pd.DataFrame(
        [
            {
                "session": link.session,
                "linked_to": link.linked_to or "(reference)",
                "bridges": link.bridges,
                "a_mean": float(link.a.mean()),
                "a_sd": float(link.a.std()),
                "b_mean": float(link.b.mean()),
                "b_sd": float(link.b.std()),
            }
            for link in scale.links
        ],
        columns=["session", "linked_to", "bridges", "a_mean", "a_sd", "b_mean", "b_sd"],
    )


def table_gap(table: pd.DataFrame, high: str, low: str, column: str = "position_mean", how: str = "median") -> pd.Series:
    """Per session (in `session_order`): the `how` of `column` over the `high` party's
    rows minus over the `low` party's, of a table with session and party columns (a
    `legislator_sessions` table); NaN where either party is absent."""
    values = table.groupby(["session", "party"])[column].agg(how).unstack()
    gap = values.get(high, np.nan) - values.get(low, np.nan)
    return pd.Series(gap, index=values.index, dtype=float).reindex(session_order(values.index))


def agreement(scale: pd.DataFrame, other: pd.DataFrame, poles) -> tuple[pd.DataFrame, dict]:
    """How two scales of one chamber agree (two `legislator_sessions` tables, each in
    its own units; point estimates: position_mean), over the legislator-sessions both
    hold. Per session: legislators in both, r of their positions within the session,
    and each scale's party gap (poles: (conservative, liberal), or None) relative to
    its mean over the sessions (unit-free, so the two series can be read side by side:
    where they part, the scales place that session differently). Summary: the pooled r,
    the r of the two relative gap series, each one's change first -> last session, and
    the session where the relative gaps differ most (None without poles or with fewer
    than two sessions). Raises ValueError when the tables share no legislator-session."""
    keys = ["session", "legislator_id"]
    both = scale[keys + ["party", "position_mean"]].merge(
        other[keys + ["position_mean"]], on=keys, suffixes=("", "_other")
    )
    if both.empty:
        raise ValueError("the two scales share no legislator-session")
    order = session_order(both["session"].unique())
    rows = []
    for session in order:
        these = both[both["session"] == session]
        r = np.corrcoef(these["position_mean"], these["position_mean_other"])[0, 1] if len(these) > 2 else np.nan
        rows.append({"session": session, "legislators": len(these), "r": float(r)})
    table = pd.DataFrame(rows)
    summary = {
        "sessions": len(order),
        "legislator_sessions": len(both),
        "pooled_r": float(np.corrcoef(both["position_mean"], both["position_mean_other"])[0, 1]),
        "min_session_r": float(table["r"].min()),
        "gap_r": None, "gap_change": None, "gap_change_other": None, "most_different_session": None,
    }
    if poles:
        for name, column in (("gap", "position_mean"), ("gap_other", "position_mean_other")):
            gap = table_gap(both, *poles, column).reindex(order)
            table[name] = (gap / gap.mean()).to_numpy()
        usable = table.dropna(subset=["gap", "gap_other"])
        if len(usable) >= 2:
            first, last = usable.iloc[0], usable.iloc[-1]
            summary.update(
                gap_r=float(np.corrcoef(usable["gap"], usable["gap_other"])[0, 1]) if len(usable) > 2 else None,
                gap_change=float(last["gap"] - first["gap"]),
                gap_change_other=float(last["gap_other"] - first["gap_other"]),
                most_different_session=str(usable.loc[(usable["gap"] - usable["gap_other"]).abs().idxmax(), "session"]),
            )
    return table, summary
