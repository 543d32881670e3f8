"""Watching the landing area: what changed since the last look, and what to run.

Plain functions over a landing UPath (local or s3://); the Dagster sensor in
sensors.py is a thin wrapper. One look (`scan`):

1. Lists `{root}/landing/` once (fsspec `find(detail=True)`: names, sizes, mtimes or
   ETags; no file is opened) and groups the files into sources (landing.discover).
2. Fingerprints each source from that listing: sha256 of each file's path, size,
   mtime / inode, or LastModified / ETag on S3. A source whose fingerprint is in the
   cursor is not read again. Entries that are not regular files (symbolic links,
   pipes) are never read: they go to the quarantine listing with the reason.
3. Reads a new or changed source once: each file's bytes are read into memory once
   (landing.read_files), hashed (sha256) and parsed from those same bytes by a
   pre-flight check with the same readers as the roll_calls asset plus the schema's
   column rules (landing.check_source: 4.7 CPU-s for the 117th House's 11.5 MB,
   bench/RESULTS.md; the Great Expectations suite, ~8 s to import, stays in roll_calls).
   Checking stops when the time budget is spent; the rest waits for the next look.
4. A partition is run when every source feeding it passed and its run key changed.
   run_key = sha256 of the partition key, the content digest of every feeding source
   and the partition's previous run key. Same bytes after the same history give the
   same key (a repeated or retried tick asks for a run Dagster already has, and
   Dagster drops it); new bytes give a new key; and a file restored to an earlier
   version gets a fresh key instead of colliding with its old run. A file merely
   touched (same bytes) is re-read but gets the same key: no run. Nor does a partition
   whose latest rankings were computed from exactly these files and bytes (the
   `landing_files` its materialization records, looked up through `recorded`): work
   done by `irt-pipeline run`, or before the cursor was lost, is not done again.
5. A source that fails the check is never half-ingested: its partitions get no run
   (the other sources of those partitions wait with it), the problem goes to the log
   and to the quarantine listing `{root}/quarantine/landing.json`, and the source is
   checked again as soon as its files change. Landing files are never touched.

The cursor is compact JSON, a few hundred bytes per source:
`{"v": 2, "sources": {id: {"fp", "digest", "files": {file: sha256}, "chambers"} or {"fp", "problem"}},
"runs": {"Senate|117": {"key": run_key, "inputs": hash of the digests it was made
from}}, "listing": hash of the last quarantine listing written}`. Partitions stay in
"runs" after their files leave, so bytes that come back later are not mistaken for new.
An unreadable cursor counts as empty: every source is checked again, and partitions
whose bytes are unchanged get their old run keys back, which Dagster deduplicates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from irt_pipeline.errors import BadInput
from irt_pipeline.landing import (
    LandingSource,
    check_source,
    discover,
    is_regular,
    landing_entries,
    not_regular,
    read_files,
)
from irt_pipeline.partitions import partition_key
from irt_pipeline.versions import digest

CURSOR_VERSION = 2
QUARANTINE = "quarantine/landing.json"
TICK_BUDGET_SECONDS = 30.0  # of the 60 s Dagster allows a sensor evaluation
INFO_FIELDS = (
    "size", "mtime", "ino", "LastModified", "ETag", "etag", "last_modified",
    "md5Hash", "crc32c", "generation", "checksum",
)


def fingerprint(files: tuple[str, ...], infos: dict[str, dict]) -> str:
    """Hash of the listing info (never the bytes) of a source's files."""
    return digest([[rel, {k: infos[rel].get(k) for k in INFO_FIELDS if k in infos[rel]}] for rel in files])[:32]


def content_digest(shas: dict[str, str]) -> str:
    """Digest over each file's path and the sha256 of its bytes, 32 hex."""
    return digest([[rel, sha] for rel, sha in sorted(shas.items())])[:32]


def run_key(partition: str, digests: list[tuple[str, str]], previous: str | None) -> str:
    """Run key of a partition fed by sources with these (id, content digest) pairs."""
    return digest({"partition": partition, "sources": sorted(digests), "after": previous or ""})


@dataclass
class Cursor:
    sources: dict[str, dict] = field(default_factory=dict)
    runs: dict[str, dict] = field(default_factory=dict)
    listing: str = ""

    def dumps(self) -> str:
        return json.dumps(
            {"v": CURSOR_VERSION, "sources": self.sources, "runs": self.runs, "listing": self.listing},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """The cursor in `text`; empty when absent, unreadable or of another version."""
        try:
            data = json.loads(text or "")
            if data.get("v") != CURSOR_VERSION:
                return cls()
            sources = {k: v for k, v in data["sources"].items() if isinstance(v, dict) and "fp" in v}
            runs = {k: v for k, v in data["runs"].items() if isinstance(v, dict)}
            return cls(sources, runs, str(data.get("listing", "")))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()


@dataclass(frozen=True)
class RunPlan:
    session: str
    chamber: str
    run_key: str
    files: tuple[str, ...]

    @property
    def partition_key(self):
        return partition_key(self.session, self.chamber)


@dataclass
class Scan:
    cursor: Cursor
    runs: list[RunPlan]
    new_sessions: list[str]
    problems: list[dict]  # the quarantine listing: {"files", "problem", "blocks"}
    listing_changed: bool
    log: list[tuple[str, str]]  # (level, message)
    pending: list[str]  # sources left unchecked for the next look


def _check(landing, source: LandingSource) -> dict:
    """Cursor entry of a source read now: digest and chambers, or the problem. Each file
    is read once; its sha256 is that of the bytes checked."""
    try:
        read = read_files(landing, source.files)
        shas = {rel: f.sha256 for rel, f in read.items()}
        chambers = check_source(landing, source, read)
        return {"digest": content_digest(shas), "files": shas, "chambers": list(chambers)}
    except BadInput as exc:
        return {"problem": f"{exc.where}: {exc.problem}"[:1000]}
    except OSError:
        raise  # transient (network, permissions): try again next look
    except Exception as exc:  # noqa: BLE001 - any other failure to read is the file's
        return {"problem": f"{', '.join(source.files)}: could not be read ({type(exc).__name__}: {exc})"[:1000]}


def scan(
    landing,
    previous: Cursor,
    known_sessions: set[str],
    budget_seconds: float = TICK_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    recorded: Callable[[str], list[dict] | None] = lambda partition: None,
) -> Scan:
    """One look at the landing area; see the module docstring. `recorded(partition key)`
    gives the `landing_files` ([{file, sha256, ...}]) the partition's latest rankings
    were computed from, or None."""
    start = clock()
    entries = landing_entries(landing, fresh=True)
    infos = {rel: info for rel, info in entries.items() if is_regular(info)}
    sources, unrecognized = discover(list(infos))
    unrecognized = not_regular(entries) + unrecognized
    log: list[tuple[str, str]] = []
    states: dict[str, dict] = {}
    pending: list[str] = []
    for source in sources:
        fp = fingerprint(source.files, infos)
        old = previous.sources.get(source.id)
        if old and old.get("fp") == fp:
            states[source.id] = old
            continue
        if clock() - start > budget_seconds:
            pending.append(source.id)
            continue
        try:
            state = _check(landing, source)
        except OSError as exc:
            log.append(("warning", f"landing: could not read {', '.join(source.files)} ({exc}); retrying next tick"))
            pending.append(source.id)
            continue
        states[source.id] = {"fp": fp, **state}
        if "problem" in state:
            message = (
                f"landing: skipping {state['problem']} (recorded in {QUARANTINE}; "
                "checked again when the file changes)"
            )
            log.append(("warning", message))
    if pending:
        log.append(("info", f"landing: {len(pending)} source(s) left for the next tick: {pending}"))

    # Which sources feed each partition; a failed source blocks every chamber it may feed.
    feeding: dict[tuple[str, str], list[LandingSource]] = {}
    for source in sources:
        state = states.get(source.id, {})
        chambers = state.get("chambers", source.chambers) if "problem" not in state else source.chambers
        for chamber in chambers:
            feeding.setdefault((source.session, chamber), []).append(source)

    runs: list[RunPlan] = []
    blocked: dict[str, list[str]] = {}
    new_runs = dict(previous.runs)
    for (session, chamber), feeders in sorted(feeding.items()):
        key = str(partition_key(session, chamber))
        bad = [s for s in feeders if "problem" in states.get(s.id, {})]
        if bad:
            for s in bad:
                blocked.setdefault(s.id, []).append(key)
            continue
        if any(s.id not in states for s in feeders):
            continue  # checked next tick, together
        digests = sorted((s.id, states[s.id]["digest"]) for s in feeders)
        inputs = digest(digests)[:32]
        last = previous.runs.get(key, {})
        if last.get("inputs") == inputs:
            continue
        new_key = run_key(key, digests, last.get("key"))
        new_runs[key] = {"key": new_key, "inputs": inputs}
        files = tuple(sorted(f for s in feeders for f in s.files))
        shas = {rel: sha for s in feeders for rel, sha in states[s.id].get("files", {}).items()}
        done = recorded(key)
        if done is not None and {(f.get("file"), f.get("sha256")) for f in done} == set(shas.items()):
            log.append(("info", f"landing: {key} is already materialized from these files and bytes; no run"))
            continue
        runs.append(RunPlan(session, chamber, new_key, files))

    problems = [{"files": [u.file], "problem": u.problem, "blocks": []} for u in unrecognized]
    problems += [
        {"files": list(s.files), "problem": states[s.id]["problem"], "blocks": blocked.get(s.id, [])}
        for s in sources
        if "problem" in states.get(s.id, {})
    ]
    listing = digest(problems)
    if listing != previous.listing:
        for u in unrecognized:
            log.append(("warning", f"landing: skipping {u.file}: {u.problem}"))
    new_sessions = sorted({r.session for r in runs} - set(known_sessions))
    cursor = Cursor(states, new_runs, listing)
    return Scan(cursor, runs, new_sessions, problems, listing != previous.listing, log, pending)

