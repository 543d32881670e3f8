"""Voteview's published CSV layout -> canonical roll-call rows.

`{S|H}{NNN}_votes.csv`: congress, chamber, rollnumber, icpsr, cast_code, prob.
`{S|H}{NNN}_members.csv`: congress, chamber, icpsr, party_code, bioname, nominate_dim1, ...
Cast codes 1-3 Yea, 4-6 Nay, 7-8 present, 9 not voting, 0 not a member (row dropped).
Rows of the President (members with chamber "President") are not legislators.
Party codes are named from Voteview's own list (voteview_parties.csv beside this file).

Numbers are read strictly: a cast code, roll-call number, icpsr id or Congress that is
not a whole number (`Y`, `1.9`) is refused with the file, line and value, never
truncated (`14226.0` is the whole number 14226, as Voteview writes ids). A member listed
twice in one chamber with a different party or name is refused too.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from irt_pipeline.errors import BadInput
from irt_pipeline.sources.csv_files import lines_where, read_source_csv

FILE_PATTERN = re.compile(r"^(?P<chamber>[SH])(?P<congress>\d{1,3})_(?P<kind>votes|members)(?P<batch>.*)\.csv$")
CHAMBERS = {"S": "Senate", "H": "House"}
PARTY_FILE = "voteview_parties.csv"
CAST_CODES = {
    **{c: "Yea" for c in (1, 2, 3)},
    **{c: "Nay" for c in (4, 5, 6)},
    7: "Present",
    8: "Present",
    9: "Not Voting",
}
VOTES_COLUMNS = ["congress", "chamber", "rollnumber", "icpsr", "cast_code"]
MEMBERS_COLUMNS = ["congress", "chamber", "icpsr", "party_code", "bioname", "nominate_dim1"]
# Voteview's scores, carried into the canonical rows for validation (never for fitting).
SCORE_COLUMNS = {
    "external_score": "nominate_dim1",
    "external_score_dim2": "nominate_dim2",
    "session_score": "nokken_poole_dim1",
    "session_score_dim2": "nokken_poole_dim2",
}
MEMBERS_NONEMPTY = ["congress", "chamber", "icpsr", "party_code", "bioname"]


@cache
def party_names() -> dict[int, str]:
    """Voteview party code -> party name (100 Democrat, 200 Republican, 328 Independent,
    537 Farmer-Labor, ...), from voteview_parties.csv."""
    with files("irt_pipeline.sources").joinpath(PARTY_FILE).open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, comment="#")
    return dict(zip(table["code"].astype(int), table["party"].astype(str)))


def party_name(code: int) -> str:
    return party_names().get(int(code), f"Party code {int(code)}")


def _read_csv(path, columns: list[str], kind: str, nonempty) -> pd.DataFrame:
    return read_source_csv(path, columns, f"the Voteview {kind} file", nonempty=nonempty)


def _whole_numbers(frame: pd.DataFrame, column: str, path) -> pd.Series:
    """`frame[column]` as int64; a value that is not a whole number raises BadInput
    naming the file, its line and the value."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (np.floor(values) != values) | ~np.isfinite(values)
    if bad.any():
        line, more = lines_where(frame, bad)
        first = frame.loc[bad, column].iloc[0]
        raise BadInput(
            path, f"line {line}: {column} {str(first)!r} is not a whole number{more}; Voteview writes codes and ids as integers"
        )
    return values.astype("int64")


def _members(members_paths) -> tuple[pd.DataFrame, set[int]]:
    """One row per (chamber, icpsr) of the members files, and the icpsr ids of the
    President rows. The same member twice with a different party or name is refused."""
    frames = []
    for path in members_paths:
        frame = _read_csv(path, MEMBERS_COLUMNS, "members", MEMBERS_NONEMPTY)
        frame = frame.assign(
            icpsr=_whole_numbers(frame, "icpsr", path),
            party_code=_whole_numbers(frame, "party_code", path),
            _file=str(path),
        )
        frames.append(frame)
    members = pd.concat(frames, ignore_index=True)
    presidents = set(members.loc[members["chamber"] == "President", "icpsr"])
    members = members[members["chamber"] != "President"]
    for column in ("party_code", "bioname"):
        counts = members.groupby(["chamber", "icpsr"])[column].nunique()
        if (counts > 1).any():
            chamber, icpsr = counts[counts > 1].index[0]
            rows = members[(members["chamber"] == chamber) & (members["icpsr"] == icpsr)]
            shown = [repr(str(v)) if column == "bioname" else str(int(v)) for v in rows[column]]
            listed = "; ".join(f"{v} ({f}, line {n})" for v, f, n in zip(shown, rows["_file"], rows["_line"]))
            raise BadInput(
                ", ".join(sorted(set(rows["_file"]))),
                f"icpsr {int(icpsr)} is listed {len(rows)} times in the {chamber} with different "
                f"{column} values: {listed} ({int((counts > 1).sum())} member(s) like this); "
                "one member has one row per chamber: remove the wrong one",
            )
    return members.drop_duplicates(["chamber", "icpsr"]).set_index(["chamber", "icpsr"]), presidents


def read_voteview(votes_paths, members_paths, session: str | None = None) -> pd.DataFrame:
    """Canonical rows from one or more Voteview votes files and their members files.

    Several votes files (batches of one Congress) are concatenated; a (roll call,
    member) pair that appears in two batches must agree. The session key is the
    Congress number unless given.
    """
    votes_paths = [votes_paths] if isinstance(votes_paths, (str,)) or not hasattr(votes_paths, "__iter__") else list(votes_paths)
    members_paths = [members_paths] if isinstance(members_paths, (str,)) or not hasattr(members_paths, "__iter__") else list(members_paths)
    members, presidents = _members(members_paths)

    frames = []
    for path in votes_paths:
        votes = _read_csv(path, VOTES_COLUMNS, "votes", VOTES_COLUMNS)
        votes = votes.assign(**{c: _whole_numbers(votes, c, path) for c in ("congress", "rollnumber", "icpsr", "cast_code")})
        votes = votes[~votes["icpsr"].isin(presidents)]
        bad = ~votes["cast_code"].isin([*CAST_CODES, 0])
        if bad.any():
            line, more = lines_where(votes, bad)
            codes = sorted({int(c) for c in votes.loc[bad, "cast_code"]})
            raise BadInput(path, f"unknown cast_code value(s) {codes} on line {line}{more}; Voteview codes are 0-9")
        known = pd.MultiIndex.from_arrays([votes["chamber"], votes["icpsr"]]).isin(members.index)
        if not known.all():
            unknown = sorted(set(votes.loc[~known, "icpsr"]))
            raise BadInput(
                path,
                f"{len(unknown)} icpsr id(s) not in the members file(s) {[str(p) for p in members_paths]} "
                f"for this chamber: {[int(u) for u in unknown[:5]]} (line {votes.loc[~known, '_line'].iloc[0]})",
            )
        votes = votes.assign(source=str(path))
        frames.append(votes[votes["cast_code"] != 0])
    votes = pd.concat(frames, ignore_index=True)
    duplicated = votes.duplicated(["rollnumber", "icpsr"], keep=False)
    if duplicated.any():
        clash = votes[duplicated].groupby(["rollnumber", "icpsr"])["cast_code"].nunique()
        if (clash > 1).any():
            (roll, icpsr) = clash[clash > 1].index[0]
            raise BadInput(
                ", ".join(sorted(set(votes.loc[duplicated, "source"]))),
                f"roll call {roll} has conflicting votes for icpsr {int(icpsr)} across files",
            )
        votes = votes.drop_duplicates(["rollnumber", "icpsr"])

    chambers = set(votes["chamber"])
    if len(chambers) != 1:
        raise BadInput(votes_paths[0], f"expected one chamber, found {sorted(chambers)}")
    congresses = set(votes["congress"])
    if len(congresses) != 1:
        raise BadInput(votes_paths[0], f"expected one Congress, found {sorted(congresses)}")

    info = members.loc[pd.MultiIndex.from_arrays([votes["chamber"], votes["icpsr"]])]
    return pd.DataFrame(
        {
            "session": session or str(congresses.pop()),
            "chamber": votes["chamber"].to_numpy(),
            "roll_call_id": votes["rollnumber"].astype(str).to_numpy(),
            "legislator_id": votes["icpsr"].astype(str).to_numpy(),
            "legislator_name": info["bioname"].astype(str).to_numpy(),
            "party": info["party_code"].map(party_name).to_numpy(),
            "vote": votes["cast_code"].map(CAST_CODES).to_numpy(),
            "roll_call_date": pd.NA,
            "roll_call_description": pd.NA,
            **{
                column: (
                    pd.to_numeric(info[source], errors="coerce").to_numpy(dtype=float)
                    if source in info.columns
                    else float("nan")
                )
                for column, source in SCORE_COLUMNS.items()
            },
        }
    )
