"""Voteview's published CSV layout -> canonical roll-call rows.

`{S|H}{NNN}_votes.csv`: congress, chamber, rollnumber, icpsr, cast_code, prob.
`{S|H}{NNN}_members.csv`: congress, chamber, icpsr, party_code, bioname, nominate_dim1, ...
Cast codes 1-3 Yea, 4-6 Nay, 7-8 present, 9 not voting, 0 not a member (row dropped).
Rows of the President (members with chamber "President") are not legislators.
"""

from __future__ import annotations

import re

import pandas as pd

from irt_pipeline.errors import BadInput
from irt_pipeline.sources.csv_files import read_source_csv

FILE_PATTERN = re.compile(r"^(?P<chamber>[SH])(?P<congress>\d{1,3})_(?P<kind>votes|members)(?P<batch>.*)\.csv$")
CHAMBERS = {"S": "Senate", "H": "House"}
PARTY_NAMES = {100: "Democrat", 200: "Republican", 328: "Independent"}
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


def _read_csv(path, columns: list[str], kind: str) -> pd.DataFrame:
    return read_source_csv(path, columns, f"the Voteview {kind} file")


def read_voteview(votes_paths, members_paths, session: str | None = None) -> pd.DataFrame:
    """Canonical rows from one or more Voteview votes files and their members files.

    Several votes files (batches of one Congress) are concatenated; a (roll call,
    member) pair that appears in two batches must agree. The session key is the
    Congress number unless given.
    """
    votes_paths = [votes_paths] if isinstance(votes_paths, (str,)) or not hasattr(votes_paths, "__iter__") else list(votes_paths)
    members_paths = [members_paths] if isinstance(members_paths, (str,)) or not hasattr(members_paths, "__iter__") else list(members_paths)
    members = pd.concat([_read_csv(p, MEMBERS_COLUMNS, "members") for p in members_paths])
    presidents = set(members.loc[members["chamber"] == "President", "icpsr"])
    members = members[members["chamber"] != "President"].drop_duplicates("icpsr", keep="last")

    frames = []
    for path in votes_paths:
        votes = _read_csv(path, VOTES_COLUMNS, "votes")
        votes = votes[~votes["icpsr"].isin(presidents)]
        bad_codes = sorted(set(votes["cast_code"].dropna().astype(int)) - set(CAST_CODES) - {0})
        if bad_codes or votes["cast_code"].isna().any():
            raise BadInput(path, f"unknown cast_code value(s) {bad_codes or ['<empty>']}; Voteview codes are 0-9")
        unknown = sorted(set(votes["icpsr"]) - set(members["icpsr"]))
        if unknown:
            raise BadInput(
                path,
                f"{len(unknown)} icpsr id(s) not in the members file(s) {[str(p) for p in members_paths]}: "
                f"{[int(u) for u in unknown[:5]]}",
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
    congresses = set(votes["congress"].astype(int))
    if len(congresses) != 1:
        raise BadInput(votes_paths[0], f"expected one Congress, found {sorted(congresses)}")

    info = members.set_index("icpsr")
    party_code = info.loc[votes["icpsr"], "party_code"].to_numpy()
    return pd.DataFrame(
        {
            "session": session or str(congresses.pop()),
            "chamber": votes["chamber"].to_numpy(),
            "roll_call_id": votes["rollnumber"].astype(int).astype(str).to_numpy(),
            "legislator_id": votes["icpsr"].astype(int).astype(str).to_numpy(),
            "legislator_name": info.loc[votes["icpsr"], "bioname"].astype(str).to_numpy(),
            "party": [PARTY_NAMES.get(int(c), f"Party code {int(c)}") for c in party_code],
            "vote": votes["cast_code"].astype(int).map(CAST_CODES).to_numpy(),
            "roll_call_date": pd.NA,
            "roll_call_description": pd.NA,
            **{
                column: (
                    info.loc[votes["icpsr"], source].to_numpy(dtype=float) if source in info.columns else float("nan")
                )
                for column, source in SCORE_COLUMNS.items()
            },
        }
    )
