"""Model kernels handed to nutpie as C callbacks.

nutpie calls a model's log-density from its own sampler threads. Through
`nutpie.compiled_pyfunc.from_pyfunc` every call goes through Python and takes the
GIL, which with four chains on two cores cost about 0.1 ms per gradient, as much as the
kernel itself on a Kansas-House-sized chamber (bench/RESULTS.md). As C callbacks
(`numba.cfunc`, the way nutpie runs its own numba-compiled PyMC graphs) the calls never
touch Python.

Every model's kernels have one calling convention:

    logp_grad(x, grad, votes, ints, floats) -> log-density   (writes grad)
    expand(x, out, votes, ints, floats)                       (writes the reported values)

with votes (n, m) float32 (+1 Yea, -1 Nay, 0 missing), `ints` and `floats` 1-D arrays of
the model's constants (party groups, prior parameters ...). `nutpie_callbacks` turns a
model's two kernels into nutpie's two C signatures; the callbacks find the data through
a small int64 array `meta` passed by address (`KernelData.meta`), so one compiled
callback serves every partition and a new partition costs no compilation.

The carrier is nutpie's `CompiledPyMCModel`, the dataclass nutpie builds around its own
numba callbacks; it is not public API. nutpie is pinned (pyproject.toml) and
`irt_pipeline_tests/test_callbacks.py::test_nutpie_carrier_samples_the_callbacks`
constructs it and samples through it: run that test when raising the pin (nutpie
0.16.9 adds a required field, `shared_var_keys`, filled below when present).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import hashlib
import importlib
import logging
import os
import subprocess
import sys
import types as pytypes
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from irt_pipeline.stats import jit

# nutpie's C signatures (nutpie.compile_pymc): logp(dim, x, grad, logp, user_data) and
# expand(dim, n_expanded, x, out, user_data); 0 = success.
LOGP_SIGNATURE = types.int64(
    types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.CPointer(types.double), types.voidptr,
)
EXPAND_SIGNATURE = types.int64(
    types.uint64, types.uint64, types.CPointer(types.double), types.CPointer(types.double), types.voidptr,
)
NOT_FINITE_LOGP, NOT_FINITE_GRAD, WRONG_SIZE = 4, 3, -1
# meta: [ndim, n_expanded, n, m, votes address, ints address, len ints, floats address, len floats]
META_SIZE = 9


@intrinsic
def _pointer(typingctx, address):
    """An int64 address as a void pointer."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@jit.njit(inline="always")
def _data(meta_):
    meta = numba.carray(meta_, (META_SIZE,), np.int64)
    votes = numba.carray(_pointer(meta[4]), (meta[2], meta[3]), np.float32)
    ints = numba.carray(_pointer(meta[5]), (meta[6],), np.int64)
    floats = numba.carray(_pointer(meta[7]), (meta[8],), np.float64)
    return meta, votes, ints, floats


@jit.njit(inline="always")
def logp_arguments(dim, x_, grad_, meta_):
    """(sizes agree, x, grad, votes, ints, floats) of a logp call."""
    meta, votes, ints, floats = _data(meta_)
    return dim == meta[0], numba.carray(x_, (dim,)), numba.carray(grad_, (dim,)), votes, ints, floats


@jit.njit(inline="always")
def expand_arguments(dim, n_expanded, x_, out_, meta_):
    """(sizes agree, x, out, votes, ints, floats) of an expand call."""
    meta, votes, ints, floats = _data(meta_)
    ok = dim == meta[0] and n_expanded == meta[1]
    return ok, numba.carray(x_, (dim,)), numba.carray(out_, (n_expanded,)), votes, ints, floats


@jit.njit(inline="always")
def finish(value, grad, logp_):
    """Store the log-density for nutpie; 0 when it and the gradient are finite."""
    numba.carray(logp_, (1,))[0] = value
    if not np.isfinite(value):
        return NOT_FINITE_LOGP
    for k in range(grad.shape[0]):
        if not np.isfinite(grad[k]):
            return NOT_FINITE_GRAD
    return 0


def _logp_shim(dim, x_, grad_, logp_, meta_):
    ok, x, grad, votes, ints, floats = logp_arguments(dim, x_, grad_, meta_)
    return finish(logp_grad(x, grad, votes, ints, floats), grad, logp_) if ok else WRONG_SIZE  # noqa: F821


def _expand_shim(dim, n_expanded, x_, out_, meta_):
    ok, x, out, votes, ints, floats = expand_arguments(dim, n_expanded, x_, out_, meta_)
    if ok:
        expand(x, out, votes, ints, floats)  # noqa: F821
    return 0 if ok else WRONG_SIZE


def nutpie_callbacks(logp_grad, expand) -> tuple[Callable, Callable]:
    """nutpie's two C callbacks (Python functions for `compiled`) of a model's kernels
    `logp_grad` and `expand` (njit functions of the calling convention above).

    Each is the shim above with the model's kernel as a global, made as if written in
    the kernels' own module (its name, file and qualified name there): numba keys its
    on-disk cache by a function's file and qualified name and checks that file's
    timestamp, so every model's callbacks have cache entries of their own, rebuilt when
    its module changes. (A closure over the kernel would not do: numba keys a closure's
    cache entry by its pickled cell contents, which differ in every process.)"""
    module = sys.modules[logp_grad.py_func.__module__]

    def shim(template, name: str, **kernels):
        code = template.__code__.replace(co_name=name, co_qualname=name, co_filename=module.__file__)
        function = pytypes.FunctionType(code, {**globals(), **kernels}, name)
        function.__module__, function.__qualname__ = module.__name__, name
        return function

    return (shim(_logp_shim, "nutpie_logp", logp_grad=logp_grad),
            shim(_expand_shim, "nutpie_expand", expand=expand))


@functools.cache
def compiled(function: Callable, expand: bool = False):
    """The C callback of a model's module-level `function` (logp or expand signature),
    loaded from the on-disk cache (`stats/jit.py`), which a child process fills first.

    Why a child: in the process that compiles them, the kernels' results can differ in
    the last bit from those of the cached code every later process loads (numba links
    the freshly compiled callees), so the first run on a machine would draw differently
    from every rerun. Compiled elsewhere, every sampling process runs the same code and a
    rerun with the same seed reproduces its draws exactly."""
    _compile_in_child(function.__module__)
    signature = EXPAND_SIGNATURE if expand else LOGP_SIGNATURE
    callback = jit.cfunc(signature, function)
    if not callback.cache_hits:
        # Compiled here after all (the child failed, or another process was rewriting the
        # cache): the cache now holds the code every later process runs; this process
        # loads it back, but linked to the callees it compiled itself, its results can
        # differ from theirs in the last bit (seen: 1 ulp of the log-density).
        callback = jit.cfunc(signature, function)
        log.warning("kernels: %s compiled in this process; its draws may differ in the last bits from a "
                    "rerun's (later processes load the cached code)", function.__qualname__)
    return callback


_CHILD = "IRT_PIPELINE_KERNEL_CHILD"
log = logging.getLogger(__name__)


def _marker(module: str):
    # numba keeps each source folder's cache apart, so a copy of the package elsewhere
    # (a fresh clone) is compiled by its own children too
    folder = hashlib.sha256(str(jit.STATS).encode()).hexdigest()[:12]
    return jit.cache_dir() / f"compiled-{folder}-{module}"


_children: dict[str, list[subprocess.Popen]] = {}


def start_compiling(module: str) -> None:
    """Start compiling the callbacks of the model defined in `module` in child processes
    (only that model's: a partition pays for the model it samples), logp and expand at
    once, one child each; `compiled` waits for them. A no-op once they are cached."""
    if module in _children or _marker(module).exists() or os.environ.get(_CHILD):
        return
    code = "from irt_pipeline.stats.callbacks import compile_module; compile_module({!r}, {!r})"
    # the folder the module was imported from, so that the child imports the same one
    root = Path(sys.modules[module].__file__).parents[module.count(".")]
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)
    _children[module] = [
        subprocess.Popen(
            [sys.executable, "-c", code.format(module, part)],
            env={**os.environ, _CHILD: "1", "PYTHONPATH": path}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        for part in ("logp", "expand")
    ]


@functools.cache
def _compile_in_child(module: str) -> None:
    """Wait for the children of `start_compiling` (started now if not yet)."""
    start_compiling(module)
    children = _children.pop(module, [])
    errors = [child.communicate()[1] for child in children]
    failed = [error for child, error in zip(children, errors) if child.returncode != 0]
    if failed:  # compile here instead: correct, only not bit-reproducible
        log.warning("kernels: compiling in a child process failed (%s); compiling here", failed[0][-500:])
        return
    if children:
        _marker(module).touch()


def compile_module(module: str, part: str | None = None) -> None:
    """Compile the callbacks of the model whose module `module` defines `SPEC` into the
    on-disk cache: both, or only part "logp" or "expand"."""
    spec = importlib.import_module(module).SPEC
    if part in (None, "logp"):
        compiled(spec.logp)
    if part in (None, "expand"):
        compiled(spec.expand, expand=True)


def address(array: np.ndarray) -> int:
    return int(array.ctypes.data)


@dataclasses.dataclass(frozen=True)
class KernelData:
    """What a model's callbacks read, kept alive with the nutpie model.

    votes: (n, m) float32, C order, +1 Yea, -1 Nay, 0 missing (the likelihood loop's
    layout, `kernel.twopl_loglik`); ints, floats: the model's constants (1-D,
    C-contiguous, never written).
    """

    votes: np.ndarray
    ints: np.ndarray
    floats: np.ndarray

    @classmethod
    def of(cls, votes, ints, floats) -> KernelData:
        return cls(
            np.ascontiguousarray(votes, dtype=np.float32),
            np.ascontiguousarray(np.atleast_1d(ints), dtype=np.int64),
            np.ascontiguousarray(np.atleast_1d(floats), dtype=np.float64),
        )

    def meta(self, ndim: int, n_expanded: int) -> np.ndarray:
        n, m = self.votes.shape
        return np.array(
            [ndim, n_expanded, n, m, address(self.votes), address(self.ints), len(self.ints),
             address(self.floats), len(self.floats)],
            dtype=np.int64,
        )


def _doubles(array: np.ndarray):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def evaluate_logp(logp, meta: np.ndarray, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """(status, log-density, gradient) of the callback `logp` at x, called the way
    nutpie calls it; status 0 = finite value and gradient."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad, value = np.full_like(x, np.nan), np.full(1, np.nan)
    status = logp.ctypes(len(x), _doubles(x), _doubles(grad), _doubles(value), address(meta))
    return status, float(value[0]), grad


def evaluate_expand(expand, meta: np.ndarray, x: np.ndarray, n_expanded: int) -> tuple[int, np.ndarray]:
    """(status, expanded values) of the callback `expand` at x, called as nutpie does."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.full(n_expanded, np.nan)
    return expand.ctypes(len(x), n_expanded, _doubles(x), _doubles(out), address(meta)), out


def kernel_model(
    logp, expand, kernel_data: KernelData, ndim: int, shapes: dict[str, tuple[int, ...]],
    coords: dict, dims: dict, initial_point: Callable[[int], np.ndarray],
):
    """A nutpie model over C callbacks `logp` and `expand` (from `compiled`).

    shapes: the expanded variables in `expand`'s output order; initial_point(chain
    seed) -> (ndim,) start. The first chain's start goes through `logp` here, so a
    start outside the support fails with a message, not inside nutpie.
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    n_expanded = int(sum(np.prod(shape, dtype=int) for shape in shapes.values()))
    meta = kernel_data.meta(ndim, n_expanded)
    status, value, _ = evaluate_logp(logp, meta, initial_point(0))
    if status != 0:
        raise ValueError(f"the start has log-density {value}: not a valid starting point")

    names = list(shapes)
    fields = dict(
        _n_dim=ndim,
        dims=dims,
        _coords={name: pd.Index(values) for name, values in coords.items()},
        _shapes=dict(shapes),
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point,
        # the very arrays meta points into (asdict would copy them)
        shared_data={f.name: getattr(kernel_data, f.name) for f in dataclasses.fields(kernel_data)},
        user_data=meta,
        n_expanded=n_expanded,
        shape_info=(names, None, [shapes[name] for name in names]),
        logp_func=None,
        expand_func=None,
    )
    if "shared_var_keys" in {f.name for f in dataclasses.fields(CompiledPyMCModel)}:
        fields["shared_var_keys"] = []  # nutpie >= 0.16.9: no PyTensor shared variables here
    return CompiledPyMCModel(**fields)
