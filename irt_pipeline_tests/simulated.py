"""Simulated chambers with known ideal points, drawn from each model's own story.

Votes: logit P(Yea) = beta_j xi_i - alpha_j with alpha ~ N(0, 1) (narrower than the
N(0, 5) prior, so few roll calls are near-unanimous) and beta ~ N(0, beta_sd); 5% of
cells missing at random.

- `hierarchical_chamber`: two parties of equal size, xi ~ N(-sep, sd) and N(+sep, sd),
  standardized (the hierarchical model's scale): tight, well separated parties.
- `flat_chamber`: the flat model's story: every position xi ~ N(0, 1), standardized, no
  party structure; party labels follow the positions loosely (label = Republican where
  xi + N(0, 1) noise > 0), so they orient the scale but carry little else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix


def chamber_matrix(
    xi, party, n_roll_calls: int, rng, beta_sd: float = 1.0, missing: float = 0.05, beta_mean: float = 0.0
) -> VoteMatrix:
    n = len(xi)
    alpha = rng.normal(0.0, 1.0, n_roll_calls)
    beta = rng.normal(beta_mean, beta_sd, n_roll_calls)
    p = 1.0 / (1.0 + np.exp(-(np.outer(xi, beta) - alpha)))
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    votes[rng.uniform(size=p.shape) < missing] = np.nan
    legislators = pd.DataFrame(
        {
            "legislator_id": [f"L{i:03d}" for i in range(n)],
            "legislator_name": [f"Member {i:03d}" for i in range(n)],
            "party": np.asarray(party),
        }
    )
    roll_calls = pd.DataFrame({"roll_call_id": [f"R{j:03d}" for j in range(n_roll_calls)]})
    return VoteMatrix(legislators, roll_calls, votes)


def hierarchical_chamber(n: int, m: int, seed: int, sep: float = 1.0, sd: float = 0.15):
    """(matrix, true standardized xi)."""
    rng = np.random.default_rng(seed)
    party = np.array(["Democrat"] * (n // 2) + ["Republican"] * (n - n // 2))
    xi = np.where(party == "Republican", sep, -sep) + rng.normal(0.0, sd, n)
    xi = (xi - xi.mean()) / xi.std()
    return chamber_matrix(xi, party, m, rng), xi


LABEL_NOISE = 1.0


def flat_chamber(n: int, m: int, seed: int):
    """(matrix, true standardized xi), Republicans' mean above Democrats'."""
    rng = np.random.default_rng(seed)
    xi = rng.normal(0.0, 1.0, n)
    xi = (xi - xi.mean()) / xi.std()
    party = np.where(xi + rng.normal(0.0, LABEL_NOISE, n) > 0.0, "Republican", "Democrat")
    return chamber_matrix(xi, party, m, rng), xi


def drifting_careers(
    n_seats: int = 80,
    n_sessions: int = 8,
    turnover: float = 0.15,
    drift_sd: float = 0.08,
    polarization: float = 0.06,
    within_sd: float = 0.4,
    seed: int = 0,
) -> pd.DataFrame:
    """A chamber over `n_sessions` with known positions on one scale: one row per
    legislator per session (session, legislator_id, legislator_name, party, z_true).

    Each seat's member stays with probability 1 - turnover and then moves by
    N(0, drift_sd) (individual moves, mean zero); a new member (the seat's party flips
    with probability 0.2) starts at their party's mean + N(0, within_sd), and the party
    means move apart by `polarization` per session (polarization through replacement).
    Sessions are "s-01", "s-02", ...
    """
    rng = np.random.default_rng(seed)
    party = np.where(np.arange(n_seats) % 2 == 0, "Republican", "Democrat")
    sign = np.where(party == "Republican", 1.0, -1.0)
    z = sign + rng.normal(0.0, within_sd, n_seats)
    ids = np.array([f"M{i:04d}" for i in range(n_seats)])
    next_id = n_seats
    rows = []
    for t in range(n_sessions):
        if t > 0:
            z = z + rng.normal(0.0, drift_sd, n_seats)
            new = rng.uniform(size=n_seats) < turnover
            flip = new & (rng.uniform(size=n_seats) < 0.2)
            party = np.where(flip, np.where(party == "Republican", "Democrat", "Republican"), party)
            sign = np.where(party == "Republican", 1.0, -1.0)
            z = np.where(new, sign * (1.0 + polarization * t) + rng.normal(0.0, within_sd, n_seats), z)
            ids = ids.copy()
            for seat in np.flatnonzero(new):
                ids[seat] = f"M{next_id:04d}"
                next_id += 1
        rows.append(
            pd.DataFrame(
                {
                    "session": f"s-{t + 1:02d}",
                    "legislator_id": ids,
                    "legislator_name": [f"Member {i}" for i in ids],
                    "party": party,
                    "z_true": z,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def standardized(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def simulated_posteriors(truth: pd.DataFrame, draws: int = 800, seed: int = 0, se=(0.08, 0.25)) -> list:
    """Per-session posteriors around `truth` (drifting_careers' rows), as the pipeline
    reports them, calibrated. Per session, with t the standardized truth: each
    legislator is observed as o_i = t_i + N(0, s_i^2), s_i ~ U(se), and their posterior
    is the normal one under their party's N(mean, var) of t as prior (the hierarchical
    model's shrinkage toward the party, which leaves party medians unbiased and a draw's
    spread near 1); every draw is then standardized within the session. Returns
    stats.common_scale.SessionDraws."""
    from irt_pipeline.stats.common_scale import SessionDraws

    rng = np.random.default_rng(seed)
    out = []
    for session, rows in truth.groupby("session", sort=True):
        n = len(rows)
        t = standardized(rows["z_true"].to_numpy())
        party = rows["party"].to_numpy()
        var = rng.uniform(*se, n) ** 2
        observed = t + rng.normal(0.0, np.sqrt(var))
        prior_mean = pd.Series(t).groupby(party).transform("mean").to_numpy()
        prior_var = pd.Series(t).groupby(party).transform("var").to_numpy()
        post_var = 1.0 / (1.0 / prior_var + 1.0 / var)
        post_mean = post_var * (prior_mean / prior_var + observed / var)
        xi = post_mean + rng.normal(0.0, 1.0, (draws, n)) * np.sqrt(post_var)
        xi = (xi - xi.mean(axis=1, keepdims=True)) / xi.std(axis=1, keepdims=True)
        info = rows[["legislator_id", "legislator_name", "party"]].reset_index(drop=True)
        out.append(SessionDraws(str(session), info, xi))
    return out


def truth_on_reference(truth: pd.DataFrame, reference: str) -> pd.Series:
    """z_true in the units of the reference session (its mean 0, sd 1), indexed by
    (session, legislator_id)."""
    ref = truth.loc[truth["session"] == reference, "z_true"]
    scaled = (truth["z_true"] - ref.mean()) / ref.std(ddof=0)
    return pd.Series(scaled.to_numpy(), index=pd.MultiIndex.from_frame(truth[["session", "legislator_id"]]))


def landing_rows(rows: pd.DataFrame, chamber: str, n_roll_calls: int, seed: int) -> pd.DataFrame:
    """Canonical roll-call rows of one session of drifting_careers (its rows `rows`):
    votes from the 2PL model at the standardized true positions, beta ~ N(0, 1.5),
    cutpoints spread like the legislators (alpha = beta * N(0, 1)), everyone present."""
    rng = np.random.default_rng(seed)
    xi = standardized(rows["z_true"].to_numpy())
    beta = rng.normal(0.0, 1.5, n_roll_calls)
    alpha = beta * rng.normal(0.0, 1.0, n_roll_calls)
    yea = rng.uniform(size=(len(xi), n_roll_calls)) < 1.0 / (1.0 + np.exp(-(np.outer(xi, beta) - alpha)))
    member, roll_call = np.indices(yea.shape).reshape(2, -1)
    session = str(rows["session"].iloc[0])
    return pd.DataFrame(
        {
            "session": session,
            "chamber": chamber,
            "roll_call_id": [f"RC{j + 1:04d}" for j in roll_call],
            "legislator_id": rows["legislator_id"].to_numpy()[member],
            "legislator_name": rows["legislator_name"].to_numpy()[member],
            "party": rows["party"].to_numpy()[member],
            "vote": np.where(yea.ravel(), "Yea", "Nay"),
            "roll_call_date": "2021-01-10",
            "roll_call_description": [f"Simulated roll call {j + 1}" for j in roll_call],
        }
    )


def two_dimensional_chamber(n: int, m: int, seed: int, sep: float = 1.0, wing: float = 1.5):
    """A chamber with a real second dimension: (matrix, true positions (n, 2)).

    Two parties of equal size apart on dim 1 (means -+sep, sd 0.4); on dim 2 everyone
    ~ N(0, 0.6); a third of the Democrats (a regional wing, like the Southern Democrats)
    are shifted by +wing on dim 2 and 0.6 sep toward the Republicans on dim 1. Roll calls: logit P(Yea) =
    beta_j . x_i - alpha_j with beta_j ~ N(0, diag(1.5, 1.2)^2), alpha ~ N(0, 1); 5% of
    cells missing. The truth is in the simulation's own frame: compare it to the model
    after `two_dimensional.align`.
    """
    rng = np.random.default_rng(seed)
    party = np.array(["Democrat"] * (n // 2) + ["Republican"] * (n - n // 2))
    dim1 = np.where(party == "Republican", sep, -sep) + rng.normal(0.0, 0.4, n)
    dim2 = rng.normal(0.0, 0.6, n)
    dim1[: n // 6] += 0.6 * sep  # the wing leans toward the other party on dim 1 too
    dim2[: n // 6] += wing
    x = np.column_stack([dim1, dim2])
    alpha = rng.normal(0.0, 1.0, m)
    beta = rng.normal(0.0, 1.0, (m, 2)) * np.array([1.5, 1.2])
    p = 1.0 / (1.0 + np.exp(-(x @ beta.T - alpha)))
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    votes[rng.uniform(size=p.shape) < 0.05] = np.nan
    legislators = pd.DataFrame(
        {"legislator_id": [f"L{i:03d}" for i in range(n)], "legislator_name": [f"Member {i:03d}" for i in range(n)],
         "party": party}
    )
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"R{j:03d}" for j in range(m)]}), votes), x


def kansas_like_chamber(seed: int, n_moderates: int = 12, n_conservatives: int = 18, n_minority: int = 10,
                        m: int = 250, spread: float = 0.35):
    """(matrix, true standardized xi) of a Kansas-like chamber: three quarters one party
    (Republicans: a moderate wing around -0.4 and a conservative wing around +1.0 on the
    unstandardized scale) and a minority (Democrats around -1.6), each member N(wing
    mean, spread); the main division runs inside the majority party."""
    rng = np.random.default_rng(seed)
    wings = [(-0.4, n_moderates, "Republican"), (1.0, n_conservatives, "Republican"), (-1.6, n_minority, "Democrat")]
    xi = np.concatenate([rng.normal(mean, spread, count) for mean, count, _ in wings])
    party = np.concatenate([[label] * count for _, count, label in wings])
    xi = (xi - xi.mean()) / xi.std()
    return chamber_matrix(xi, party, m, rng, beta_sd=1.5), xi


def two_block_chamber(seed: int, n_a: int = 30, m_a: int = 80, n_b: int = 6, m_b: int = 40):
    """A matrix whose posterior has two modes: two blocks of members (each half Democrats,
    half Republicans, a party N(+-1, 0.4)) voting on roll calls of their own only, so the
    votes leave block B's placement against block A open: B as simulated, or B's mirror
    image (its Democrats on the right), fit the votes equally. Returns the matrix; block
    B's members are its last n_b rows ("B0" ...)."""
    rng = np.random.default_rng(seed)
    blocks = []
    for tag, n, m in (("A", n_a, m_a), ("B", n_b, m_b)):
        party = np.array(["Democrat", "Republican"] * (n // 2))
        xi = np.where(party == "Republican", 1.0, -1.0) + rng.normal(0.0, 0.4, n)
        matrix = chamber_matrix(xi, party, m, rng, beta_sd=2.0)
        blocks.append((
            matrix.legislators.assign(legislator_id=[f"{tag}{i}" for i in range(n)]),
            matrix.roll_calls.assign(roll_call_id=[f"{tag}R{j}" for j in range(m)]),
            matrix.votes,
        ))
    votes = np.full((n_a + n_b, m_a + m_b), np.nan)
    votes[:n_a, :m_a] = blocks[0][2]
    votes[n_a:, m_a:] = blocks[1][2]
    return VoteMatrix(
        pd.concat([blocks[0][0], blocks[1][0]], ignore_index=True),
        pd.concat([blocks[0][1], blocks[1][1]], ignore_index=True),
        votes,
    )
