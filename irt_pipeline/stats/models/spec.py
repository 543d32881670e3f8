"""What a model is, to the rest of the pipeline.

A model module (`hierarchical.py`, `flat.py`, `two_dimensional.py`) holds everything about
one model: its priors table, its sampler coordinates and starts, its PyMC graph, its numba
kernels, the variables it reports and which of them the gates watch, and its
post-processing. It exports one `ModelSpec` as `SPEC`; `stats/sampling.py` samples any
spec the same way, and the Dagster layer builds the model's assets, gate checks, job, CLI
entry and rebuild hint from the spec alone (`irt_pipeline/assets/catalog.py`).

Adding a model is one module with a `SPEC` and one line in `models/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from irt_pipeline.stats.callbacks import KernelData, nutpie_callbacks
from irt_pipeline.stats.priors import Prior

STAGES = ("posterior", "diagnostics", "rankings", "posterior_predictive", "loo")


@dataclass(frozen=True)
class Bound:
    """A model bound to one vote matrix: what both sampler backends need.

    ndim: size of the unconstrained vector x the sampler moves; coordinates: name ->
    slice of x (in the order of the PyMC graph's value variables); reported: name ->
    shape of each variable the posterior holds, in the kernel's `expand` order; dims:
    name -> dimension names; coords: dimension -> labels; start(rng) -> one chain's
    (ndim,) start; kernel_data: what the callbacks read; layout: the model's own
    object for its graph and post-processing; attrs: what the posterior should record
    about this binding (e.g. which coordinates were chosen); orientation: (n,) the
    partition's orientation rule r (`stats/orientation.py`): every draw is put where
    r . xi >= 0 (None: draws are left as sampled).
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
    orientation: np.ndarray | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One model, as the sampler and the pipeline see it.

    Statistics: name: the label its posteriors record; priors: the table (stats/priors.py);
    gated: gate group -> the reported variables its R-hat and ESS gates cover;
    bind(matrix, start scores, orientation) -> Bound; graph(matrix, bound) -> the PyMC model in the
    sampler's coordinates (the reference the kernel is tested against); logp_grad,
    expand: the numba kernels (`stats/callbacks.py`'s calling convention), from which
    nutpie's C callbacks `logp` and `expand` are made; postprocess(idata, bound) ->
    attrs to record (e.g. chains reoriented), may edit idata.posterior in place;
    align_look(posterior): applied in place to every stopping-rule look's draws after
    the orientation rule's fold, the alignment postprocess applies to the posterior (so
    the looks judge the draws the gates judge; e.g. dim 2's sign per draw); scale:
    what the reported positions mean; starts: the `pca_init` columns `bind` takes as
    its start scores (`start_scores`); max_draws_factor: the model's cap on kept draws
    per chain is this many times the sampler's `max_draws` (a model that mixes more
    slowly gets more room before its gates refuse it); jittered: graph variables nutpie
    jitters (pymc backend); odd: the reported variables that change sign with xi (the
    likelihood's mirror image: xi -> -xi with beta and, where there is one, the party
    level's means), negated together in a draw put on the orientation rule's side;
    rebind(matrix, start scores, orientation, bound) -> Bound or None: the coordinates
    the sampler's retry after a divergence runs in (None: the same ones).

    Pipeline: key: the registry key and the CLI's `--model` value; title: one line for
    job and asset descriptions; version: the code version of its posterior asset (bump
    when its draws change meaning; the cache key also fingerprints the code); job: its
    job's name; prefix, suffix: its assets are named prefix + stage + suffix (`STAGES`:
    "flat_posterior", "rankings_2d"); beside_default: its job also runs the default
    model's chain and the verdicts between the two (the two-dimensional model and its
    dimensionality verdict); checked: it is run and compared with the default in the
    model checks (`irt-pipeline run --model both`).
    """

    name: str
    priors: Mapping[str, Prior]
    gated: Mapping[str, tuple[str, ...]]
    bind: Callable
    graph: Callable
    logp_grad: Callable
    expand_kernel: Callable
    scale: str
    key: str
    title: str
    version: str
    job: str
    prefix: str = ""
    suffix: str = ""
    beside_default: bool = False
    checked: bool = False
    postprocess: Callable = field(default=lambda idata, bound: {})
    align_look: Callable | None = None
    odd: tuple[str, ...] = ("xi", "beta")
    jittered: tuple[str, ...] = ("a", "beta")
    starts: tuple[str, ...] = ("pc1",)
    max_draws_factor: int = 1
    rebind: Callable | None = None
    logp: Callable = field(init=False, repr=False, compare=False)
    expand: Callable = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        logp, expand = nutpie_callbacks(self.logp_grad, self.expand_kernel)
        object.__setattr__(self, "logp", logp)
        object.__setattr__(self, "expand", expand)

    @property
    def module(self) -> str:
        """The module that defines the model (its kernels)."""
        return self.logp_grad.py_func.__module__

    def asset(self, stage: str) -> str:
        """The name of this model's asset of a stage (one of `STAGES`)."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r} (one of {STAGES})")
        return f"{self.prefix}{stage}{self.suffix}"

    def start_scores(self, pca: pd.DataFrame, legislator_ids=None) -> np.ndarray:
        """The start scores `bind` takes, from a `pca_scores` frame: (n,) for one column,
        (n, d) for several, in the order of `legislator_ids` (default: the frame's)."""
        if legislator_ids is not None:
            pca = pca.set_index("legislator_id").loc[list(legislator_ids)]
        values = pca[list(self.starts)].to_numpy(float)
        return values[:, 0] if values.shape[1] == 1 else values
