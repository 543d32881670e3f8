"""Counting what reads a folder: opens per file (Python's "open" audit event, whoever
opens it) and sha256 digests computed of its files' bytes. Used by test_landing.py and
bench/landing_reads.py."""

from __future__ import annotations

import hashlib
import os
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

# Opening a file raises Python's "open" audit event whoever opens it (builtins.open,
# io, os.open, fsspec, pandas), so the counts below hold for any reader. An audit hook
# cannot be removed: this one does nothing unless `watching` is on.
_WATCHERS: list[Callable[[str], None]] = []


def _audit(event, args):
    if _WATCHERS and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        for watcher in _WATCHERS:
            watcher(path)


sys.addaudithook(_audit)


@contextmanager
def watching(folder: Path, on_open: Callable[[str], None] = lambda rel: None):
    """Counts opens per file under `folder` (path relative to it), and sha256 digests
    computed (hashlib.new, which hashlib.file_digest uses, and hashlib.sha256) equal to
    the digest of a file there when watching started, per digest (two files with the
    same bytes share one: see `hashed`). `on_open(rel)` runs at each open, before the
    file is read."""
    prefix = str(folder) + "/"
    files = {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()}
    known = {sha256_of(p) for p in files.values()}
    counts = {"opens": Counter(), "hashes": Counter()}

    def opened(path: str) -> None:
        if path.startswith(prefix):
            counts["opens"][path[len(prefix):]] += 1
            on_open(path[len(prefix):])

    class Counted:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def update(self, data):
            self._inner.update(data)

        def hexdigest(self):
            out = self._inner.hexdigest()
            if out in known:
                counts["hashes"][out] += 1
            return out

        def digest(self):
            out = self._inner.digest()
            if out.hex() in known:
                counts["hashes"][out.hex()] += 1
            return out

    new, sha256 = hashlib.new, hashlib.sha256
    _WATCHERS.append(opened)
    hashlib.new = lambda name, *a, **k: Counted(new(name, *a, **k))
    hashlib.sha256 = lambda *a, **k: Counted(sha256(*a, **k))
    try:
        yield counts
    finally:
        hashlib.new, hashlib.sha256 = new, sha256
        _WATCHERS.remove(opened)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
