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
Each reads every file of a source once (`read_files`): the rows are parsed from the
same bytes whose sha256 is recorded (the sensor's cursor, roll_calls' `landing_files`),
so a file replaced while it is being read cannot pair one version's rows with another
version's digest.

Only regular files are read: a symbolic link (to a file or a folder), a pipe or a device
is reported, never followed. A source's rows must all be for the session and chamber(s)
its name says, and the sources of a partition must agree on each legislator's name and
party: anything else is refused with a BadInput naming the files, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from irt_pipeline.contract import canonical_columns, conform, schema_problems
from irt_pipeline.errors import BadInput
from irt_pipeline.files import FileBytes, read_hashed
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
    """Paths of every regular file under the landing folder, relative to it ('/' separated)."""
    return sorted(landing_files(landing))


def landing_entries(landing, fresh: bool = False) -> dict[str, dict]:
    """Every entry under the landing folder but its folders: relative path -> fsspec
    info (size, mtime or LastModified/ETag..., `islink`). One listing call; no file is
    opened. `fresh` drops fsspec's cached listings first (s3fs caches them), as a
    watcher must. Symbolic links (to files or folders) are entries of type "other"."""
    base = landing.path.rstrip("/")
    if fresh:
        landing.fs.invalidate_cache(base)
    if not landing.exists():
        return {}
    found = landing.fs.find(base, detail=True)
    return {
        p[len(base) + 1 :]: info
        for p, info in found.items()
        if p != base and info.get("type", "file") != "directory"
    }


def landing_files(landing, fresh: bool = False) -> dict[str, dict]:
    """The regular files among `landing_entries`: the only files the pipeline reads."""
    return {rel: info for rel, info in landing_entries(landing, fresh).items() if is_regular(info)}


def is_regular(info: dict) -> bool:
    return info.get("type", "file") == "file" and not info.get("islink", False)


def not_regular(entries: dict[str, dict]) -> list[Unrecognized]:
    """Entries the pipeline never reads (symbolic links, pipes, devices), and why. A
    link's target can change or vanish without the landing area changing, and lies
    outside what the pipeline promises to keep byte-identical."""
    problems = []
    for rel, info in sorted(entries.items()):
        if is_regular(info) or any(part.startswith(".") for part in rel.split("/")):
            continue
        if info.get("islink"):
            what = f"a symbolic link (to {info.get('destination', '?')})"
        else:
            what = "not a regular file (a pipe, socket or device)"
        problems.append(
            Unrecognized(
                rel,
                f"is {what}: the pipeline reads only regular files in the landing area; "
                "copy the file (or folder) into landing/ instead",
            )
        )
    return problems


def read_files(landing, files) -> dict[str, FileBytes]:
    """{file: its bytes and their sha256} of landing files (paths relative to `landing`),
    each read once. An OSError (a file gone since the listing, a network error) is raised."""
    return {rel: read_hashed(landing / rel) for rel in files}


def _read_voteview(source: LandingSource, read: dict[str, FileBytes]) -> pd.DataFrame:
    votes = [read[f] for f in source.files if "_votes" in f]
    members = [read[f] for f in source.files if "_members" in f]
    return voteview.read_voteview(votes, members, session=source.session)


def _read_parquet(source: LandingSource, read: dict[str, FileBytes]) -> pd.DataFrame:
    path = read[source.files[0]]
    try:
        with path.open("rb") as handle:
            frame = pd.read_parquet(handle)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise BadInput(str(path), f"not a readable parquet file ({exc})") from None
    unknown = [str(c) for c in frame.columns if c not in canonical_columns()]
    if unknown:
        # conform() would drop them: a misspelt optional column must not vanish unnoticed.
        raise BadInput(
            str(path),
            f"unknown column(s) {unknown[:5]}: a canonical parquet file holds only the columns "
            f"{canonical_columns()} (data_contracts/roll_call_schema.json); rename or drop them",
        )
    return frame


def _read_kansas(source: LandingSource, read: dict[str, FileBytes]) -> pd.DataFrame:
    paths = {kind: [] for kind in kansas.KINDS}
    for rel in source.files:
        paths[kansas.FILE_PATTERN.match(rel.rsplit("/", 1)[-1])["kind"]].append(read[rel])
    return kansas.read_kansas(*[paths[k] for k in kansas.KINDS], session=source.session)


# Readers parse a source from its files' bytes ({file: FileBytes}, from read_files).
READERS: dict[str, Callable[[LandingSource, dict[str, FileBytes]], pd.DataFrame]] = {
    "voteview": _read_voteview,
    "parquet": _read_parquet,
    "kansas": _read_kansas,
}


def read_source(source: LandingSource, read: dict[str, FileBytes]) -> pd.DataFrame:
    """Canonical rows of one source, parsed from its files' bytes (`read_files`). Every
    row must be for the source's session and one of its chambers (which its file or
    folder name says): rows for another partition are refused, never dropped."""
    frame = READERS[source.kind](source, read)
    outside = pd.Series(False, index=frame.index)
    for column, allowed in (("session", {source.session}), ("chamber", set(source.chambers))):
        if column in frame.columns:
            values = frame[column]
            outside |= values.notna() & ~values.astype(str).isin(allowed)
    if outside.any():
        first = frame[outside].iloc[0]
        row = int(outside.to_numpy().nonzero()[0][0]) + 1
        example = ", ".join(f"{c} {str(first[c])!r}" for c in ("session", "chamber") if c in frame.columns)
        raise BadInput(
            ", ".join(source.files),
            f"{int(outside.sum())} of {len(frame)} rows are not for session {source.session!r} and "
            f"chamber {' or '.join(source.chambers)}, which the file name says (row {row}: {example}); "
            "give each (session, chamber) its own file, named for it",
        )
    return conform(frame)


def identity_conflicts(rows: pd.DataFrame, sources: pd.Series | None = None) -> BadInput | None:
    """A BadInput when a legislator_id has two names or two parties among `rows` (e.g. a
    parquet file and Voteview CSVs of one session disagreeing), naming each value with
    the files it came from (`sources`, aligned with rows); None when they agree."""
    if not {"legislator_id", "legislator_name", "party"} <= set(rows.columns) or rows.empty:
        return None
    origin = sources if sources is not None else pd.Series("", index=rows.index)
    for column in ("legislator_name", "party"):
        counts = rows.groupby("legislator_id", sort=True)[column].nunique()
        clashing = counts[counts > 1]
        if clashing.empty:
            continue
        legislator = clashing.index[0]
        mine = rows["legislator_id"] == legislator
        values = (
            pd.DataFrame({"value": rows.loc[mine, column], "source": origin[mine]})
            .groupby("value", sort=True)["source"]
            .agg(lambda s: sorted(set(s)))
        )
        described = "; ".join(
            f"{str(value)!r}" + (f" in {', '.join(files)}" if any(files) else "") for value, files in values.items()
        )
        where = sorted({f for files in values for f in files if f})
        return BadInput(
            " and ".join(where) or "landing rows",
            f"legislator {legislator} has {len(values)} different {column.replace('_', ' ')}s: {described} "
            f"({len(clashing)} legislator(s) disagree); one legislator id has one name and one "
            "party in a partition: correct the file that is wrong",
        )
    return None


def check_source(landing, source: LandingSource, read: dict[str, FileBytes] | None = None) -> tuple[str, ...]:
    """Pre-flight check of one source; returns the chambers it has rows for.

    Parses the files with the same readers as the roll_calls asset (a malformed file,
    unknown codes or legislators raise BadInput) and checks the canonical schema's
    column rules (contract.schema_problems). The full expectation suite still runs
    in the roll_calls asset. `read`: the source's files already read (`read_files`,
    whose digests the caller keeps); read here when None.
    """
    where = ", ".join(source.files)
    frame = read_source(source, read if read is not None else read_files(landing, source.files))
    if frame.empty:
        raise BadInput(
            where, f"no rows for session {source.session} and chamber(s) {list(source.chambers)}"
        )
    problems = schema_problems(frame)
    if problems:
        raise BadInput(where, "violates the canonical roll-call contract: " + "; ".join(problems))
    conflict = identity_conflicts(frame, pd.Series(where, index=frame.index))
    if conflict:
        raise conflict
    present = set(frame["chamber"].unique())  # unique(): not a Python loop over every row
    return tuple(c for c in CHAMBERS if c in present)


def no_sources(landing) -> str:
    """The problem of a partition with no landing files, naming what was not read."""
    skipped = "; ".join(f"{u.file} {u.problem}" for u in not_regular(landing_entries(landing)))
    return f"no landing files for this partition under {landing}" + (f" (not read: {skipped})" if skipped else "")


def sources_for(landing, session: str, chamber: str) -> list[LandingSource]:
    sources, _ = discover(list_landing(landing))
    return [s for s in sources if s.session == session and chamber in s.chambers]


def lineage(read: dict[str, FileBytes]) -> list[dict]:
    """[{file, sha256, bytes}] of files read (`read_files`), by file name: the
    `landing_files` lineage of the rows parsed from exactly those bytes."""
    return [{"file": rel, "sha256": f.sha256, "bytes": len(f.data)} for rel, f in sorted(read.items())]


def file_digests(landing, files) -> list[dict]:
    """sha256 and size of each landing file as it is now (lineage: which bytes fed a partition)."""
    return lineage(read_files(landing, files))


def read_partition(landing, session: str, chamber: str) -> tuple[pd.DataFrame, list[dict]]:
    """Canonical rows of one partition from every landing source that feeds it.

    Returns the rows (conformed to the schema, not yet validated) and the digests of
    the files read ([{file, sha256, bytes}], `lineage`), each file read once: the
    digests are of the bytes the rows were parsed from. Identical rows from two sources
    are kept once; conflicting votes for the same (roll call, legislator) raise
    BadInput naming the files.
    """
    where = f"partition session={session} chamber={chamber}"
    sources = sources_for(landing, session, chamber)
    if not sources:
        raise BadInput(where, no_sources(landing))
    frames = []
    digests: list[dict] = []
    for source in sources:
        read = read_files(landing, source.files)
        digests += lineage(read)
        frame = read_source(source, read)
        if "chamber" in frame.columns:
            frame = frame[frame["chamber"] == chamber]  # a Kansas folder feeds both chambers
        frames.append(frame.assign(_source=", ".join(source.files)))
    rows = pd.concat(frames, ignore_index=True)
    conflict = identity_conflicts(rows, rows["_source"])
    if conflict:
        raise conflict
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
    return rows.drop(columns="_source").reset_index(drop=True), sorted(digests, key=lambda f: f["file"])
