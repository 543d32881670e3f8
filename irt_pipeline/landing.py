"""The landing area `{root}/landing/`: which files feed which (session, chamber).

Users drop files here and nothing else; the pipeline only reads them (never modifies,
moves or deletes). Recognized layouts:

- Voteview: `S117_votes.csv` + `S117_members.csv` (`H...` for the House). A session may
  arrive in batches: every `S117_votes*.csv` is read together with every
  `S117_members*.csv`. Session key: the Congress number.
- Canonical parquet: `{session}_{chamber}*.parquet`, e.g. `2025-2026_House.parquet`,
  rows in the schema of data_contracts/roll_call_schema.json. Each file is a source of
  its own, so batches (`2025-2026_House_batch2.parquet`) add up.
- Kansas Legislature: a session folder `landing/{folder}/` holding `{name}_votes*.csv`,
  `{name}_rollcalls*.csv` and `{name}_legislators*.csv` (see sources/kansas.py). The
  folder name gives the session: `91st_2025-2026` or `2025-2026`, or `2020s` for a
  special session, which joins its biennium (2019-2020). One folder feeds both chambers.

Discovering sources only lists file names (cheap, for the sensor); reading happens in
the roll_calls asset, and in the sensor's pre-flight check of a new or changed source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from irt_pipeline.contract import conform, schema_problems
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import CHAMBERS, validate_session_key
from irt_pipeline.sources import kansas, voteview

LANDING = "landing"
PARQUET_PATTERN = re.compile(r"^(?P<session>[^_/]+)_(?P<chamber>House|Senate)(?P<batch>[^/]*)\.parquet$")


@dataclass(frozen=True)
class LandingSource:
    """A group of landing files that together give rows for some partitions."""

    kind: str  # "voteview", "parquet" or "kansas"
    session: str
    chambers: tuple[str, ...]  # chambers it may feed (a Kansas folder: both)
    files: tuple[str, ...]  # paths relative to the landing folder, sorted
    name: str = ""  # stable label: "S117", the parquet file, the Kansas folder

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Unrecognized:
    """A landing file that cannot be used as named, and why."""

    file: str
    problem: str


def discover(relative_paths: list[str]) -> tuple[list[LandingSource], list[Unrecognized]]:
    """Group landing files (paths relative to the landing folder) into sources.

    Hidden files (names starting with '.', e.g. a download in progress) are ignored.
    """
    sources: list[LandingSource] = []
    problems: list[Unrecognized] = []
    voteview_files: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    folders: dict[str, list[str]] = {}
    for rel in sorted(relative_paths):
        parts = rel.split("/")
        if any(part.startswith(".") for part in parts):
            continue
        name = parts[-1]
        if len(parts) == 2:
            folders.setdefault(parts[0], []).append(name)
            continue
        if len(parts) > 2:
            if name.endswith((".csv", ".parquet")):
                problems.append(
                    Unrecognized(rel, "too deep: a Kansas session folder sits directly under landing/")
                )
            continue
        if match := voteview.FILE_PATTERN.match(name):
            label = f"{match['chamber']}{int(match['congress']):03d}"
            key = (str(int(match["congress"])), voteview.CHAMBERS[match["chamber"]], label)
            voteview_files.setdefault(key, {"votes": [], "members": []})[match["kind"]].append(rel)
        elif match := PARQUET_PATTERN.match(name):
            try:
                session = validate_session_key(match["session"], where=rel)
            except BadInput as exc:
                problems.append(Unrecognized(rel, exc.problem))
                continue
            sources.append(LandingSource("parquet", session, (match["chamber"],), (rel,), rel))
        elif name.endswith((".csv", ".parquet")):
            problems.append(
                Unrecognized(
                    rel,
                    "file name matches no landing layout (expected S117_votes.csv / "
                    "S117_members.csv, {session}_{House|Senate}.parquet, or a Kansas "
                    "session folder)",
                )
            )
    for (session, chamber, label), files in sorted(voteview_files.items()):
        if not files["votes"] or not files["members"]:
            have, need = ("votes", "members") if files["votes"] else ("members", "votes")
            for rel in files[have]:
                problems.append(Unrecognized(rel, f"Voteview {have} file without its {need} file"))
            continue
        sources.append(
            LandingSource(
                "voteview", session, (chamber,), tuple(sorted(files["votes"] + files["members"])), label
            )
        )
    for folder, names in sorted(folders.items()):
        source, problem = _kansas_source(folder, names)
        if source:
            sources.append(source)
        elif problem:
            problems.append(problem)
    return sources, problems


def _kansas_source(folder: str, names: list[str]) -> tuple[LandingSource | None, Unrecognized | None]:
    grouped = kansas.folder_files(names)
    found = [n for kind in kansas.KINDS for n in grouped[kind]]
    if not found:
        if any(n.endswith((".csv", ".parquet")) for n in names):
            return None, Unrecognized(
                f"{folder}/", "folder holds no Kansas {name}_votes.csv / _rollcalls.csv / _legislators.csv files"
            )
        return None, None
    try:
        session = validate_session_key(kansas.session_from_folder(folder), where=f"{folder}/")
    except BadInput as exc:
        return None, Unrecognized(f"{folder}/", exc.problem)
    missing = [f"_{kind}.csv" for kind in kansas.KINDS if not grouped[kind]]
    if missing:
        files = " and ".join(missing) + (" files" if len(missing) > 1 else " file")
        return None, Unrecognized(f"{folder}/", f"Kansas session folder without its {files}")
    files = tuple(sorted(f"{folder}/{n}" for n in found))
    return LandingSource("kansas", session, CHAMBERS, files, folder), None


def list_landing(landing) -> list[str]:
    """Paths of every file under the landing folder, relative to it ('/' separated)."""
    return sorted(landing_files(landing))


def landing_files(landing, fresh: bool = False) -> dict[str, dict]:
    """Every file under the landing folder: relative path -> fsspec info (size, mtime
    or LastModified/ETag...). One listing call; no file is opened. `fresh` drops
    fsspec's cached listings first (s3fs caches them), as a watcher must."""
    base = landing.path.rstrip("/")
    if fresh:
        landing.fs.invalidate_cache(base)
    if not landing.exists():
        return {}
    found = landing.fs.find(base, detail=True)
    return {
        p[len(base) + 1 :]: info
        for p, info in found.items()
        if p != base and info.get("type", "file") == "file"
    }


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


def _read_kansas(landing, source: LandingSource) -> pd.DataFrame:
    paths = {kind: [] for kind in kansas.KINDS}
    for rel in source.files:
        paths[kansas.FILE_PATTERN.match(rel.rsplit("/", 1)[-1])["kind"]].append(str(landing / rel))
    return kansas.read_kansas(*[paths[k] for k in kansas.KINDS], session=source.session)


READERS: dict[str, Callable[[object, LandingSource], pd.DataFrame]] = {
    "voteview": _read_voteview,
    "parquet": _read_parquet,
    "kansas": _read_kansas,
}


def read_source(landing, source: LandingSource) -> pd.DataFrame:
    """Canonical rows of one source, limited to its session and chambers."""
    frame = READERS[source.kind](landing, source)
    if "chamber" in frame.columns:
        frame = frame[frame["chamber"].isin(source.chambers)]
    if "session" in frame.columns:
        frame = frame[frame["session"].astype(str) == source.session]
    return conform(frame)


def check_source(landing, source: LandingSource) -> tuple[str, ...]:
    """Pre-flight check of one source; returns the chambers it has rows for.

    Reads the files with the same readers as the roll_calls asset (a malformed file,
    unknown codes or legislators raise BadInput) and checks the canonical schema's
    column rules (contract.schema_problems). The full expectation suite still runs
    in the roll_calls asset.
    """
    where = ", ".join(source.files)
    frame = read_source(landing, source)
    if frame.empty:
        raise BadInput(
            where, f"no rows for session {source.session} and chamber(s) {list(source.chambers)}"
        )
    problems = schema_problems(frame)
    if problems:
        raise BadInput(where, "violates the canonical roll-call contract: " + "; ".join(problems))
    return tuple(c for c in CHAMBERS if c in set(frame["chamber"]))


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
        frame = read_source(landing, source)
        if "chamber" in frame.columns:
            frame = frame[frame["chamber"] == chamber]
        frames.append(frame.assign(_source=",".join(source.files)))
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
