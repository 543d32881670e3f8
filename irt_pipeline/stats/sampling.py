"""Sample any model (`stats/models/`) with nutpie: one path for every model.

Two interchangeable backends compute the same log-density:
- "kernel" (default): the model's fused numba kernel, handed to nutpie as C callbacks
  (`stats/callbacks.py`). Its machine code is cached on disk (`stats/jit.py`), so a
  partition costs no compilation after the first ever run.
- "pymc": the model's PyMC graph, compiled by `nutpie.compile_pymc_model` (numba
  backend): the reference, slower per gradient and compiled anew for every partition.

Either way the chains run until every gate passes with a margin (`stats/stopping.py`),
and the posterior comes back with the legislators' names and parties
as constant data, the model's post-processing applied (e.g. chains oriented), and a
record of the model, its priors, the settings and the timings in `idata.attrs`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from irt_pipeline.stats.codebase import closure, files_of
from irt_pipeline.stats.jit import source_fingerprint
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.orientation import fold_draws
from irt_pipeline.stats.priors import describe

BACKENDS = ("kernel", "pymc")


def code_fingerprint(spec: ModelSpec) -> str:
    """Fingerprint of the code that turns inputs into this model's draws (part of the
    posterior cache key): the sources of the model's module and of this module, and of
    every module of the package they import, transitively (`stats/codebase.py`:
    computed from the import statements, so a new dependency is covered the day it is
    imported), and the numba and llvmlite versions."""
    return source_fingerprint(files_of(closure([spec.module, __name__])))


@dataclass(frozen=True)
class SamplerSettings:
    """nutpie settings and the stopping rule (`stats/stopping.py`), per chain.

    After `tune` tuning draws, the chains are judged after `draws` kept draws and every
    `block` draws after that, and stop at the first look that clears every gate with a
    margin, or at `max_draws`. A divergence restarts the sampling once with
    `retry_target_accept` (smaller steps), in the model's other coordinates where it has
    them (`ModelSpec.rebind`). cores: chains run at once (None: all).
    """

    chains: int = 4
    tune: int = 300  # nutpie's default; 1,000 measured no better (bench/RESULTS.md, docs/models.md)
    draws: int = 500
    block: int = 250
    max_draws: int = 4000
    seed: int = 20240101
    backend: str = "kernel"
    low_rank_mass_matrix: bool = False
    target_accept: float = 0.8
    retry_target_accept: float = 0.95
    cores: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def model_settings(spec: ModelSpec, settings: SamplerSettings) -> SamplerSettings:
    """`settings` as `spec` is sampled with: its cap `spec.max_draws_factor` times
    `settings.max_draws` (what the posterior records as its sampler settings)."""
    return replace(settings, max_draws=settings.max_draws * spec.max_draws_factor)


def initial_point_function(bound: Bound, seed: int):
    """chain seed -> that chain's start (seeded by the run seed and the chain)."""
    return lambda chain_seed: bound.start(np.random.default_rng([seed, int(chain_seed)]))


def compile_kernel(spec: ModelSpec, bound: Bound, seed: int):
    """A nutpie model over the model's numba kernel, as C callbacks."""
    from irt_pipeline.stats import callbacks

    return callbacks.kernel_model(
        callbacks.compiled(spec.logp), callbacks.compiled(spec.expand, expand=True), bound.kernel_data,
        bound.ndim, dict(bound.reported), dict(bound.coords), dict(bound.dims), initial_point_function(bound, seed),
    )


def graph_start(model, bound: Bound, x: np.ndarray) -> dict:
    """x (the sampler's coordinates, named as the graph's value variables) as the
    untransformed values PyMC's initial points take, by the graph's own transforms."""
    start = {}
    for rv in model.free_RVs:
        value = x[bound.coordinates[model.rvs_to_values[rv].name]]
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.backward(value, *rv.owner.inputs).eval()
        start[rv.name] = np.asarray(value).reshape(()) if rv.type.ndim == 0 else np.asarray(value)
    return start


def compile_graph(spec: ModelSpec, matrix: VoteMatrix, bound: Bound, seed: int):
    """nutpie's own compilation of the model's PyMC graph, from the same start."""
    import nutpie

    model = spec.graph(matrix, bound)
    x = initial_point_function(bound, seed)(0)
    return nutpie.compile_pymc_model(
        model,
        backend="numba",
        initial_points=graph_start(model, bound, x),
        jitter_rvs={model[name] for name in spec.jittered},
        var_names=list(bound.reported),
    )


def constant_data(matrix: VoteMatrix):
    """The legislators' names and parties on the `legislator` coordinate (xarray)."""
    import xarray as xr

    legislators = matrix.legislators.set_index("legislator_id")
    return xr.Dataset(
        {
            "legislator_name": ("legislator", legislators["legislator_name"].astype(str).to_numpy()),
            "party": ("legislator", legislators["party"].astype(str).to_numpy()),
        },
        coords={"legislator": legislators.index.astype(str).to_numpy()},
    )


def _compile(spec: ModelSpec, matrix: VoteMatrix, bound: Bound, settings: SamplerSettings):
    if settings.backend == "kernel":
        return compile_kernel(spec, bound, settings.seed)
    return compile_graph(spec, matrix, bound, settings.seed)


def _run(compiled, bound: Bound, spec: ModelSpec, settings: SamplerSettings, target_accept: float, progress, prepare):
    """One sampling run under the stopping rule: (idata, record)."""
    import arviz  # noqa: F401 - imported before the chains start, not at their first look
    import nutpie

    from irt_pipeline.stats.stopping import sample_until_clear

    sampler = nutpie.sample(
        compiled,
        chains=settings.chains,
        tune=settings.tune,
        draws=settings.max_draws,
        seed=settings.seed,
        cores=settings.cores or settings.chains,
        low_rank_modified_mass_matrix=settings.low_rank_mass_matrix,
        target_accept=target_accept,
        progress_bar=False,
        blocking=False,
        return_raw_trace=True,  # converted by stopping.sample_until_clear: the kept draws only
    )
    idata, record = sample_until_clear(
        sampler, tune=settings.tune, draws=settings.draws, block=settings.block, max_draws=settings.max_draws,
        gated=spec.gated, coords=dict(bound.coords), dims=dict(bound.dims), progress=progress, prepare=prepare,
    )
    return idata, {**record, "target_accept": target_accept}


def sample(
    spec: ModelSpec, matrix: VoteMatrix, pca: np.ndarray, settings: SamplerSettings, progress=None, orientation=None
):
    """Posterior of `spec` on `matrix` as ArviZ InferenceData, sampled until the gates
    pass (`stats/stopping.py`).

    pca: (n_legislators,) oriented, standardized PCA scores in matrix row order (the
    starts), or (n_legislators, d) for a model that starts from several components
    (`spec.starts`, `spec.start_scores`). progress: called with a dict at every look-in (see `stats/stopping.py`).
    orientation: (n,) the partition's orientation rule r (`stats/orientation.py`; default:
    the built-in party poles where the chamber has a pair): every draw is put where
    r . xi >= 0, at every look and in the result, and the draws so moved are counted per
    chain in `attrs["reflected_draws"]`.
    `idata.attrs` records the model, its priors, compile_seconds, sampling_seconds, the
    settings, the draws used and why sampling stopped, and whatever the model's
    post-processing reports.
    """
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown sampler backend {settings.backend!r} ({' or '.join(BACKENDS)})")
    settings = model_settings(spec, settings)
    start = time.perf_counter()
    if settings.backend == "kernel":  # a first run on a machine compiles while the model is bound
        from irt_pipeline.stats.callbacks import start_compiling

        start_compiling(spec.module)
    scores = np.asarray(pca, float)
    bound = spec.bind(matrix, scores, orientation)
    compiled = _compile(spec, matrix, bound, settings)
    compile_seconds = time.perf_counter() - start

    fold = None
    if bound.orientation is not None:
        def fold(trace):
            return fold_draws(trace.posterior, bound.orientation, spec.odd)

    def prepare(trace):  # a look judges the draws the gates will judge
        if fold is not None:
            fold(trace)
        if spec.align_look is not None:
            spec.align_look(trace.posterior)

    runs = []
    for attempt, target_accept in enumerate((settings.target_accept, settings.retry_target_accept)):
        if attempt and spec.rebind is not None:  # the model's other coordinates for the retry
            other = spec.rebind(matrix, scores, orientation, bound)
            if other is not None:
                bound, compiled = other, _compile(spec, matrix, other, settings)
        idata, record = _run(compiled, bound, spec, settings, target_accept, progress, prepare)
        runs.append({**record, **bound.attrs})
        if record["stop"] != "divergence":
            break
    reflected = {"xi": fold(idata)} if fold is not None else {}
    idata.add_groups(constant_data=constant_data(matrix))
    extra = spec.postprocess(idata, bound)
    reflected.update(json.loads(extra.pop("reflected_draws", "{}")))
    idata.attrs.update(
        **run_attrs(spec, settings, runs, compile_seconds),
        reflected_draws=json.dumps(reflected),  # per chain, draws put on the rule's side (and dim 2's)
        **bound.attrs,
        **extra,
    )
    return idata


def run_attrs(spec: ModelSpec, settings: SamplerSettings, runs: list[dict], compile_seconds: float) -> dict:
    """What every posterior records of its sampling (`idata.attrs`): the model, its
    scale and priors, the seconds, draws used and why sampling stopped (of the last of
    `runs`, the sampling runs' records: a divergence's retry after the first), and the
    settings."""
    return dict(
        model=spec.name,
        xi_scale=spec.scale,
        priors=json.dumps(describe(spec.priors)),
        compile_seconds=round(compile_seconds, 3),
        sampling_seconds=round(sum(r["sampling_seconds"] for r in runs), 3),
        draws_used=int(runs[-1]["draws_used"]),
        stop=runs[-1]["stop"],
        sampling_runs=json.dumps(runs),
        sampler_settings=json.dumps(settings.as_dict()),  # netCDF attrs hold no bools
    )
