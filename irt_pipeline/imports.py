"""Writing into the landing area for the importers (`irt-pipeline import ...`) and the
downloader (`irt-pipeline fetch ...`), without ever replacing a file they did not write.

The landing area holds the users' data. Every file these commands write there is
recorded in a ledger beside it, `{root}/imports/{file}.json`: the sha256 of each version
written, the command, the source files and when. Before anything is written, every
target of the command is looked at:

- absent: written ("written");
- holding the very bytes about to be written: left alone ("unchanged"), so an identical
  re-import or re-download is a no-op;
- holding bytes the ledger says this pipeline wrote there: replaced ("replaced"), so a
  re-import of updated source files updates its own output;
- anything else (a file the user dropped there, or one changed since it was written):
  the command is refused with a BadInput naming the file and what to do, and nothing is
  written, not even the command's other targets.

Files are written atomically (irt_pipeline.files). The ledger entry is written first,
so a command killed between the two leaves a landing file that is still recognized; a
write that fails puts the entry back as it was.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from irt_pipeline.errors import BadInput
from irt_pipeline.files import sha256_bytes, sha256_file, write_atomic

LEDGER = "imports"


@dataclass
class LandingWrite:
    """One file of the landing area written (or not) by an importer."""

    file: str  # path relative to the landing folder
    path: str
    sha256: str
    bytes: int
    status: str  # "written", "unchanged" or "replaced"


def ledger_path(landing, rel: str):
    return landing.parent / LEDGER / f"{rel}.json"


def _ledger(landing, rel: str) -> dict:
    path = ledger_path(landing, rel)
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except (ValueError, OSError):
        return {}  # an unreadable ledger entry vouches for nothing


def status_of(landing, rel: str, sha256: str, command: str) -> str:
    """What writing `sha256` to `landing/rel` would do: "written", "unchanged" or
    "replaced"; raises BadInput when the file there is not this pipeline's to replace."""
    target = landing / rel
    if not target.exists():
        return "written"
    if target.is_dir() or target.is_symlink():
        raise _refusal(target, command, "is a folder or a symbolic link")
    current = sha256_file(target)
    if current == sha256:
        return "unchanged"
    if current in _ledger(landing, rel).get("history", []):
        return "replaced"
    raise _refusal(target, command, "was not written by this command (or was changed since it was)")


def _refusal(target, command: str, why: str) -> BadInput:
    elsewhere = (
        f", or write under another name (`irt-pipeline {command} --session ...` picks another session key)"
        if command.startswith("import")
        else ""
    )
    return BadInput(
        str(target),
        f"a file of this name is already in the landing area and {why}: it is left as it is "
        f"and nothing was written. Move or rename it (it is your data){elsewhere}, then run "
        "the command again",
    )


def record(landing, rel: str, sha256: str, size: int, command: str, sources: list[str]) -> None:
    """Add `sha256` to the ledger of `landing/rel` (before the file itself is written)."""
    entry = _ledger(landing, rel)
    history = [h for h in entry.get("history", []) if h != sha256] + [sha256]
    path = ledger_path(landing, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(
        path,
        json.dumps(
            {
                "file": rel,
                "sha256": sha256,
                "bytes": size,
                "command": f"irt-pipeline {command}",
                "sources": [str(s) for s in sources],
                "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "history": history,
            },
            indent=2,
        ),
    )


def write_landing(landing, files: dict[str, bytes], command: str, sources: list[str]) -> list[LandingWrite]:
    """Write `files` ({relative path: bytes}) into `landing` as described above: every
    target is checked first, then each is recorded and written atomically."""
    planned = []
    for rel, data in files.items():
        sha = sha256_bytes(data)
        planned.append((rel, data, sha, status_of(landing, rel, sha, command)))
    landing.mkdir(parents=True, exist_ok=True)
    out = []
    for rel, data, sha, status in planned:
        target = landing / rel
        if status != "unchanged":
            with recorded(landing, rel, sha, len(data), command, sources):
                write_atomic(target, data)
        out.append(LandingWrite(rel, str(target), sha, len(data), status))
    return out


@contextmanager
def recorded(landing, rel: str, sha256: str, size: int, command: str, sources: list[str]):
    """`record` the write the block makes; if the block fails, the ledger entry is put
    back as it was (the landing file is then unchanged too)."""
    path = ledger_path(landing, rel)
    before = path.read_bytes() if path.exists() else None
    record(landing, rel, sha256, size, command, sources)
    try:
        yield
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, before)
        raise


def summary(writes: list[LandingWrite]) -> list[dict]:
    return [asdict(w) for w in writes]
