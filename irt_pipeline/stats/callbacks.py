"""The numba kernels handed to nutpie as C callbacks.

nutpie calls a model's log-density from its own sampler threads. Through
`nutpie.compiled_pyfunc.from_pyfunc` every call goes through Python and takes the
GIL, which with four chains on two cores cost about 0.1 ms per gradient, as much as the
kernel itself on a Kansas-House-sized chamber (bench/RESULTS.md). As C callbacks
(`numba.cfunc`, the way nutpie runs its own numba-compiled PyMC graphs) the calls never
touch Python.

The callbacks take their data from a small int64 array `meta` passed by address:
pointers to the arrays and their sizes, so one compiled callback (cached on disk)
serves every partition, and a new partition costs no compilation. `kernel_model`
keeps those arrays alive alongside the model.

Importing this module compiles the callbacks (or loads them from numba's cache):
import it where sampling starts, not at definitions load.
"""

from __future__ import annotations

import ctypes
from typing import Callable

import numba
import numpy as np
import pandas as pd
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from irt_pipeline.stats.kernel import flat_logp_grad, hierarchical_logp_grad
from irt_pipeline.stats.model import ANCHORS

# nutpie's C signatures (nutpie.compile_pymc): logp(dim, x, grad, logp, user_data) and
# expand(dim, n_expanded, x, out, user_data); 0 = success.
LOGP_SIGNATURE = types.int64(
    types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.CPointer(types.double), types.voidptr,
)
EXPAND_SIGNATURE = types.int64(
    types.uint64, types.uint64, types.CPointer(types.double), types.CPointer(types.double), types.voidptr,
)
_CFUNC = dict(nogil=True, cache=True, error_model="numpy")
_NOT_FINITE_LOGP, _NOT_FINITE_GRAD, _WRONG_SIZE = 4, 3, -1


@intrinsic
def _pointer(typingctx, address):
    """An int64 address as a void pointer."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@numba.njit(inline="always", **_CFUNC)
def _status(value, grad):
    if not np.isfinite(value):
        return _NOT_FINITE_LOGP
    for k in range(grad.shape[0]):
        if not np.isfinite(grad[k]):
            return _NOT_FINITE_GRAD
    return 0


# ------------------------------------------------------------ hierarchical model
# meta: [votes address, n, m, groups address, centering address]


@numba.cfunc(LOGP_SIGNATURE, **_CFUNC)
def hierarchical_logp(dim, x_, grad_, logp_, meta_):
    meta = numba.carray(meta_, (5,), np.int64)
    n, m = meta[1], meta[2]
    if dim != n + 2 + 2 * m:
        return _WRONG_SIZE
    x = numba.carray(x_, (dim,))
    grad = numba.carray(grad_, (dim,))
    votes = numba.carray(_pointer(meta[0]), (n, m), np.float64)
    groups = numba.carray(_pointer(meta[3]), (n,), np.int64)
    centering = numba.carray(_pointer(meta[4]), (2,), np.float64)
    value = hierarchical_logp_grad(x, grad, votes, groups, centering)
    numba.carray(logp_, (1,))[0] = value
    return _status(value, grad)


@numba.cfunc(EXPAND_SIGNATURE, **_CFUNC)
def hierarchical_expand(dim, n_expanded, x_, out_, meta_):
    """`HierarchicalLayout.reported` as one flat vector: xi (n), mu_party (2),
    sigma_party (2), alpha (m), beta (m)."""
    meta = numba.carray(meta_, (5,), np.int64)
    n, m = meta[1], meta[2]
    if dim != n + 2 + 2 * m or n_expanded != n + 4 + 2 * m:
        return _WRONG_SIZE
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (n_expanded,))
    groups = numba.carray(_pointer(meta[3]), (n,), np.int64)
    centering = numba.carray(_pointer(meta[4]), (2,), np.float64)
    v = np.empty(n)
    for i in range(n):
        g = groups[i]
        v[i] = ANCHORS[g] + np.exp(centering[g] * x[n + g]) * x[i] if g < 2 else x[i]
    center = v.mean()
    sd = np.sqrt(((v - center) ** 2).mean())
    for i in range(n):
        out[i] = (v[i] - center) / sd
    for g in range(2):
        out[n + g] = (ANCHORS[g] - center) / sd
        out[n + 2 + g] = np.exp(x[n + g]) / sd
    for k in range(2 * m):
        out[n + 4 + k] = x[n + 2 + k]
    return 0


# ------------------------------------------------------------ flat model
# meta: [votes address, n, m, free rows address, k free, anchor rows address,
#        anchor values address, a anchors]


@numba.cfunc(LOGP_SIGNATURE, **_CFUNC)
def flat_logp(dim, x_, grad_, logp_, meta_):
    meta = numba.carray(meta_, (8,), np.int64)
    n, m, k, a = meta[1], meta[2], meta[4], meta[7]
    if dim != k + 2 * m:
        return _WRONG_SIZE
    x = numba.carray(x_, (dim,))
    grad = numba.carray(grad_, (dim,))
    votes = numba.carray(_pointer(meta[0]), (n, m), np.float64)
    free = numba.carray(_pointer(meta[3]), (k,), np.int64)
    anchors = numba.carray(_pointer(meta[5]), (a,), np.int64)
    anchor_values = numba.carray(_pointer(meta[6]), (a,), np.float64)
    value = flat_logp_grad(x, grad, votes, free, anchors, anchor_values)
    numba.carray(logp_, (1,))[0] = value
    return _status(value, grad)


@numba.cfunc(EXPAND_SIGNATURE, **_CFUNC)
def flat_expand(dim, n_expanded, x_, out_, meta_):
    """`FlatLayout.reported` as one flat vector: xi (n), alpha (m), beta (m)."""
    meta = numba.carray(meta_, (8,), np.int64)
    n, m, k, a = meta[1], meta[2], meta[4], meta[7]
    if dim != k + 2 * m or n_expanded != n + 2 * m:
        return _WRONG_SIZE
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (n_expanded,))
    free = numba.carray(_pointer(meta[3]), (k,), np.int64)
    anchors = numba.carray(_pointer(meta[5]), (a,), np.int64)
    anchor_values = numba.carray(_pointer(meta[6]), (a,), np.float64)
    for i in range(a):
        out[anchors[i]] = anchor_values[i]
    for i in range(k):
        out[free[i]] = x[i]
    for j in range(2 * m):
        out[n + j] = x[k + j]
    return 0


# ------------------------------------------------------------ nutpie model


def address(array: np.ndarray) -> int:
    return int(array.ctypes.data)


def _doubles(array: np.ndarray):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def evaluate_logp(logp, meta: np.ndarray, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """(status, log-density, gradient) of the callback `logp` at x, called the way
    nutpie calls it; status 0 = finite value and gradient."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad, value = np.full_like(x, np.nan), np.full(1, np.nan)
    status = logp.ctypes(len(x), _doubles(x), _doubles(grad), _doubles(value), address(meta))
    return status, float(value[0]), grad


def kernel_model(
    logp, expand, meta: np.ndarray, data: dict[str, np.ndarray], ndim: int,
    shapes: dict[str, tuple[int, ...]], coords: dict, dims: dict, initial_point: Callable[[int], np.ndarray],
):
    """A nutpie model over C callbacks `logp` and `expand`.

    meta: int64 array the callbacks read (addresses and sizes of `data`); data: the
    arrays meta points into, kept alive with the model (C-contiguous, never written);
    shapes: the expanded variables in `expand`'s output order; initial_point(chain
    seed) -> (ndim,) start. nutpie's `CompiledPyMCModel` is the carrier: it is what
    nutpie builds around its own numba callbacks.

    The first chain's start goes through `logp` here, so a start outside the support
    fails with a message, not inside nutpie.
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    status, value, _ = evaluate_logp(logp, meta, initial_point(0))
    if status != 0:
        raise ValueError(f"the start has log-density {value}: not a valid starting point")

    names = list(shapes)
    return CompiledPyMCModel(
        _n_dim=ndim,
        dims=dims,
        _coords={name: pd.Index(values) for name, values in coords.items()},
        _shapes=dict(shapes),
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point,
        shared_data=data,
        user_data=meta,
        n_expanded=int(sum(np.prod(shape, dtype=int) for shape in shapes.values())),
        shape_info=(names, None, [shapes[name] for name in names]),
        logp_func=None,
        expand_func=None,
    )
