"""Split a Voteview votes file into batches by roll-call number, as a session that
is still in progress arrives: `S118_votes_batch1.csv`, `S118_votes_batch2.csv`, ...

Batch i holds every row of a contiguous range of roll-call numbers; the ranges are
as equal in number of roll calls as possible and together cover the file exactly once.
Dropping the batches into landing one by one (with the members file) re-triggers the
same partition each time, and roll_calls reads all the batches present.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from irt_pipeline.errors import BadInput
from irt_pipeline.files import write_atomic

NAME = re.compile(r"^(?P<stem>[SH]\d{1,3})_votes\.csv$")


def split_votes(votes: pd.DataFrame, n_batches: int) -> list[pd.DataFrame]:
    """Row subsets of `votes` by contiguous roll-call-number ranges, in order."""
    rolls = np.sort(votes["rollnumber"].unique())
    if not 1 <= n_batches <= len(rolls):
        raise BadInput("--batches", f"cannot split {len(rolls)} roll calls into {n_batches} batches")
    return [votes[votes["rollnumber"].isin(chunk)] for chunk in np.array_split(rolls, n_batches)]


def write_batches(votes_path, members_path, out_dir, n_batches: int) -> list[Path]:
    """Write `{stem}_votes_batch{i}.csv` (i = 1..n) and a copy of the members file into
    `out_dir`; returns the paths, members file first."""
    votes_path, members_path, out_dir = Path(votes_path), Path(members_path), Path(out_dir)
    match = NAME.match(votes_path.name)
    if not match:
        raise BadInput(votes_path, "expected a Voteview votes file named like S118_votes.csv")
    votes = pd.read_csv(votes_path)
    if "rollnumber" not in votes.columns:
        raise BadInput(votes_path, "the Voteview votes file lacks column 'rollnumber'")
    out_dir.mkdir(parents=True, exist_ok=True)
    members = out_dir / f"{match['stem']}_members.csv"
    written = [members]
    write_atomic(members, members_path.read_bytes())
    for i, batch in enumerate(split_votes(votes, n_batches), start=1):
        target = out_dir / f"{match['stem']}_votes_batch{i}.csv"
        write_atomic(target, batch.to_csv(index=False))
        written.append(target)
    return written
