"""Sample the flat model with nutpie.

As for the hierarchical model (`irt_pipeline.stats.sampling`), two backends compute
the same log-density: "kernel" (default), the numba `flat_logp_grad` handed to nutpie
through `nutpie.compiled_pyfunc.from_pyfunc`, and "pymc", nutpie's numba compilation of
`build_flat_model`. Settings are the hierarchical model's `SamplerSettings` (its
`centering` does not apply here).
"""

from __future__ import annotations

import time

import numpy as np

from irt_pipeline.stats.flat_model import (
    REPORTED_VARS,
    FlatLayout,
    anchored_from_pca,
    build_flat_model,
    choose_anchors,
    orient_chains,
    start_values,
)
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.model import item_logits
from irt_pipeline.stats.pca import orient
from irt_pipeline.stats.sampling import SamplerSettings, nutpie_sample, unknown_backend


def prepare(matrix: VoteMatrix, pca: np.ndarray, anchors=None):
    """(layout, anchored start positions v (n,), item starts (alpha, beta)).

    pca: (n,) PCA scores in matrix row order, oriented here against party (positive =
    conservative) so that a reflected input gives the same start. anchors: (2,) rows,
    default `choose_anchors`.
    """
    pca = orient(np.asarray(pca, float), matrix.legislators["party"])
    anchors = choose_anchors(matrix, pca) if anchors is None else np.asarray(anchors, np.int64)
    layout = FlatLayout(*matrix.shape, anchors)
    v = anchored_from_pca(pca, anchors)
    return layout, v, item_logits(matrix.votes, v)


def _coords_dims(matrix: VoteMatrix):
    coords = {
        "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
    }
    dims = {"xi": ("legislator",), "alpha": ("roll_call",), "beta": ("roll_call",)}
    return coords, dims


def compile_flat_kernel_model(matrix: VoteMatrix, pca: np.ndarray, seed: int, anchors=None):
    """A nutpie model over the numba kernel, its data bound to this matrix; and its layout."""
    from nutpie.compiled_pyfunc import from_pyfunc

    from irt_pipeline.stats.flat_model import ANCHOR_VALUES
    from irt_pipeline.stats.kernel import flat_logp_grad

    votes = np.ascontiguousarray(matrix.signed_votes())
    layout, v, items = prepare(matrix, pca, anchors)
    free, anchor_rows = layout.free, np.ascontiguousarray(layout.anchors)
    coords, dims = _coords_dims(matrix)

    def make_logp_fn():
        def logp(x, **_):
            grad = np.empty_like(x)
            return flat_logp_grad(x, grad, votes, free, anchor_rows, ANCHOR_VALUES), grad

        return logp

    def make_expand_fn(seed1, seed2, chain):
        def expand(x, **_):
            return layout.reported(x)

        return expand

    def make_initial_point(chain_seed):
        rng = np.random.default_rng([seed, int(chain_seed)])
        return layout.unconstrained(start_values(v, items, rng))

    # Compile the kernel now (or load it from numba's disk cache), as for the
    # hierarchical model: compile time counted as such, a bad start caught here.
    value, grad = make_logp_fn()(make_initial_point(0))
    if not (np.isfinite(value) and np.isfinite(grad).all()):
        raise ValueError(f"the start has log-density {value}: not a valid starting point")

    n, m = votes.shape
    shapes = {"xi": (n,), "alpha": (m,), "beta": (m,)}
    compiled = from_pyfunc(
        layout.ndim,
        make_logp_fn,
        make_expand_fn,
        [np.dtype("float64")] * len(REPORTED_VARS),
        [shapes[name] for name in REPORTED_VARS],
        list(REPORTED_VARS),
        coords=coords,
        dims=dims,
        make_initial_point_fn=make_initial_point,
    )
    return compiled, layout


def compile_flat_pymc_backend(matrix: VoteMatrix, pca: np.ndarray, seed: int, anchors=None):
    """nutpie's own compilation of `build_flat_model`, with the same start; and the layout."""
    import nutpie

    layout, v, items = prepare(matrix, pca, anchors)
    model = build_flat_model(matrix, layout.anchors)
    x = layout.unconstrained(start_values(v, items, np.random.default_rng(seed)))
    compiled = nutpie.compile_pymc_model(
        model,
        backend="numba",
        initial_points={name: x[sl] for name, sl in layout.slices().items()},
        jitter_rvs={model["alpha"], model["beta"]},
        var_names=list(REPORTED_VARS),
    )
    return compiled, layout


def sample_flat(matrix: VoteMatrix, pca: np.ndarray, settings: SamplerSettings, anchors=None):
    """Posterior of the flat model as ArviZ InferenceData, oriented chain by chain.

    pca: (n,) PCA scores in matrix row order. xi is on the anchored scale (the anchors
    at +1 and -1). `idata.attrs` records the anchors' ids, the reflected chains,
    compile_seconds, sampling_seconds and the settings.
    """
    start = time.perf_counter()
    if settings.backend == "kernel":
        compiled, layout = compile_flat_kernel_model(matrix, pca, settings.seed, anchors)
    elif settings.backend == "pymc":
        compiled, layout = compile_flat_pymc_backend(matrix, pca, settings.seed, anchors)
    else:
        raise unknown_backend(settings.backend)
    idata = nutpie_sample(compiled, settings, time.perf_counter() - start)
    orient_chains(idata, matrix.legislators["party"].to_numpy())
    ids = matrix.legislators["legislator_id"].astype(str).to_numpy()
    idata.attrs.update(
        model="flat",
        xi_scale="anchored: conservative anchor +1, liberal anchor -1",
        anchor_conservative=str(ids[layout.anchors[0]]),
        anchor_liberal=str(ids[layout.anchors[1]]),
    )
    return idata
