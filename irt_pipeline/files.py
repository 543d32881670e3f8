"""Writing and hashing files, the one way every module does it, on a local folder or
through UPath (s3:// through s3fs).

- `write_atomic(target, data)` / `replace_atomic(target, write)`: the new content goes
  to a hidden temporary name in the target's own folder (`.{name}.{uuid}.part`), is
  flushed to disk (local files), and only then renamed over the target. A write that
  fails half-way (full disk, killed process, an exception in `write`) leaves the old
  file as it was and removes the temporary file; readers never see a torn file.
  Locally the rename is `os.replace` (atomic on POSIX); on S3 an object appears whole
  or not at all, and fsspec's move is a copy then a delete.
- `staged(target)`: the same in two steps, for writers that must finish several files
  before any appears (the downloader moves a members file into place before its votes).
- `sha256_file(path)`: sha256 (hex) of a file's bytes, streamed; `sha256_bytes(data)`
  the same for bytes in memory (what is about to be written).
- `read_hashed(path)`: a file's bytes, read once into memory, with their sha256, for a
  reader that must record the digest of exactly the bytes it parsed (a file replaced
  between two reads would otherwise pair one version's rows with another's digest).

Hidden temporary names are ignored by the landing discovery (names starting with '.').
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def as_upath(path):
    """A UPath for a str, a pathlib.Path or a UPath (returned as is)."""
    from upath import UPath

    return path if isinstance(path, UPath) else UPath(str(path))


def _is_local(path) -> bool:
    protocol = getattr(path, "protocol", "") or ""
    return protocol in ("", "file", "local")


def _local(path) -> Path:
    return Path(path.path)


class Staged:
    """A temporary file beside `target`; `commit()` moves it over the target."""

    def __init__(self, target):
        self.target = as_upath(target)
        self.tmp = self.target.with_name(f".{self.target.name}.{uuid.uuid4().hex}.part")
        self.committed = False

    def commit(self) -> None:
        if _is_local(self.target):
            with open(_local(self.tmp), "rb+") as handle:  # on disk before the rename
                os.fsync(handle.fileno())
            os.replace(_local(self.tmp), _local(self.target))
        else:
            self.target.fs.mv(self.tmp.path, self.target.path)
        self.committed = True

    def discard(self) -> None:
        try:
            if self.tmp.exists():
                self.tmp.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def staged(target) -> Iterator[Staged]:
    """`with staged(target) as s:` write `s.tmp`, then `s.commit()`; whatever was not
    committed is removed on exit, and the target is untouched."""
    stage = Staged(target)
    try:
        yield stage
    finally:
        if not stage.committed:
            stage.discard()


def replace_atomic(target, write: Callable[[object], None]) -> None:
    """Write through `write(tmp)` (tmp: a UPath beside `target`), then move over `target`.
    An OSError (a full disk, say) is raised naming `target`, which is left as it was."""
    with staged(target) as stage:
        try:
            write(stage.tmp)
            stage.commit()
        except OSError as exc:
            raise OSError(exc.errno, f"could not write {target} ({exc.strerror or exc}); it was left as it was") from exc


def write_atomic(target, data: bytes | str) -> None:
    """`target` holds exactly `data` (str as UTF-8) or, if this fails, what it held before."""
    payload = data.encode() if isinstance(data, str) else data
    replace_atomic(target, lambda tmp: tmp.write_bytes(payload))


def sha256_file(path) -> str:
    """sha256 (64 hex digits) of the bytes of the file at `path` (str, Path or UPath)."""
    with as_upath(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_bytes(data: bytes) -> str:
    """sha256 (64 hex digits) of `data`: equal to `sha256_file` of a file holding it."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileBytes:
    """A file's bytes as read once, and their sha256. `str()` is the path it was read
    from (what messages name); `open("rb")` gives those bytes again from memory, so a
    reader written for paths (`path.open("rb")`) parses exactly the bytes hashed."""

    path: str
    data: bytes = field(repr=False)
    sha256: str

    def __str__(self) -> str:
        return self.path

    def open(self, mode: str = "rb") -> io.BytesIO:
        if mode != "rb":
            raise ValueError(f"{self.path}: bytes read into memory open as 'rb' only, not {mode!r}")
        return io.BytesIO(self.data)


def read_hashed(path) -> FileBytes:
    """The bytes of the file at `path` (str, Path or UPath), read in one pass, and their
    sha256. Memory: the whole file (the CSV and parquet readers hold it all anyway)."""
    path = as_upath(path)
    data = path.read_bytes()
    return FileBytes(str(path), data, sha256_bytes(data))
