"""From canonical roll-call rows to the filtered legislator x roll-call vote matrix.

Yea = 1, Nay = 0; every other vote category is missing (left out of the likelihood,
not imputed). Lopsided roll calls (minority side under `min_minority_share` of votes
cast, the Voteview standard of 2.5%) are dropped first, then legislators with fewer
than `min_votes` Yea/Nay votes on what remains (and roll calls those legislators alone
had voted on).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from irt_pipeline.errors import BadInput

@dataclass(frozen=True)
class VoteMatrix:
    """Filtered votes of one chamber in one session.

    legislators: one row per matrix row: legislator_id, legislator_name, party.
    roll_calls: one row per matrix column: roll_call_id.
    votes: (n_legislators, n_roll_calls) float64, 1.0 Yea, 0.0 Nay, NaN missing.
    """

    legislators: pd.DataFrame
    roll_calls: pd.DataFrame
    votes: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.votes.shape

    @property
    def n_observed(self) -> int:
        return len(self.observed[0])

    @cached_property
    def observed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, y) of the observed cells in row-major order: the long form every
        per-vote computation (LOO, the stored frame) walks; y is 1.0 Yea, 0.0 Nay."""
        rows, cols = np.nonzero(np.isfinite(self.votes))
        return rows, cols, self.votes[rows, cols]

    def digest(self) -> str:
        """sha256 (hex) of the matrix's content: its legislators (id, name, party) and
        roll calls in order, and the votes (missing cells included)."""
        digest = hashlib.sha256()
        for column in ("legislator_id", "legislator_name", "party"):
            digest.update("\x1f".join(self.legislators[column].astype(str)).encode() + b"\x1e")
        digest.update("\x1f".join(self.roll_calls["roll_call_id"].astype(str)).encode() + b"\x1e")
        digest.update(np.ascontiguousarray(self.votes, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def signed_votes(self) -> np.ndarray:
        """(n, m) float32 in C order: +1 Yea, -1 Nay, 0 missing: the kernels' input
        (`kernel.twopl_loglik` reads it row by row)."""
        return np.ascontiguousarray(np.nan_to_num(2.0 * self.votes - 1.0, nan=0.0), dtype=np.float32)

    def to_frame(self) -> pd.DataFrame:
        """Long form, observed cells only, in row-major matrix order (for parquet)."""
        rows, cols, y = self.observed
        frame = self.legislators.iloc[rows].reset_index(drop=True)
        frame["roll_call_id"] = self.roll_calls["roll_call_id"].to_numpy()[cols]
        frame["vote"] = y.astype("int8")
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> VoteMatrix:
        """Inverse of `to_frame`, up to column order.

        Rows and columns are in order of first appearance. For a frame from `to_frame`
        the rows come back in matrix order; the columns may come back permuted (the long
        form only holds observed cells), always with the same roll_call_id labels.
        """
        legislators = (
            frame[["legislator_id", "legislator_name", "party"]]
            .drop_duplicates("legislator_id")
            .reset_index(drop=True)
        )
        roll_call_ids = pd.unique(frame["roll_call_id"])
        rows = pd.Index(legislators["legislator_id"]).get_indexer(frame["legislator_id"])
        cols = pd.Index(roll_call_ids).get_indexer(frame["roll_call_id"])
        votes = np.full((len(legislators), len(roll_call_ids)), np.nan)
        votes[rows, cols] = frame["vote"].to_numpy(dtype=float)
        return cls(legislators, pd.DataFrame({"roll_call_id": roll_call_ids}), votes)


def build_vote_matrix(
    roll_calls: pd.DataFrame,
    *,
    min_minority_share: float = 0.025,
    min_votes: int = 20,
    where: str = "roll calls",
) -> tuple[VoteMatrix, dict]:
    """Pivot canonical rows of one chamber and session, then filter.

    Returns the matrix and a filtering manifest (counts before and after each filter).
    Raises BadInput, naming `where`, when nothing is left. (Which parties sit there is
    not its concern: any parties, one or none, are scored once the scale's orientation
    rule is known, `stats/orientation.py`.)
    """
    legislators = (
        roll_calls[["legislator_id", "legislator_name", "party"]]
        .drop_duplicates("legislator_id")
        .sort_values("legislator_id", kind="stable")
        .reset_index(drop=True)
    )
    roll_call_ids = pd.unique(roll_calls["roll_call_id"])
    rows = pd.Index(legislators["legislator_id"]).get_indexer(roll_calls["legislator_id"])
    cols = pd.Index(roll_call_ids).get_indexer(roll_calls["roll_call_id"])
    coded = roll_calls["vote"].map({"Yea": 1.0, "Nay": 0.0}).to_numpy(dtype=float)
    votes = np.full((len(legislators), len(roll_call_ids)), np.nan)
    votes[rows, cols] = coded

    manifest = {
        "legislators_before": int(votes.shape[0]),
        "roll_calls_before": int(votes.shape[1]),
        "yea_nay_votes_before": int(np.isfinite(votes).sum()),
        "min_minority_share": float(min_minority_share),
        "min_votes": int(min_votes),
    }

    yeas = np.nansum(votes, axis=0)
    cast = np.isfinite(votes).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        minority = np.minimum(yeas, cast - yeas) / cast
    keep_cols = cast > 0
    keep_cols &= np.nan_to_num(minority, nan=0.0) >= min_minority_share
    votes = votes[:, keep_cols]
    roll_call_ids = roll_call_ids[keep_cols]
    manifest["roll_calls_dropped_lopsided"] = int((~keep_cols).sum())

    per_legislator = np.isfinite(votes).sum(axis=1)
    # A legislator without a single Yea/Nay (possible with min_votes=0) has no place in
    # the likelihood and would vanish from the long form that is stored.
    keep_rows = per_legislator >= max(min_votes, 1)
    dropped = legislators.loc[~keep_rows, "legislator_id"].tolist()
    votes = votes[keep_rows]
    legislators = legislators.loc[keep_rows].reset_index(drop=True)
    manifest["legislators_dropped_few_votes"] = len(dropped)
    manifest["dropped_legislator_ids"] = [str(x) for x in dropped]
    # Roll calls whose only voters were just dropped are left without any vote.
    voted = np.isfinite(votes).any(axis=0)
    votes = votes[:, voted]
    roll_call_ids = roll_call_ids[voted]
    manifest["roll_calls_dropped_no_votes_left"] = int((~voted).sum())
    manifest["legislators_after"] = int(votes.shape[0])
    manifest["roll_calls_after"] = int(votes.shape[1])
    manifest["yea_nay_votes_after"] = int(np.isfinite(votes).sum())

    if votes.shape[0] == 0 or votes.shape[1] == 0:
        raise BadInput(
            where,
            f"nothing left after filtering ({manifest['legislators_after']} legislators, "
            f"{manifest['roll_calls_after']} roll calls remain of "
            f"{manifest['legislators_before']} and {manifest['roll_calls_before']}; "
            f"min_minority_share={min_minority_share}, min_votes={min_votes})",
        )
    matrix = VoteMatrix(legislators, pd.DataFrame({"roll_call_id": roll_call_ids}), votes)
    return matrix, manifest
