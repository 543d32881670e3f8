"""Sample until the gates pass: watch nutpie's chains, look at the draws in blocks, stop
once every gate passes with a margin (or at the cap), and report progress on the way.

The stopping rule. After `draws` kept draws per chain, and every `block` draws after
that, the first c draws of every chain are judged with the gates of `diagnostics.py`,
each with a margin: R-hat below 1.005 (the gate: 1.01) and bulk and tail ESS above 600
(the gates: 400) over every gated group, no divergence, E-BFMI above 0.35 (the gate:
0.3). The looks judge the draws the gates will judge: put on the orientation rule's
side first and aligned as the model's post-processing aligns them (the 2D model's dim 2,
per draw), by `prepare` (`sampling.sample`, `ModelSpec.align_look`).
The first look that clears all of them stops the sampler; the posterior is exactly
those c draws per chain (later draws are dropped); at `max_draws` the sampler stops
whatever the gates say and the blocking checks decide. A divergence stops the look-ups
at once: more draws cannot remove it (the caller may sample again, more carefully).

Reproducible: each chain's draws depend only on the seed, never on how fast the chains
ran, and every decision uses exactly the first c draws of every chain, so a rerun stops
at the same c with the same draws. (nutpie runs every chain at once for this: with fewer
threads than chains, the later chains would start only after the first had finished.)

What it costs in bias: stopping where the diagnostics first look good is optional
stopping, and can favour a sample whose chains happen to agree. The margins make that
small: at the first look that clears, every chain has mixed well past what the gates ask
(bulk ESS 1.5 times theirs), and the estimates' Monte Carlo error is then a few percent
of their posterior sd; bench/RESULTS.md compares adaptive and long fixed runs.

Progress: `progress(dict)` is called at every 5% of the draws due by the next look
(tuning included) and after every judged look (then with "look": its kept draws, the
problems found and whether it stops): phase, draws done per chain (tuning included), the draws of the
next look and of the cap, divergences after tuning, the chains' mean step size, seconds
elapsed and estimates of those left to the next look and to the cap.

This uses nutpie's background sampler and its raw trace (not public API, pinned with
nutpie; `test_sampling.py` exercises it). The posterior is built from that trace here,
the kept draws only (nutpie's own conversion fills arrays for every draw the chains did,
past the last look too, and the tuning draws): posterior, sample_stats and the tuning
draws' stats as warmup_sample_stats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from irt_pipeline.stats.diagnostics import convergence_summary

STOP_RHAT = 1.005
STOP_ESS = 600.0
STOP_EBFMI = 0.35
POLL_SECONDS = (0.01, 5.0)  # shortest and longest wait between look-ins


@dataclass
class Look:
    """One judged look at the draws: c draws per chain, and why it did not stop."""

    draws: int
    problems: list[str]


def _raw(sampler):
    return sampler._sampler.inspect().get_arrow_trace()


def _finished(sampler) -> bool:
    """nutpie 0.16's is_finished raises TimeoutError while the chains still run."""
    try:
        return bool(sampler.is_finished)
    except TimeoutError:
        return False


def _column(batch, name) -> np.ndarray:
    """A column of nutpie's raw trace as numpy (list columns flattened)."""
    import pyarrow

    column = pyarrow.array(batch.column(name))
    return np.asarray(column.flatten() if hasattr(column, "flatten") else column)


def _counts(stats) -> tuple[np.ndarray, np.ndarray]:
    """Per chain: tuning draws done, kept draws done (from the stats batches)."""
    tuning = np.array([int(_column(s, "tuning").sum()) for s in stats])
    total = np.array([s.num_rows for s in stats])
    return tuning, total - tuning


def _shape(batch, name) -> tuple[int, ...]:
    return tuple(int(v) for v in (batch.column(name).field.metadata or {}).get(b"shape", b"").split(b",") if v)


def _first_draws(draws, stats, tuning, c: int, names: Sequence[str], coords, dims, warmup: bool = False):
    """InferenceData of the first c kept draws of every chain from nutpie's raw trace:
    the variables `names` and every scalar sample stat (the gates read diverging,
    energy and n_steps); warmup: the tuning draws' stats too, as `warmup_sample_stats`
    (the tuning draws themselves are not kept: nothing reads them)."""
    import arviz as az
    import xarray as xr

    # the scalar stats nutpie's own conversion keeps (its chain and draw columns are the coordinates)
    scalar_stats = [name for name in stats[0].column_names if not _shape(stats[0], name) and name not in ("chain", "draw")]
    posterior, sample_stats, warmup_stats = {}, {}, {}
    for chain, (draw, stat) in enumerate(zip(draws, stats)):
        kept = draw.slice(tuning[chain], c)
        kept_stats = stat.slice(tuning[chain], c)
        for name in names:
            posterior.setdefault(name, []).append(_column(kept, name).astype(float).reshape((c, *_shape(kept, name))))
        for name in scalar_stats:
            sample_stats.setdefault(name, []).append(_column(kept_stats, name))
            if warmup:
                warmup_stats.setdefault(name, []).append(_column(stat.slice(0, min(tuning)), name))
    # xarray directly: az.from_dict's copies of coords and attrs cost more than the diagnostics
    variables = {name: (("chain", "draw", *dims[name]), np.stack(v)) for name, v in posterior.items()}
    used = {dim for name in names for dim in dims[name]}
    groups = {
        "posterior": xr.Dataset(variables, coords={dim: coords[dim] for dim in used}),
        "sample_stats": xr.Dataset({k: (("chain", "draw"), np.stack(v)) for k, v in sample_stats.items()}),
    }
    if warmup:
        groups["warmup_sample_stats"] = xr.Dataset({k: (("chain", "draw"), np.stack(v)) for k, v in warmup_stats.items()})
    return az.InferenceData(**groups)


def problems(summary: dict, gated: Mapping[str, Sequence[str]]) -> list[str]:
    """Why the draws summarized in `summary` (diagnostics.convergence_summary) do not
    clear the stopping rule; empty: they do. A group with no parameters (the summary's
    `empty_groups`) has nothing to wait for."""
    empty = set(summary.get("empty_groups", ()))
    found = [
        f"{key}={summary[key]:.4g}"
        for group in gated
        if group not in empty
        for key, bad in (
            (f"rhat_{group}_max", not summary[f"rhat_{group}_max"] < STOP_RHAT),
            (f"ess_bulk_{group}_min", not summary[f"ess_bulk_{group}_min"] > STOP_ESS),
            (f"ess_tail_{group}_min", not summary[f"ess_tail_{group}_min"] > STOP_ESS),
        )
        if bad
    ]
    if summary["divergences"]:
        found.append(f"divergences={summary['divergences']}")
    if not summary["ebfmi_min"] > STOP_EBFMI:
        found.append(f"ebfmi_min={summary['ebfmi_min']:.3g}")
    return found


def sample_until_clear(
    sampler, *, tune: int, draws: int, block: int, max_draws: int, gated: Mapping[str, Sequence[str]],
    coords: Mapping, dims: Mapping, progress: Callable[[dict], None] | None = None,
    prepare: Callable | None = None,
):
    """Watch a background nutpie `sampler` (started with `tune` and `max_draws`) and stop
    it by the stopping rule. Returns (InferenceData of the kept draws, record) where
    record holds draws_used, stop ("gates" | "cap" | "divergence"), looks (judged looks
    and their problems) and the sampling seconds. prepare(idata), if given, is applied
    to every look's draws before they are judged (the orientation rule's folding: the
    looks judge the draws the gates will judge)."""
    start = time.perf_counter()
    names = list(dict.fromkeys(name for variables in gated.values() for name in variables))
    checkpoint, looks, stop = draws, [], "cap"
    reported = -1
    while True:
        finished = _finished(sampler)
        # A look-in reads nutpie's trace without copying it (46 look-ins of a 117th-Senate
        # posterior: 3 ms); drop the last view before taking the next all the same.
        draw_batches = stat_batches = None
        draw_batches, stat_batches = _raw(sampler)
        tuning, kept = _counts(stat_batches)
        done = int(min(tuning + kept)) if len(kept) else 0
        target = tune + min(checkpoint, max_draws)
        elapsed = time.perf_counter() - start
        step = 0.05 * target  # report every 5% of the draws due by the next look
        if progress is not None and done < target and (done - reported >= step or finished):
            progress(_progress(stat_batches, done, target, elapsed, tune, max_draws))
            reported = done
        if done >= target:
            c = target - tune
            trace = _first_draws(draw_batches, stat_batches, tuning, c, names, coords, dims)
            if prepare is not None:
                prepare(trace)
            summary = convergence_summary(trace, gated)
            found = problems(summary, gated)
            looks.append(Look(c, found))
            ends = not found or summary["divergences"] or c >= max_draws
            if progress is not None:  # the look's verdict, with the progress at that moment
                following = target if ends else tune + min(checkpoint + block, max_draws)
                state = _progress(stat_batches, done, following, time.perf_counter() - start, tune, max_draws)
                progress({**state, "look": {"draws": c, "problems": found, "stops": bool(ends)}})
                reported = done
            if ends:
                stop = "gates" if not found else ("divergence" if summary["divergences"] else "cap")
                break
            checkpoint += block
            continue
        if finished:
            break
        # Sleep until the next look or half a report's worth of draws is due at the rate
        # so far (the slack absorbs a busy machine's late wake-ups), and no longer than a
        # quarter of the time so far (the first rates mislead). Before the first draw
        # there is no rate: a quarter of the time so far (a large panel's first tuning
        # draws take seconds each: no need to look in every 10 ms meanwhile).
        rate = float(np.mean(tuning + kept)) / elapsed if elapsed > 0 else 0.0
        due = min(target, done + max(1, int(step / 2)))
        wait = (due - done) / rate if rate else np.inf
        time.sleep(min(max(min(wait, 0.25 * elapsed), POLL_SECONDS[0]), POLL_SECONDS[1]))
    draw_batches = stat_batches = trace = None
    raw = sampler.wait() if _finished(sampler) else sampler.abort()  # nutpie's raw trace (return_raw_trace)
    draw_batches, stat_batches = raw.get_arrow_trace()
    tuning, kept = _counts(stat_batches)
    used = looks[-1].draws if looks else int(min(kept))
    # only the draws kept (nutpie's own conversion fills arrays for every draw done, the
    # chains that ran past the last look included: most of the time after the stop)
    everything = [name for name in draw_batches[0].column_names if name in dims]
    idata = _first_draws(draw_batches, stat_batches, tuning, used, everything, coords, dims, warmup=True)
    record = {
        "draws_used": used,
        "stop": stop,
        "looks": [{"draws": look.draws, "problems": look.problems} for look in looks],
        "sampling_seconds": round(time.perf_counter() - start, 3),
    }
    return idata, record


def _progress(stats, done: int, target: int, elapsed: float, tune: int, max_draws: int) -> dict:
    divergences = sum(int((_column(s, "diverging") & ~_column(s, "tuning")).sum()) for s in stats)
    step = [float(_column(s, "step_size")[-1]) for s in stats if s.num_rows]
    rate = done / elapsed if elapsed > 0 and done else 0.0
    cap = tune + max_draws
    return {
        "phase": "tuning" if done < tune else "sampling",
        "draws_done": done,  # per chain, tuning included
        "next_look": target,  # draws per chain (tuning included) at the next judged look
        "draws_cap": cap,
        "divergences": divergences,  # after tuning (the gate's)
        "step_size": float(np.mean(step)) if step else float("nan"),
        "elapsed_seconds": round(elapsed, 1),
        "seconds_to_next_look": round(max(target - done, 0) / rate, 1) if rate else None,
        "seconds_to_cap": round(max(cap - done, 0) / rate, 1) if rate else None,
    }


def describe_progress(p: dict) -> str:
    """One line for logs: 'sampling: 1,527 of 1,500 draws per chain before the next look
    (cap 5,000), 0 divergences, step size 0.14, 28 s elapsed, next look in 2 s, cap in 60 s'."""
    left = [f"{what} in {p[key]:.0f} s" for what, key in (("next look", "seconds_to_next_look"),
                                                          ("cap", "seconds_to_cap")) if p[key] is not None]
    look = p.get("look")
    if look is not None:  # a judged look: its verdict first
        verdict = "every gate clear with its margin" if not look["problems"] else ", ".join(look["problems"])
        then = "stopping" if look["stops"] else f"next look at {p['next_look']:,}"
        return (
            f"look at {look['draws']:,} kept draws per chain: {verdict}; {then} "
            f"({p['divergences']} divergences, {p['elapsed_seconds']:.0f} s elapsed)"
        )
    return (
        f"{p['phase']}: {p['draws_done']:,} draws per chain done, next look at {p['next_look']:,} "
        f"(cap {p['draws_cap']:,}); {p['divergences']} divergences; step size {p['step_size']:.3g}; "
        f"{p['elapsed_seconds']:.0f} s elapsed" + (", " + ", ".join(left) if left else "")
    )
