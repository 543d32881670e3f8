"""Sample the flat model with nutpie.

As for the hierarchical model (`irt_pipeline.stats.sampling`), two backends compute
the same log-density: "kernel" (default), the numba `flat_logp_grad` handed to nutpie
as C callbacks (`irt_pipeline.stats.callbacks`), and "pymc", nutpie's numba compilation of
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
    """A nutpie model over the numba kernel (as C callbacks), its data bound to this
    matrix; and its layout."""
    from irt_pipeline.stats.callbacks import address, flat_expand, flat_logp, kernel_model
    from irt_pipeline.stats.flat_model import ANCHOR_VALUES

    votes = np.ascontiguousarray(matrix.signed_votes())
    layout, v, items = prepare(matrix, pca, anchors)
    free = np.ascontiguousarray(layout.free, dtype=np.int64)
    anchor_rows = np.ascontiguousarray(layout.anchors, dtype=np.int64)
    anchor_values = np.ascontiguousarray(ANCHOR_VALUES, dtype=np.float64)
    coords, dims = _coords_dims(matrix)

    def initial_point(chain_seed):
        rng = np.random.default_rng([seed, int(chain_seed)])
        return layout.unconstrained(start_values(v, items, rng))

    n, m = votes.shape
    meta = np.array(
        [address(votes), n, m, address(free), len(free), address(anchor_rows), address(anchor_values),
         len(anchor_rows)],
        dtype=np.int64,
    )
    data = {"votes": votes, "free": free, "anchors": anchor_rows, "anchor_values": anchor_values}
    shapes = {"xi": (n,), "alpha": (m,), "beta": (m,)}
    compiled = kernel_model(
        flat_logp, flat_expand, meta, data, layout.ndim, {name: shapes[name] for name in REPORTED_VARS},
        coords, dims, initial_point,
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
