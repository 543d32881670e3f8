"""numba compilation with an on-disk cache that can never run stale code.

numba's own cache (`cache=True`) keys a compiled function by its own source file and
bytecode only: a kernel that inlines functions from another file (the model kernels
inline `stats/kernel.py`) keeps loading its old machine code after that other file
changes. Here every cached function lives under a folder named after a fingerprint of
*all* the statistics sources (`irt_pipeline/stats/**.py`) and the numba and llvmlite
versions, so an edit anywhere there, or an upgrade, compiles afresh into a new folder.

The folder is `$IRT_PIPELINE_KERNEL_CACHE/<fingerprint>`, default
`~/.cache/irt_pipeline/kernels/<fingerprint>` (`$XDG_CACHE_HOME` is honoured). numba
picks a function's cache location when the function is decorated, so `njit` and
`cfunc` below point numba at that folder just for the decoration; nothing else in the
process (PyMC's own numba code, say) is redirected.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import llvmlite
import numba

STATS = Path(__file__).resolve().parent
JIT_OPTIONS = dict(fastmath=True, error_model="numpy", nogil=True)


def source_fingerprint(paths) -> str:
    """sha256 (16 hex) of the given source files (name and bytes, in sorted order) and
    of the numba and llvmlite versions."""
    digest = hashlib.sha256(f"numba {numba.__version__} llvmlite {llvmlite.__version__}".encode())
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


KERNEL_FINGERPRINT = source_fingerprint(STATS.rglob("*.py"))


def cache_dir() -> Path:
    base = os.environ.get("IRT_PIPELINE_KERNEL_CACHE")
    if base is None:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "irt_pipeline" / "kernels"
    return Path(base) / KERNEL_FINGERPRINT


@contextlib.contextmanager
def _cache_location():
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(cache_dir())
    try:
        yield
    finally:
        numba.config.CACHE_DIR = previous


def njit(function=None, **options):
    """`numba.njit` with the project's options and the fingerprinted cache."""

    def decorate(fn):
        with _cache_location():
            return numba.njit(cache=True, **{**JIT_OPTIONS, **options})(fn)

    return decorate if function is None else decorate(function)


def cfunc(signature, function):
    """`numba.cfunc(signature)` of a module-level function, compiled now (or loaded from
    the fingerprinted cache). Call it where sampling starts, not at import."""
    with _cache_location():
        return numba.cfunc(signature, cache=True, nogil=True, error_model="numpy")(function)
