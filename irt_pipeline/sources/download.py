"""Downloading Voteview's per-Congress files into the landing area.

`{base}/static/data/out/votes/{S|H}{NNN}_votes.csv` and
`{base}/static/data/out/members/{S|H}{NNN}_members.csv` (NNN zero-padded to three
digits), base `https://voteview.com` unless IRT_PIPELINE_VOTEVIEW_URL or an explicit
base says otherwise (http://, https:// or file://).

Each file streams to a hidden temporary name in the landing folder (which the landing
discovery ignores; irt_pipeline.files) with its byte count and header checked, and is
moved into place only when both are complete: the members file first, then the votes
file, so the landing sensor never sees a partial file or a votes file without its
members. A file identical to the one already in landing is left untouched; a different
file there that this command did not write is never replaced (irt_pipeline.imports).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass

from irt_pipeline.errors import BadInput
from irt_pipeline.files import staged

DEFAULT_BASE_URL = "https://voteview.com"
BASE_URL_ENV = "IRT_PIPELINE_VOTEVIEW_URL"
CHUNK_BYTES = 1 << 16
HEADERS = {
    "votes": ("congress", "chamber", "rollnumber", "icpsr", "cast_code"),
    "members": ("congress", "chamber", "icpsr", "party_code", "bioname"),
}
PREFIXES = {"senate": "S", "house": "H"}


def base_url(explicit: str | None = None) -> str:
    return (explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def voteview_urls(congress: int, chamber: str, base: str) -> dict[str, str]:
    """{'members': url, 'votes': url} of one Congress and chamber ('senate'/'house')."""
    if chamber.lower() not in PREFIXES:
        raise BadInput("--chamber", f"unknown chamber {chamber!r}; use 'senate' or 'house'")
    if not 1 <= int(congress) <= 999:
        raise BadInput("--congress", f"Congress number {congress} outside 1-999")
    stem = f"{PREFIXES[chamber.lower()]}{int(congress):03d}"
    return {
        kind: f"{base}/static/data/out/{kind}/{stem}_{kind}.csv" for kind in ("members", "votes")
    }


@dataclass
class Downloaded:
    url: str
    target: str
    bytes: int
    sha256: str
    status: str = "written"  # "unchanged" or "replaced" (irt_pipeline.imports)


def _stream(url: str, tmp, kind: str, progress: bool, timeout: float) -> tuple[int, str]:
    """Copy `url` into the (landing) path `tmp`; returns (bytes, sha256)."""
    from tqdm import tqdm

    digest = hashlib.sha256()
    written = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length else None
            with tmp.open("wb") as out, tqdm(
                total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                disable=not progress, file=sys.stderr, mininterval=0.5,
            ) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    if written == 0:
                        _check_header(url, chunk, kind)
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise BadInput(url, f"HTTP {exc.code} {exc.reason}: no such file here (check --congress, "
                            f"--chamber and the base URL)") from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise BadInput(url, f"download failed ({type(exc).__name__}: {exc}); nothing was written "
                            "to the landing area") from None
    if total is not None and written != total:
        raise BadInput(url, f"download stopped after {written} of {total} bytes; nothing was written "
                            "to the landing area")
    if written == 0:
        raise BadInput(url, "the server sent an empty file")
    return written, digest.hexdigest()


def _check_header(url: str, chunk: bytes, kind: str) -> None:
    first = chunk.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower()
    columns = [c.strip().strip('"') for c in first.split(",")]
    missing = [c for c in HEADERS[kind] if c not in columns]
    if missing:
        raise BadInput(url, f"not a Voteview {kind} file: header lacks {missing} (got {first[:80]!r})")


def fetch_voteview(
    congress: int, chamber: str, landing, base: str | None = None,
    progress: bool = True, timeout: float = 60.0,
) -> list[Downloaded]:
    """Download one Congress's members and votes files into `landing` (a UPath)."""
    from irt_pipeline import imports

    urls = voteview_urls(congress, chamber, base_url(base))
    command = "fetch voteview"
    landing.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        downloads = []
        for kind, url in urls.items():
            target = landing / url.rsplit("/", 1)[-1]
            stage = stack.enter_context(staged(target))
            size, sha = _stream(url, stage.tmp, kind, progress, timeout)
            info = Downloaded(url, str(target), size, sha)
            info.status = imports.status_of(landing, target.name, sha, command)
            downloads.append((stage, info))
        for stage, info in downloads:  # members first, then votes
            if info.status != "unchanged":
                with imports.recorded(landing, stage.target.name, info.sha256, info.bytes, command, [info.url]):
                    stage.commit()
        return [info for _, info in downloads]
