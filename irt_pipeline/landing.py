"""The landing area `{root}/landing/`: which files feed which (session, chamber).

Users drop files here and nothing else; the pipeline only reads them (never modifies,
moves or deletes). Recognized layouts:

- Voteview: `S117_votes.csv` + `S117_members.csv` (`H...` for the House). A session may
  arrive in batches: every `S117_votes*.csv` is read together with every
  `S117_members*.csv`. Session key: the Congress number.
- Canonical parquet: `{session}_{chamber}*.parquet`, e.g. `2025-2026_House.parquet`,
  rows in the schema of data_contracts/roll_call_schema.json.

Discovering sources only lists file names (cheap, for the sensor); reading happens in
the roll_calls asset.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from irt_pipeline.contract import conform
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import validate_session_key
from irt_pipeline.sources import voteview

LANDING = "landing"
PARQUET_PATTERN = re.compile(r"^(?P<session>[^_/]+)_(?P<chamber>House|Senate)(?P<batch>[^/]*)\.parquet$")


@dataclass(frozen=True)
class LandingSource:
    """A group of landing files that together give rows for some partitions."""

    kind: str
    session: str
    chambers: tuple[str, ...]
    files: tuple[str, ...]  # paths relative to the landing folder, sorted


@dataclass(frozen=True)
class Unrecognized:
    """A landing file that cannot be used as named, and why."""

    file: str
    problem: str


def discover(relative_paths: list[str]) -> tuple[list[LandingSource], list[Unrecognized]]:
    """Group landing files (paths relative to the landing folder) into sources."""
    sources: list[LandingSource] = []
    problems: list[Unrecognized] = []
    voteview_files: dict[tuple[str, str], dict[str, list[str]]] = {}
    for rel in sorted(relative_paths):
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".") or "/" in rel:
            continue  # hidden files; sub-folders belong to folder layouts
        if match := voteview.FILE_PATTERN.match(name):
            key = (str(int(match["congress"])), voteview.CHAMBERS[match["chamber"]])
            voteview_files.setdefault(key, {"votes": [], "members": []})[match["kind"]].append(rel)
        elif match := PARQUET_PATTERN.match(name):
            try:
                session = validate_session_key(match["session"], where=rel)
            except BadInput as exc:
                problems.append(Unrecognized(rel, exc.problem))
                continue
            sources.append(LandingSource("parquet", session, (match["chamber"],), (rel,)))
        elif name.endswith((".csv", ".parquet")):
            problems.append(
                Unrecognized(
                    rel,
                    "file name matches no landing layout (expected S117_votes.csv / "
                    "S117_members.csv, or {session}_{House|Senate}.parquet)",
                )
            )
    for (session, chamber), files in sorted(voteview_files.items()):
        if not files["votes"] or not files["members"]:
            have, need = ("votes", "members") if files["votes"] else ("members", "votes")
            for rel in files[have]:
                problems.append(Unrecognized(rel, f"Voteview {have} file without its {need} file"))
            continue
        sources.append(
            LandingSource(
                "voteview", session, (chamber,), tuple(sorted(files["votes"] + files["members"]))
            )
        )
    return sources, problems


def list_landing(landing) -> list[str]:
    """Paths of every file under the landing folder, relative to it ('/' separated)."""
    if not landing.exists():
        return []
    base = landing.path.rstrip("/")
    found = landing.fs.find(base)
    return sorted(p[len(base) + 1 :] for p in found if p != base)


def _read_voteview(landing, source: LandingSource) -> pd.DataFrame:
    votes = [str(landing / f) for f in source.files if "_votes" in f]
    members = [str(landing / f) for f in source.files if "_members" in f]
    return voteview.read_voteview(votes, members, session=source.session)


def _read_parquet(landing, source: LandingSource) -> pd.DataFrame:
    path = landing / source.files[0]
    try:
        with path.open("rb") as handle:
            frame = pd.read_parquet(handle)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise BadInput(str(path), f"not a readable parquet file ({exc})") from None
    return frame


READERS: dict[str, Callable[[object, LandingSource], pd.DataFrame]] = {
    "voteview": _read_voteview,
    "parquet": _read_parquet,
}


def sources_for(landing, session: str, chamber: str) -> list[LandingSource]:
    sources, _ = discover(list_landing(landing))
    return [s for s in sources if s.session == session and chamber in s.chambers]


def file_digests(landing, files) -> list[dict]:
    """sha256 and size of each landing file (lineage: which bytes fed a partition)."""
    out = []
    for rel in files:
        data = (landing / rel).read_bytes()
        out.append({"file": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    return out


def read_partition(landing, session: str, chamber: str) -> tuple[pd.DataFrame, list[dict]]:
    """Canonical rows of one partition from every landing source that feeds it.

    Returns the rows (conformed to the schema, not yet validated) and the digests of
    the files read. Identical rows from two sources are kept once; conflicting votes
    for the same (roll call, legislator) raise BadInput naming the files.
    """
    where = f"partition session={session} chamber={chamber}"
    sources = sources_for(landing, session, chamber)
    if not sources:
        raise BadInput(where, f"no landing files for this partition under {landing}")
    frames = []
    for source in sources:
        frame = READERS[source.kind](landing, source)
        if "chamber" in frame.columns:
            frame = frame[frame["chamber"] == chamber]
        if "session" in frame.columns:
            frame = frame[frame["session"].astype(str) == session]
        frames.append(conform(frame).assign(_source=",".join(source.files)))
    rows = pd.concat(frames, ignore_index=True)
    key = ["session", "chamber", "roll_call_id", "legislator_id"]
    if len(sources) > 1 and {*key, "vote"} <= set(rows.columns):
        # Drop a row only when another source already gave it; duplicates inside one
        # file stay for the contract to report.
        repeated = rows.duplicated([*key, "vote"]) & ~rows.duplicated([*key, "vote", "_source"])
        rows = rows[~repeated]
        clash = rows[rows.duplicated(key, keep=False) & ~rows.duplicated([*key, "vote"], keep=False)]
        if not clash.empty:
            first = clash.iloc[0]
            raise BadInput(
                " and ".join(sorted(set(clash["_source"]))),
                f"conflicting votes for roll call {first['roll_call_id']} and legislator "
                f"{first['legislator_id']} in {where}",
            )
    files = sorted({f for s in sources for f in s.files})
    return rows.drop(columns="_source").reset_index(drop=True), file_digests(landing, files)
