"""A simulated chamber over many sessions, with known positions on one scale: the test
bed of the dynamic model (`stats/models/dynamic.py`) and of today's linking
(`stats/common_scale.py`) on the same votes.

Story (`panel`): `n_seats` seats, half of each party. Each member walks: per session
their position moves by N(0, s_i^2), where s_i is drawn per member: most members
nearly stay put (s_i = `still_sd`), a share `mover_share` moves more (s_i =
`moving_sd`); one member (the first Republican seat) serves every session and moves
steadily by `long_move` in total (a trend, toward and past the centre). A seat changes
hands with probability `turnover` per session; the newcomer (same party, or the other
with probability `flip`) starts at their party's current mean +-(1 + polarization * t)
plus N(0, within_sd^2): the party gap grows through replacement. `party_drift`
(party, per-session shift) moves every continuing member of that party together (and
that party's newcomers enter at the drifted mean): the case the model cannot tell from
the agenda moving.

Votes: per session its own roll calls, logit P(Yea) = beta_j z_i - alpha_j on the
simulation's one scale z, beta_j ~ N(0, beta_sd^2), cutpoints alpha_j / beta_j ~
N(0, 1) (the agenda is the same in every session), `missing` of the cells missing at
random. A member with fewer than 20 Yea/Nay votes would be dropped by the pipeline's
filter; every member here votes on nearly every roll call.

Returns the per-session `VoteMatrix` objects (legislator_id the member's id across
sessions) and the truth: one row per legislator-session (session, session_index,
legislator_id, party, z_true, step_sd).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix

PARTIES = ("Democrat", "Republican")


def panel(
    n_sessions: int = 20,
    n_seats: int = 100,
    n_roll_calls: int = 600,
    *,
    turnover: float = 0.1,
    flip: float = 0.1,
    still_sd: float = 0.02,
    moving_sd: float = 0.15,
    mover_share: float = 0.2,
    long_move: float = -2.0,
    polarization: float = 0.03,
    within_sd: float = 0.4,
    party_drift: tuple[str, float] | None = None,
    beta_sd: float = 1.5,
    missing: float = 0.05,
    seed: int = 0,
) -> tuple[list[VoteMatrix], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    party = np.where(np.arange(n_seats) % 2 == 0, "Republican", "Democrat")
    sign = np.where(party == "Republican", 1.0, -1.0)
    z = sign + rng.normal(0.0, within_sd, n_seats)
    step = np.where(rng.uniform(size=n_seats) < mover_share, moving_sd, still_sd)
    ids = np.array([f"M{i:04d}" for i in range(n_seats)])
    next_id = n_seats
    long_mover = 0  # seat 0: a Republican who serves every session and trends
    z[long_mover], step[long_mover] = 1.0, 0.0
    drift_party, drift = party_drift if party_drift else (None, 0.0)
    matrices, rows = [], []
    for t in range(n_sessions):
        if t > 0:
            z = z + rng.normal(0.0, 1.0, n_seats) * step
            z[long_mover] += long_move / (n_sessions - 1)
            if drift_party is not None:
                z = np.where(party == drift_party, z + drift, z)
            new = rng.uniform(size=n_seats) < turnover
            new[long_mover] = False
            switched = new & (rng.uniform(size=n_seats) < flip)
            party = np.where(switched, np.where(party == "Republican", "Democrat", "Republican"), party)
            sign = np.where(party == "Republican", 1.0, -1.0)
            shift = np.where(party == drift_party, drift * t, 0.0) if drift_party is not None else 0.0
            entry = sign * (1.0 + polarization * t) + shift + rng.normal(0.0, within_sd, n_seats)
            z = np.where(new, entry, z)
            step = np.where(new, np.where(rng.uniform(size=n_seats) < mover_share, moving_sd, still_sd), step)
            ids = ids.copy()
            for seat in np.flatnonzero(new):
                ids[seat] = f"M{next_id:04d}"
                next_id += 1
        session = f"s-{t + 1:02d}"
        matrices.append(_votes(session, ids, party, z, n_roll_calls, beta_sd, missing, rng))
        rows.append(pd.DataFrame({
            "session": session, "session_index": t, "legislator_id": ids, "party": party,
            "z_true": z.copy(), "step_sd": np.where(np.arange(n_seats) == long_mover, np.nan, step),
        }))
    return matrices, pd.concat(rows, ignore_index=True)


def _votes(session, ids, party, z, m, beta_sd, missing, rng) -> VoteMatrix:
    beta = rng.normal(0.0, beta_sd, m)
    alpha = beta * rng.normal(0.0, 1.0, m)
    p = 1.0 / (1.0 + np.exp(-(np.outer(z, beta) - alpha)))
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    votes[rng.uniform(size=p.shape) < missing] = np.nan
    legislators = pd.DataFrame({"legislator_id": ids, "legislator_name": [f"Member {i}" for i in ids], "party": party})
    roll_calls = pd.DataFrame({"roll_call_id": [f"{session}-R{j:04d}" for j in range(m)]})
    return VoteMatrix(legislators, roll_calls, votes)


def on_panel_scale(truth: pd.DataFrame) -> np.ndarray:
    """z_true standardized over every legislator-session (population sd): the dynamic
    model's units."""
    z = truth["z_true"].to_numpy()
    return (z - z.mean()) / z.std()


def in_units(truth: pd.DataFrame, reference: str | None = None) -> pd.Series:
    """z_true standardized the way a method reports: over the `reference` session's
    members (the linking) or over every legislator-session (the dynamic model); indexed
    by (session, legislator_id)."""
    base = truth if reference is None else truth[truth["session"] == reference]
    z = (truth["z_true"] - base["z_true"].mean()) / base["z_true"].std(ddof=0)
    return pd.Series(z.to_numpy(), index=pd.MultiIndex.from_frame(truth[["session", "legislator_id"]]))


def scorecard(scale, truth: pd.DataFrame, reference: str | None = None, mover: str = "M0000") -> dict:
    """How a common scale (stats.common_scale.CommonScale) recovers the simulated truth,
    in its own units (`in_units`): r and 94% HDI coverage of the positions, the median
    posterior sd in the first and the last session, the party gap's path (r, coverage of
    its 94% HDIs, change first -> last against the truth's), the long mover's total move,
    and the mean move of each party's members who serve the whole panel."""
    from irt_pipeline.stats import common_scale as cs

    table = cs.legislator_sessions(scale)
    target = in_units(truth, reference)
    table["z"] = target.loc[list(zip(table["session"], table["legislator_id"]))].to_numpy()
    covered = (table["position_hdi_low"] <= table["z"]) & (table["z"] <= table["position_hdi_high"])
    sessions = list(dict.fromkeys(table["session"]))
    sd = table.groupby("session")["position_sd"].median()
    true_gap = cs.table_gap(table, "Republican", "Democrat", "z").reindex(sessions)
    gap = cs.party_gap(scale, "Republican", "Democrat").set_index("session").reindex(sessions)
    gap_covered = (gap["gap_hdi_low"] <= true_gap) & (true_gap <= gap["gap_hdi_high"])
    first, last = sessions[0], sessions[-1]
    rows = table.set_index(["session", "legislator_id"])
    stayers = set(table.loc[table["session"] == first, "legislator_id"]) & set(table.loc[table["session"] == last, "legislator_id"])
    moves = {}
    for party in ("Democrat", "Republican"):
        ids = [i for i in stayers if i != mover and rows.loc[(last, i), "party"] == party]
        if ids:
            estimate = np.mean([rows.loc[(last, i), "position_mean"] - rows.loc[(first, i), "position_mean"] for i in ids])
            true = np.mean([rows.loc[(last, i), "z"] - rows.loc[(first, i), "z"] for i in ids])
            moves[party] = {"members": len(ids), "estimated": float(estimate), "true": float(true)}
    out = {
        "legislator_sessions": len(table),
        "r": float(np.corrcoef(table["position_mean"], table["z"])[0, 1]),
        "coverage": float(covered.mean()),
        "sd_first": float(sd[first]),
        "sd_last": float(sd[last]),
        "gap_r": float(np.corrcoef(gap["gap_mean"], true_gap)[0, 1]),
        "gap_coverage": float(gap_covered.mean()),
        "gap_change": float(gap["gap_mean"].iloc[-1] - gap["gap_mean"].iloc[0]),
        "true_gap_change": float(true_gap.iloc[-1] - true_gap.iloc[0]),
        "whole_panel_members_move": moves,
    }
    if (first, mover) in rows.index and (last, mover) in rows.index:
        out["mover_estimated"] = float(rows.loc[(last, mover), "position_mean"] - rows.loc[(first, mover), "position_mean"])
        out["mover_true"] = float(rows.loc[(last, mover), "z"] - rows.loc[(first, mover), "z"])
    return out
