"""What a model is, to the rest of the pipeline.

A model module (`hierarchical.py`, `flat.py`) holds everything about one model: its
priors table, its sampler coordinates and starts, its PyMC graph, its numba kernel and
C callbacks, the variables it reports and which of them the gates watch, and its
post-processing. It exports one `ModelSpec`; `stats/sampling.py` samples any spec the
same way, and the assets read the spec (gates, names) instead of model code.

A third model is one new module with a `SPEC` (registered in `models/__init__.py`) plus
its assets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from irt_pipeline.stats.callbacks import KernelData
from irt_pipeline.stats.priors import Prior


@dataclass(frozen=True)
class Bound:
    """A model bound to one vote matrix: what both sampler backends need.

    ndim: size of the unconstrained vector x the sampler moves; coordinates: name ->
    slice of x (in the order of the PyMC graph's value variables); reported: name ->
    shape of each variable the posterior holds, in the kernel's `expand` order; dims:
    name -> dimension names; coords: dimension -> labels; start(rng) -> one chain's
    (ndim,) start; kernel_data: what the callbacks read; layout: the model's own
    object for its graph and post-processing; attrs: what the posterior should record
    about this binding (e.g. which coordinates were chosen).
    """

    ndim: int
    coordinates: Mapping[str, slice]
    reported: Mapping[str, tuple[int, ...]]
    dims: Mapping[str, tuple[str, ...]]
    coords: Mapping[str, list]
    start: Callable[[np.random.Generator], np.ndarray]
    kernel_data: KernelData
    layout: object = None
    attrs: Mapping[str, str] = field(default_factory=dict)  # recorded in idata.attrs


@dataclass(frozen=True)
class ModelSpec:
    """One model, as the sampler and the assets see it.

    name: cache and metadata label; priors: the table (stats/priors.py); gated: gate
    group -> the reported variables its R-hat and ESS gates cover; bind(matrix, pca)
    -> Bound; graph(matrix, bound) -> the PyMC model in the sampler's coordinates (the
    reference the kernel is tested against); logp, expand: module-level functions with
    nutpie's C signatures (compiled on first use); postprocess(idata, bound) -> attrs
    to record (e.g. chains reoriented), may edit idata.posterior in place; scale: what
    the reported xi means; starts: the `pca_init` columns `bind` takes as its start
    scores (`start_scores`); max_draws_factor: the model's cap on kept draws per chain
    is this many times the sampler's `max_draws` (a model that mixes more slowly gets
    more room before its gates refuse it).
    """

    name: str
    priors: Mapping[str, Prior]
    gated: Mapping[str, tuple[str, ...]]
    bind: Callable
    graph: Callable
    logp: Callable
    expand: Callable
    scale: str
    postprocess: Callable = field(default=lambda idata, bound: {})
    jittered: tuple[str, ...] = ("alpha", "beta")  # graph variables nutpie jitters (pymc backend)
    starts: tuple[str, ...] = ("pc1",)
    max_draws_factor: int = 1

    def start_scores(self, pca: pd.DataFrame, legislator_ids=None) -> np.ndarray:
        """The start scores `bind` takes, from a `pca_scores` frame: (n,) for one column,
        (n, d) for several, in the order of `legislator_ids` (default: the frame's)."""
        if legislator_ids is not None:
            pca = pca.set_index("legislator_id").loc[list(legislator_ids)]
        values = pca[list(self.starts)].to_numpy(float)
        return values[:, 0] if values.shape[1] == 1 else values
