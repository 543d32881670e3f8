"""Sample a bound model with nutpie under the project's stopping rule, cold or warm.

`stats/sampling.py` samples a model bound to one vote matrix; the dynamic model
(`stats/models/dynamic.py`) is bound to a panel of them. This runs any `Bound` through
the same pieces (the C callbacks of `stats/callbacks.py`, `stats/stopping.py`'s
`sample_until_clear`) and also returns what a later run needs to start warm: every
chain's last kept draw in the sampler's coordinates, its final step size, and the
per-coordinate mean and sd of the kept draws.

Warm starts (docs/dynamic_model.md). nutpie 0.16.8 takes, per chain, an initial point
(`initial_point_func`, called with a seed nutpie draws from the chain's generator), an
initial step size (`initial_step`) and the tuning length (`num_tune`, with its window
settings `early_window_switch_freq`, `window_switch_freq`); it takes no mass matrix: its
diagonal starts at 1/|gradient| of the initial point. So a stored mass matrix is
passed as a change of coordinates instead: the sampler moves u with x = center + scale
* u (center, scale: the stored posterior's mean and sd of x), the callbacks map u to x
and the gradient back (`dynamic.nutpie_logp_scaled`); in u the stored posterior is
near the identity metric nutpie adapts toward. The density in u differs from x's by
the constant sum(log scale), which sampling ignores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from irt_pipeline.stats import callbacks
from irt_pipeline.stats.models.spec import Bound, ModelSpec
from irt_pipeline.stats.sampling import SamplerSettings


@dataclass
class Run:
    """One sampling run: the posterior (idata), the stopping rule's record, and the
    state a warm start reads. starts: (chains * STARTS_PER_CHAIN, ndim) the last kept
    draws of every chain in x; step_size: (chains,) final step sizes (in the
    coordinates sampled); mean, sd: (ndim,) of the kept draws in x; xi_mean: posterior
    means of the positions; seconds: wall time of the sampling."""

    idata: object
    record: dict
    starts: np.ndarray
    step_size: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    xi_mean: np.ndarray
    seconds: float
    stats: dict = field(default_factory=dict)


STARTS_PER_CHAIN = 5  # stored draws a warm start picks its chains' starts from


class _Captured:
    """A nutpie background sampler whose final raw trace is kept (stopping.py reads the
    sampler through `_sampler`, `is_finished`, `wait` and `abort`)."""

    def __init__(self, sampler):
        self._inner = sampler
        self._sampler = sampler._sampler
        self.raw = None

    @property
    def is_finished(self):
        return self._inner.is_finished

    def wait(self, *args, **kwargs):
        self.raw = _Trace(self._inner.wait(*args, **kwargs))
        return self.raw

    def abort(self):
        self.raw = _Trace(self._inner.abort())
        return self.raw


class _Trace:
    """nutpie's raw trace, whose arrow batches can be taken once: kept for a second reader."""

    def __init__(self, raw):
        self._raw = raw
        self._batches = None

    def get_arrow_trace(self):
        if self._batches is None:
            self._batches = self._raw.get_arrow_trace()
        return self._batches


def _column(batch, name) -> np.ndarray:
    import pyarrow

    column = pyarrow.array(batch.column(name))
    if hasattr(column, "flatten"):
        return np.asarray(column.flatten()).reshape(batch.num_rows, -1)
    return np.asarray(column)


def sample_bound(
    spec: ModelSpec,
    bound: Bound,
    settings: SamplerSettings,
    *,
    initial_point: Callable[[int], np.ndarray] | None = None,
    precondition: tuple[np.ndarray, np.ndarray] | None = None,
    nutpie_options: dict | None = None,
    progress=None,
    keep_state: bool = True,
) -> Run:
    """Sample `bound` until the gates pass (stats/stopping.py), one run at
    settings.target_accept. initial_point(seed) -> (ndim,) start in x (default the
    model's own jittered starts); precondition: (center, scale) in x, to sample u =
    (x - center) / scale through the model's scaled callbacks (`spec` must have them:
    `logp_scaled`, `expand_scaled` attributes of its module); nutpie_options: extra
    nutpie settings (initial_step, ...); keep_state: keep every draw's x (nutpie's
    `store_unconstrained`) for the warm state (starts, mean, sd); without it those are
    None (the trace then holds only the reported values: x is 10-20 times larger)."""

    import nutpie

    from irt_pipeline.stats.sampling import initial_point_function
    from irt_pipeline.stats.stopping import sample_until_clear

    start = initial_point or initial_point_function(bound, settings.seed)
    data = bound.kernel_data
    logp, expand = spec.logp, spec.expand
    if precondition is not None:
        center, scale = (np.asarray(v, float) for v in precondition)
        module = spec_module(spec)
        logp, expand = module.nutpie_logp_scaled, module.nutpie_expand_scaled
        data = callbacks.KernelData.of(data.votes, data.ints, np.concatenate([data.floats, center, scale]))
        x_start = start
        start = lambda seed: (x_start(seed) - center) / scale  # noqa: E731
    compiled = callbacks.kernel_model(
        callbacks.compiled(logp), callbacks.compiled(expand, expand=True), data, bound.ndim,
        dict(bound.reported), dict(bound.coords), dict(bound.dims), start,
    )
    began = time.perf_counter()
    sampler = nutpie.sample(
        compiled, chains=settings.chains, tune=settings.tune, draws=settings.max_draws, seed=settings.seed,
        cores=settings.cores or settings.chains, low_rank_modified_mass_matrix=settings.low_rank_mass_matrix,
        target_accept=settings.target_accept, progress_bar=False, blocking=False, return_raw_trace=True,
        store_unconstrained=keep_state, **(nutpie_options or {}),
    )
    captured = _Captured(sampler)
    idata, record = sample_until_clear(
        captured, tune=settings.tune, draws=settings.draws, block=settings.block, max_draws=settings.max_draws,
        gated=spec.gated, coords=dict(bound.coords), dims=dict(bound.dims), progress=progress,
    )
    seconds = time.perf_counter() - began
    _, stat_batches = captured.raw.get_arrow_trace()
    used = record["draws_used"]
    kept, starts, steps = [], [], []
    for batch in stat_batches:
        tuning = int(_column(batch, "tuning").sum())
        steps.append(float(_column(batch, "step_size")[tuning + used - 1]))
        if keep_state:
            u = _column(batch, "unconstrained_draw")[tuning: tuning + used]
            x = center + scale * u if precondition is not None else u
            kept.append(x)
            starts.append(x[-STARTS_PER_CHAIN:])
    kept = np.concatenate(kept) if keep_state else None
    n_steps = idata.sample_stats["n_steps"].values
    warm_steps = idata.warmup_sample_stats["n_steps"].values if "warmup_sample_stats" in idata.groups() else np.zeros(1)
    record["postprocess"] = spec.postprocess(idata, bound)  # mean, sd, starts: of the draws as sampled
    return Run(
        idata=idata, record=record, starts=np.concatenate(starts) if keep_state else None,
        step_size=np.array(steps), mean=kept.mean(axis=0) if keep_state else None,
        sd=kept.std(axis=0) if keep_state else None, xi_mean=idata.posterior["xi"].mean(("chain", "draw")).values,
        seconds=seconds,
        stats={
            "draws_used": used, "tune": settings.tune,
            "leapfrog_per_draw": float(n_steps.mean()),
            "leapfrog_per_tuning_draw": float(warm_steps.mean()),
            "gradients": int(n_steps.sum() + warm_steps.sum()),
        },
    )


def fit_panel(spec: ModelSpec, matrices: dict, settings: SamplerSettings, progress=None, min_bridges: int | None = None,
              rules: dict | None = None, where: str = ""):
    """Posterior of the panel model `spec` (`stats/models/dynamic.py`) on a chamber's
    sessions, as ArviZ InferenceData sampled until the gates pass.

    matrices: session -> VoteMatrix. The panel is the longest run of consecutive sessions
    (in session order) each sharing at least `min_bridges` (default the common scale's
    MIN_BRIDGES) legislators with the one before, as the linking chooses its run: a
    session outside it has no members through whom its scale could be placed against
    the others', and is left out with the reason (`idata.attrs["left_out"]`, JSON).
    rules: session -> that session's orientation rule (`stats/orientation.py`'s
    Orientation or None; default each session's built-in party poles), which orient the
    panel together (`panel_rule`). A divergence restarts the sampling once at
    `settings.retry_target_accept`, as `stats/sampling.py` does. Raises ValueError when
    no session is given, BadInput (`where`) when no session of the panel has an
    orientation rule. `attrs` record
    what `stats/sampling.py`'s `sample` records for one session's posterior, the panel's
    sessions and the gradients evaluated (every run, tuning included).
    """
    import json

    from irt_pipeline.stats import common_scale as cs
    from irt_pipeline.stats.sampling import run_attrs

    if not matrices:
        raise ValueError("a panel needs at least one session")
    sessions, left_out = cs.connected_run(
        {s: m.legislators for s, m in matrices.items()}, cs.MIN_BRIDGES if min_bridges is None else min_bridges
    )
    held = [matrices[s] for s in sessions]
    rule = spec_module(spec).panel_rule(held, sessions, rules, where=where)
    began = time.perf_counter()
    bound = spec.bind(held, sessions, orientation=rule)
    compile_seconds = time.perf_counter() - began
    runs = []
    for target_accept in (settings.target_accept, settings.retry_target_accept):  # as `sampling.sample` retries
        run = sample_bound(spec, bound, replace(settings, target_accept=target_accept), progress=progress,
                           keep_state=False)  # no warm start reads it yet
        runs.append({key: value for key, value in run.record.items() if key != "postprocess"}
                    | {"target_accept": target_accept, "sampling_seconds": round(run.seconds, 3),
                       "gradients": run.stats["gradients"], **bound.attrs})
        if run.record["stop"] != "divergence":
            break
    idata = run.idata
    idata.attrs.update(
        **run_attrs(spec, settings, runs, compile_seconds),
        sessions=",".join(sessions),
        vote_matrices=json.dumps({s: matrices[s].digest() for s in sessions}),  # what the draws are of
        left_out=json.dumps(left_out),
        gradient_evaluations=int(sum(r["gradients"] for r in runs)),
        **bound.attrs,
        **run.record["postprocess"],
    )
    return idata


def spec_module(spec: ModelSpec):
    """The module that defines `spec` (its kernels and panel helpers)."""
    import sys

    return sys.modules[spec.module]
