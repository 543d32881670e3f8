"""The Kansas Legislature CSV layout -> canonical roll-call rows.

A session folder (e.g. `91st_2025-2026/`, `2025-2026/`, or `2020s/` for a special
session) holds three files sharing a name prefix:

- `{name}_votes.csv`: one row per legislator per roll call: session, bill_number,
  bill_title, vote_id, vote_datetime, vote_date, chamber, motion, legislator_name,
  legislator_slug, vote.
- `{name}_rollcalls.csv`: one row per roll call: vote_id, chamber, motion,
  bill_number, vote_date, result, ...
- `{name}_legislators.csv`: name, full_name, legislator_slug, chamber, party,
  district, member_url, ocd_id.

Folders scraped before the id column was renamed call `legislator_slug` `slug` (in
the votes and legislators files); both names are read.

A session may arrive in batches: `{name}_votes*.csv` (and likewise for the other two)
are read together. Session keys are bienniums ("2025-2026"); a special-session folder
`{year}s` belongs to the biennium containing that year (bienniums start in odd years:
2020s -> 2019-2020, 2021s -> 2021-2022). Chamber comes from the slug prefix (`rep_`
House, `sen_` Senate); an empty party means Independent.
"""

from __future__ import annotations

import re

import pandas as pd

from irt_pipeline.errors import BadInput
from irt_pipeline.sources.csv_files import read_source_csv

FILE_PATTERN = re.compile(
    r"^(?P<name>.+?)_(?P<kind>votes|rollcalls|legislators)(?P<batch>[^/]*)\.csv$"
)
KINDS = ("votes", "rollcalls", "legislators")
REGULAR_FOLDER = re.compile(r"^(?:\d+(?:st|nd|rd|th)_)?(?P<start>\d{4})-(?P<end>\d{4})$")
SPECIAL_FOLDER = re.compile(r"^(?P<year>\d{4})s$")
SLUG_CHAMBERS = {"rep_": "House", "sen_": "Senate"}
VOTE_CATEGORIES = {
    "Yea": "Yea",
    "Nay": "Nay",
    "Present and Passing": "Present",
    "Absent and Not Voting": "Absent",
    "Not Voting": "Not Voting",
}
VOTES_COLUMNS = ["vote_id", "chamber", "legislator_slug", "vote"]
ROLLCALLS_COLUMNS = ["vote_id", "chamber"]
LEGISLATORS_COLUMNS = ["name", "legislator_slug", "party"]
# Columns that must have a value on every line (an empty party means Independent).
NONEMPTY = {"votes": VOTES_COLUMNS, "rollcalls": ROLLCALLS_COLUMNS, "legislators": ["name", "legislator_slug"]}
# The analysts' scraper wrote the legislators' id column as `slug` before renaming it
# `legislator_slug`: folders scraped before then are read the same way.
ALIASES = {"slug": "legislator_slug"}


def session_from_folder(folder: str) -> str:
    """Biennium session key ("2025-2026") of a Kansas session folder name."""
    if match := SPECIAL_FOLDER.match(folder):
        year = int(match["year"])
        start = year if year % 2 else year - 1
        return f"{start}-{start + 1}"
    if match := REGULAR_FOLDER.match(folder):
        start, end = int(match["start"]), int(match["end"])
        if start % 2 == 0 or end != start + 1:
            raise BadInput(
                folder,
                f"Kansas bienniums run from an odd year to the next (e.g. 2025-2026), not {start}-{end}",
            )
        return f"{start}-{end}"
    raise BadInput(
        folder,
        "not a Kansas session folder name: expected '91st_2025-2026', '2025-2026' or "
        "'2020s' (special session)",
    )


def is_special(folder: str) -> bool:
    return bool(SPECIAL_FOLDER.match(folder))


def chamber_of_slug(slug: str) -> str | None:
    for prefix, chamber in SLUG_CHAMBERS.items():
        if isinstance(slug, str) and slug.startswith(prefix):
            return chamber
    return None


def _read_csv(path, columns: list[str], kind: str) -> pd.DataFrame:
    frame = read_source_csv(
        path, columns, f"the Kansas {kind} file", nonempty=NONEMPTY[kind], aliases=ALIASES,
        dtype=str, keep_default_na=False,
    )
    return frame.assign(_file=str(path))


def _concat(paths, columns, kind) -> pd.DataFrame:
    return pd.concat([_read_csv(p, columns, kind) for p in paths], ignore_index=True)


def _iso_date(votes: pd.DataFrame) -> pd.Series:
    """YYYY-MM-DD from vote_datetime (ISO) or else vote_date (MM/DD/YYYY)."""
    out = pd.Series(pd.NA, index=votes.index, dtype="string")
    if "vote_datetime" in votes.columns:
        out = pd.to_datetime(votes["vote_datetime"], errors="coerce").dt.strftime("%Y-%m-%d").astype("string")
    if "vote_date" in votes.columns:
        fallback = pd.to_datetime(votes["vote_date"], format="%m/%d/%Y", errors="coerce")
        out = out.fillna(fallback.dt.strftime("%Y-%m-%d").astype("string"))
    return out


def _legislators(paths) -> pd.DataFrame:
    people = _concat(paths, LEGISLATORS_COLUMNS, "legislators")
    people = people.drop_duplicates("legislator_slug", keep="last")
    bad = people.loc[people["legislator_slug"].map(chamber_of_slug).isna(), ["legislator_slug", "_file"]]
    if not bad.empty:
        raise BadInput(
            bad["_file"].iloc[0],
            f"legislator slug(s) {bad['legislator_slug'].head(3).tolist()} start with neither "
            "'rep_' (House) nor 'sen_' (Senate)",
        )
    people["chamber_from_slug"] = people["legislator_slug"].map(chamber_of_slug)
    people["party"] = people["party"].str.strip().replace("", "Independent")
    full = people["full_name"].str.strip() if "full_name" in people.columns else people["name"]
    people["display_name"] = full.where(full != "", people["name"].str.strip())
    return people.set_index("legislator_slug")


def _roll_calls(paths) -> pd.DataFrame:
    rolls = _concat(paths, ROLLCALLS_COLUMNS, "rollcalls")
    return rolls.drop_duplicates("vote_id", keep="last").set_index("vote_id")


def _describe(votes: pd.DataFrame, rolls: pd.DataFrame) -> pd.Series:
    """'HB 2124: Final Action - Passed' from the roll-call file, else from the votes."""
    parts = []
    for column in ("bill_number", "motion"):
        if column in rolls.columns:
            values = votes["vote_id"].map(rolls[column])
        elif column in votes.columns:
            values = votes[column]
        else:
            continue
        parts.append(values.fillna("").astype(str).str.strip())
    if not parts:
        return pd.Series(pd.NA, index=votes.index, dtype="string")
    text = parts[0] if len(parts) == 1 else (parts[0] + ": " + parts[1]).str.strip(": ")
    return text.replace("", pd.NA).astype("string")


def _files(votes: pd.DataFrame, column: str, value: str, others) -> str:
    """'votes file and other files' for a value of the votes that the others lack."""
    where = votes.loc[votes[column] == value, "_file"].iloc[0]
    return " and ".join([where, *[str(p) for p in others]])


def read_kansas(votes_paths, rollcalls_paths, legislators_paths, session: str) -> pd.DataFrame:
    """Canonical rows (both chambers) from one Kansas session folder's files."""
    people = _legislators(legislators_paths)
    rolls = _roll_calls(rollcalls_paths)
    votes = _concat(votes_paths, VOTES_COLUMNS, "votes")
    first = votes["_file"].iloc[0]

    unknown_votes = sorted(set(votes["vote"]) - set(VOTE_CATEGORIES))
    if unknown_votes:
        raise BadInput(
            first,
            f"unknown vote value(s) {unknown_votes[:5]}; Kansas categories are {list(VOTE_CATEGORIES)}",
        )
    chambers = sorted(set(votes["chamber"]) - {"House", "Senate"})
    if chambers:
        raise BadInput(first, f"unknown chamber value(s) {chambers[:5]}; expected 'House' or 'Senate'")
    unknown = sorted(set(votes["legislator_slug"]) - set(people.index))
    if unknown:
        raise BadInput(
            _files(votes, "legislator_slug", unknown[0], legislators_paths),
            f"{len(unknown)} legislator slug(s) not in the legislators file(s): {unknown[:5]}",
        )
    missing_rolls = sorted(set(votes["vote_id"]) - set(rolls.index))
    if missing_rolls:
        raise BadInput(
            _files(votes, "vote_id", missing_rolls[0], rollcalls_paths),
            f"{len(missing_rolls)} vote_id(s) not in the rollcalls file(s): {missing_rolls[:3]}",
        )
    slug_chamber = votes["legislator_slug"].map(people["chamber_from_slug"])
    wrong = votes[slug_chamber != votes["chamber"]]
    if not wrong.empty:
        row = wrong.iloc[0]
        raise BadInput(
            row["_file"],
            f"{len(wrong)} vote(s) cast in one chamber by a legislator of the other, e.g. "
            f"{row['legislator_slug']} on {row['vote_id']} in the {row['chamber']}",
        )
    votes = votes.drop_duplicates(["vote_id", "legislator_slug", "vote"])
    clash = votes[votes.duplicated(["vote_id", "legislator_slug"], keep=False)]
    if not clash.empty:
        row = clash.iloc[0]
        raise BadInput(
            ", ".join(sorted(set(clash["_file"]))),
            f"conflicting votes for {row['legislator_slug']} on roll call {row['vote_id']}",
        )
    votes = votes.reset_index(drop=True)
    return pd.DataFrame(
        {
            "session": session,
            "chamber": votes["chamber"],
            "roll_call_id": votes["vote_id"],
            "legislator_id": votes["legislator_slug"],
            "legislator_name": votes["legislator_slug"].map(people["display_name"]),
            "party": votes["legislator_slug"].map(people["party"]),
            "vote": votes["vote"].map(VOTE_CATEGORIES),
            "roll_call_date": _iso_date(votes),
            "roll_call_description": _describe(votes, rolls),
            "external_score": float("nan"),
        }
    )


def folder_files(names: list[str]) -> dict[str, list[str]]:
    """Group file names of one folder by kind ('votes', 'rollcalls', 'legislators');
    names that match no kind are left out."""
    grouped: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for name in sorted(names):
        if match := FILE_PATTERN.match(name):
            grouped[match["kind"]].append(name)
    return grouped


def read_folder(folder, session: str | None = None) -> pd.DataFrame:
    """Canonical rows of a Kansas session folder (local path or fsspec URL)."""
    from upath import UPath

    base = UPath(str(folder))
    if not base.is_dir():
        raise BadInput(str(folder), "not a folder")
    files = folder_files([p.name for p in base.iterdir() if p.is_file()])
    missing = [kind for kind in KINDS if not files[kind]]
    if missing:
        raise BadInput(str(folder), f"no {', '.join(f'*_{k}.csv' for k in missing)} file in this Kansas session folder")
    session = session or session_from_folder(base.name)
    return read_kansas(
        *[[str(base / name) for name in files[kind]] for kind in KINDS], session=session
    )
