"""Sample the hierarchical model with nutpie.

Two interchangeable backends compute the same log-density:
- "kernel" (default): the fused numba kernel in `irt_pipeline.stats.kernel`, handed to
  nutpie as C callbacks (`irt_pipeline.stats.callbacks`). Its machine code is cached
  on disk, so a partition costs no compilation after the first ever run.
- "pymc": the PyMC graph from `irt_pipeline.stats.model`, compiled by
  `nutpie.compile_pymc_model` (numba backend): the reference, slower per gradient and
  compiled anew for every partition.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import numpy as np

from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.model import (
    PARTY_DIM,
    REPORTED_VARS,
    HierarchicalLayout,
    build_hierarchical_model,
    item_logits,
    party_groups,
    start_values,
)


@dataclass(frozen=True)
class SamplerSettings:
    """nutpie settings. draws and tune are per chain."""

    chains: int = 4
    tune: int = 1000
    draws: int = 1500
    seed: int = 20240101
    backend: str = "kernel"
    low_rank_mass_matrix: bool = False
    centering: tuple[float, float] = (1.0, 1.0)  # w per party: 0 centered, 1 non-centered
    target_accept: float = 0.8
    cores: int | None = None  # None: min(chains, CPUs)

    def as_dict(self) -> dict:
        return asdict(self)


def _coords_dims(matrix: VoteMatrix):
    coords = {
        "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
        "party": PARTY_DIM,
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
    }
    dims = {
        "xi": ("legislator",),
        "mu_party": ("party",),
        "sigma_party": ("party",),
        "alpha": ("roll_call",),
        "beta": ("roll_call",),
    }
    return coords, dims


def prepare(matrix: VoteMatrix, pca: np.ndarray, centering):
    """The sampler's coordinates for this matrix, and the item estimates used for the
    starts: (layout, (alpha, beta))."""
    pca = np.asarray(pca, float)
    items = item_logits(matrix.votes, pca)
    groups = party_groups(matrix.legislators["party"])
    centering = np.asarray(centering, dtype=float).copy()
    layout = HierarchicalLayout(*matrix.shape, groups, centering)
    return layout, items


def compile_kernel_model(matrix: VoteMatrix, pca: np.ndarray, seed: int, centering):
    """A nutpie model over the numba kernel (as C callbacks), its data bound to this matrix."""
    from irt_pipeline.stats.callbacks import address, hierarchical_expand, hierarchical_logp, kernel_model

    votes = np.ascontiguousarray(matrix.signed_votes())
    layout, items = prepare(matrix, pca, centering)
    groups = np.ascontiguousarray(layout.groups, dtype=np.int64)
    weights = np.ascontiguousarray(layout.centering, dtype=np.float64)
    coords, dims = _coords_dims(matrix)

    def initial_point(chain_seed):
        rng = np.random.default_rng([seed, int(chain_seed)])
        return layout.unconstrained(start_values(pca, layout.groups, items, rng))

    n, m = votes.shape
    meta = np.array([address(votes), n, m, address(groups), address(weights)], dtype=np.int64)
    shapes = {"xi": (n,), "mu_party": (2,), "sigma_party": (2,), "alpha": (m,), "beta": (m,)}
    return kernel_model(
        hierarchical_logp, hierarchical_expand, meta, {"votes": votes, "groups": groups, "centering": weights},
        layout.ndim, {name: shapes[name] for name in REPORTED_VARS}, coords, dims, initial_point,
    )


def compile_pymc_backend(matrix: VoteMatrix, pca: np.ndarray, seed: int, centering):
    """nutpie's own compilation of the identified PyMC graph, with the same starts."""
    import nutpie

    layout, items = prepare(matrix, pca, centering)
    model = build_hierarchical_model(matrix, centering)
    x = layout.unconstrained(start_values(pca, layout.groups, items, np.random.default_rng(seed)))
    s = layout.slices()
    return nutpie.compile_pymc_model(
        model,
        backend="numba",
        initial_points={name: x[sl] for name, sl in s.items()},
        jitter_rvs={model["alpha"], model["beta"]},
        var_names=list(REPORTED_VARS),
    )


def nutpie_sample(compiled, settings: SamplerSettings, compile_seconds: float):
    """Sample a compiled model with nutpie under `settings`; `idata.attrs` records
    compile_seconds, sampling_seconds and the settings."""
    import nutpie

    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        chains=settings.chains,
        tune=settings.tune,
        draws=settings.draws,
        seed=settings.seed,
        cores=settings.cores,
        low_rank_modified_mass_matrix=settings.low_rank_mass_matrix,
        target_accept=settings.target_accept,
        progress_bar=False,
    )
    idata.attrs.update(
        compile_seconds=round(compile_seconds, 3),
        sampling_seconds=round(time.perf_counter() - start, 3),
        sampler_settings=json.dumps(settings.as_dict()),  # netCDF attrs hold no bools
    )
    return idata


def unknown_backend(backend: str) -> ValueError:
    return ValueError(f"unknown sampler backend {backend!r} (kernel or pymc)")


def sample_hierarchical(matrix: VoteMatrix, pca: np.ndarray, settings: SamplerSettings):
    """Posterior of the hierarchical model as ArviZ InferenceData.

    pca: (n_legislators,) oriented, standardized PCA scores in matrix row order.
    `idata.attrs` records compile_seconds, sampling_seconds and the settings.
    """
    pca = np.asarray(pca, float)
    start = time.perf_counter()
    if settings.backend == "kernel":
        compiled = compile_kernel_model(matrix, pca, settings.seed, settings.centering)
    elif settings.backend == "pymc":
        compiled = compile_pymc_backend(matrix, pca, settings.seed, settings.centering)
    else:
        raise unknown_backend(settings.backend)
    return nutpie_sample(compiled, settings, time.perf_counter() - start)
