"""Convergence diagnostics of a posterior and the gates it must pass.

A model names the groups of reported variables its users read (`ModelSpec.gated`, e.g.
{"xi": ("xi",), "party": ("mu_party", "sigma_party"), "tau": ("tau",)}); every group
gets two gates, and every posterior two more:

    rhat_<group>      max rank-normalized split R-hat over the group   < 1.01
    ess_bulk_<group>  min bulk ESS over the group                      > 400
    ess_tail_<group>  min tail ESS over the group                      > 400
    divergences       divergent transitions after tuning, all chains   == 0
    ebfmi             min E-BFMI over chains                           > 0.3

Tail ESS (the ESS of the 5% and 95% quantiles' indicators) is gated because every
published interval is a 94% HDI, whose endpoints are tail quantities: a bulk ESS above
400 says the means are known, not the intervals.

`verify_gates` is the guard of everything downstream of a posterior: it re-evaluates
every gate the model expects from the stored values with the thresholds here, and
refuses (fails closed) on a gate that is missing, unreadable, not finite or failing,
or on diagnostics of another posterior.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RHAT_MAX = 1.01
ESS_BULK_MIN = 400
ESS_TAIL_MIN = 400  # the same as bulk: the interval endpoints known as well as the means
EBFMI_MIN = 0.3
NOTHING_TO_JUDGE = "no parameters to judge"  # a gate of an empty group (`evaluate_gates`)
_OPS = {"<": operator.lt, ">": operator.gt, "==": operator.eq}


@dataclass(frozen=True)
class Gate:
    name: str
    summary_key: str
    op: str  # "<", ">" or "=="
    threshold: float
    description: str
    group: str | None = None  # the gate group it judges (None: the whole posterior)

    def passes(self, value) -> bool:
        """Whether `value` is a finite number on the right side of the threshold (a
        string, a bool or None is no number: it fails)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        return bool(np.isfinite(value) and _OPS[self.op](value, self.threshold))


def gates_for(gated: Mapping[str, Sequence[str]]) -> tuple[Gate, ...]:
    """The gates of a model whose gate groups are `gated` (group -> variable names)."""
    gates = []
    for group, variables in gated.items():
        over = ", ".join(variables)
        gates += [
            Gate(f"rhat_{group}", f"rhat_{group}_max", "<", RHAT_MAX, f"max rank-normalized split R-hat over {over}", group),
            Gate(f"ess_bulk_{group}", f"ess_bulk_{group}_min", ">", ESS_BULK_MIN, f"min bulk ESS over {over}", group),
            Gate(f"ess_tail_{group}", f"ess_tail_{group}_min", ">", ESS_TAIL_MIN, f"min tail ESS over {over}", group),
        ]
    gates += [
        Gate("divergences", "divergences", "==", 0, "divergent transitions after tuning, all chains"),
        Gate("ebfmi", "ebfmi_min", ">", EBFMI_MIN, "min E-BFMI over chains"),
    ]
    return tuple(gates)


def split_rhat_and_bulk_ess(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalized split R-hat (the larger of bulk and folded) and bulk ESS of every
    parameter at once, equal to ArviZ's `rhat` and `ess(method="bulk")` (tested), which
    compute them one parameter at a time; the chains are ranked once for both.

    draws: (parameters, chains, draws) -> two (parameters,) arrays; NaN for a parameter
    with a non-finite draw or fewer than 4 draws per chain, as ArviZ returns.
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    draws = np.asarray(draws, dtype=float)
    n_params, n_chains, n_draws = draws.shape
    rhat, ess = np.full(n_params, np.nan), np.full(n_params, np.nan)
    valid = np.isfinite(draws).all(axis=(1, 2)) if n_draws >= 4 else np.zeros(n_params, bool)
    if not valid.any():
        return rhat, ess
    half = n_draws // 2
    split = np.concatenate([draws[valid, :, :half], draws[valid, :, n_draws - half:]], axis=1)

    def z_scale(values):  # ranks over all chains and draws of a parameter, as normal scores
        flat = values.reshape(len(values), -1)
        order = np.argsort(flat, axis=1)
        ranks = np.empty_like(flat)
        np.put_along_axis(ranks, order, np.arange(1.0, flat.shape[1] + 1.0)[None, :], axis=1)
        ties = (np.diff(np.take_along_axis(flat, order, axis=1), axis=1) == 0).any(axis=1)
        if ties.any():  # repeated draws (rejected proposals) share their average rank
            ranks[ties] = rankdata(flat[ties], method="average", axis=1)
        return ndtri((ranks - 0.375) / (flat.shape[1] + 0.25)).reshape(values.shape)

    bulk = z_scale(split)
    folded = z_scale(np.abs(split - np.median(split.reshape(len(split), -1), axis=1)[:, None, None]))
    if n_chains > 1:  # ArviZ's R-hat needs two chains (the split halves do not count)
        with np.errstate(divide="ignore", invalid="ignore"):
            rhat[valid] = np.maximum(_rhat(bulk), _rhat(folded))
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant parameter
        ess[valid] = _ess(bulk)
    return rhat, ess


def tail_ess(draws: np.ndarray) -> np.ndarray:
    """Tail ESS of every parameter at once, equal to ArviZ's `ess(method="tail")`
    (tested): the smaller of the ESS of the indicators x <= q_0.05 and x <= q_0.95 (type-7
    quantiles over all chains and draws), chains split in halves.

    draws: (parameters, chains, draws) -> (parameters,); NaN for a parameter with a
    non-finite draw or fewer than 4 draws per chain, as ArviZ returns."""
    draws = np.asarray(draws, dtype=float)
    n_params, _, n_draws = draws.shape
    out = np.full(n_params, np.nan)
    valid = np.isfinite(draws).all(axis=(1, 2)) if n_draws >= 4 else np.zeros(n_params, bool)
    if not valid.any():
        return out
    from scipy.stats.mstats import mquantiles

    values, half = draws[valid], n_draws // 2
    flat = values.reshape(len(values), -1)
    per_tail = []
    for prob in (0.05, 0.95):
        # ArviZ's type-7 quantile, rounding included (at a tie its interpolation can land
        # an ulp below the tied value, which changes the indicator)
        quantile = np.asarray(mquantiles(flat, [prob], alphap=1, betap=1, axis=1))[:, 0]
        below = (values <= quantile[:, None, None]).astype(float)
        split = np.concatenate([below[:, :, :half], below[:, :, n_draws - half:]], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_tail.append(_ess(split))
    out[valid] = np.minimum(*per_tail)
    return out


def _rhat(values: np.ndarray) -> np.ndarray:
    """Split R-hat of (parameters, chains, draws) already split."""
    n = values.shape[2]
    between = n * np.var(values.mean(axis=2), axis=1, ddof=1)
    within = np.var(values, axis=2, ddof=1).mean(axis=1)
    return np.sqrt((between / within + n - 1) / n)


def _ess(values: np.ndarray) -> np.ndarray:
    """ESS of (parameters, chains, draws) by Geyer's initial monotone sequence, as ArviZ's
    `_ess`: autocorrelations from the FFT; pairs of lags summed while the pair sums stay
    positive, each pair sum capped by the one before."""
    from scipy.fft import next_fast_len

    n_params, n_chains, n = values.shape
    centred = values - values.mean(axis=2, keepdims=True)
    m = next_fast_len(2 * n)
    spectrum = np.fft.rfft(centred, n=m, axis=2)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=m, axis=2)[..., :n] / n
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n + (np.var(values.mean(axis=2), axis=1, ddof=1) if n_chains > 1 else 0.0)
    rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # (parameters, lags)
    rho[:, 0] = 1.0
    # ArviZ's loop: lag pairs (2k, 2k + 1) for k = 1 .. k_max while the previous pair's sum
    # is positive; K, the last pair it computes, is the first non-positive one or k_max
    k_max = max((n - 3) // 2, 0)
    sums = rho[:, 0 : 2 * k_max + 1 : 2] + rho[:, 1 : 2 * k_max + 2 : 2]  # (parameters, k_max + 1)
    nonpositive = sums <= 0
    last_pair = np.where(nonpositive.any(axis=1), np.argmax(nonpositive, axis=1), k_max)
    kept = np.arange(k_max + 1)[None, :] < last_pair[:, None]
    monotone = np.minimum.accumulate(np.where(kept, sums, np.inf), axis=1)
    body = np.where(kept, monotone, 0.0).sum(axis=1)
    rows = np.arange(n_params)
    even = rho[rows, 2 * last_pair]
    last = np.where((even > 0) | (sums[rows, last_pair] >= 0), even, 0.0)
    size = n_chains * n
    tau = np.maximum(-1.0 + 2.0 * body + last, 1.0 / np.log10(size))
    constant = values.max(axis=(1, 2)) - values.min(axis=(1, 2)) < np.finfo(float).resolution
    return np.where(constant, float(size), size / tau)


def _badness(flat: np.ndarray, largest: bool) -> np.ndarray:
    """Larger is worse: the values (or their negatives), NaN the worst of all."""
    return np.where(np.isnan(flat), np.inf, flat if largest else -flat)


def _worst(named: Mapping[str, np.ndarray], labels: Mapping[str, Sequence[str]], largest: bool) -> tuple[float, str]:
    """The largest (or smallest) value over every element of `named` (name -> flat
    values), NaN counting as worst, and where it is ("xi[14226]"); labels: name -> the
    elements' coordinate labels (empty for a scalar)."""
    found = None
    for name, flat in named.items():
        if flat.size == 0:
            continue
        badness = _badness(flat, largest)
        i = int(np.argmax(badness))
        if found is None or badness[i] > found[0]:
            label = labels[name][i] if len(labels[name]) else ""
            found = (badness[i], float(flat[i]), f"{name}[{label}]" if label else name)
    return (np.nan, "missing") if found is None else found[1:]


def _by_parameter(posterior, name: str) -> tuple[np.ndarray, list[str]]:
    """A posterior variable as (parameters, chains, draws) and each parameter's label
    ("L3", "Democrat,1"; none for a scalar)."""
    values = posterior[name].transpose("chain", "draw", ...)
    shape = values.shape[2:]
    array = np.moveaxis(values.values.reshape(values.shape[:2] + (-1,)), 2, 0)
    if not shape:
        return array, []
    coords = [values[dim].values for dim in values.dims[2:]]
    labels = [",".join(str(c[p]) for c, p in zip(coords, position)) for position in np.ndindex(*shape)]
    return array, labels


def convergence_summary(idata, gated: Mapping[str, Sequence[str]]) -> dict:
    """Diagnostics of `idata` as a JSON-ready dict.

    Per gate group: `rhat_<g>_max` and where (`rhat_<g>_worst`, e.g. "xi[14226]"),
    `ess_bulk_<g>_min`, `ess_tail_<g>_min`; then divergences, E-BFMI per chain, leapfrog
    steps and the timings nutpie recorded in idata.attrs. A group none of whose
    variables is in the posterior gets NaN values (its gates then fail). A group whose
    variables are there but hold no parameter (the party level of a chamber with no party
    group: shape (0,)) gets NaN values too and is listed in `empty_groups`: there is
    nothing of it to judge, or to read (`evaluate_gates`).
    """
    import arviz as az

    post = idata.posterior
    summary: dict = {"gate_groups": {group: list(variables) for group, variables in gated.items()}, "empty_groups": []}
    for group, variables in gated.items():
        present = [v for v in variables if v in post]
        if present and all(post[v].size == 0 for v in present):
            summary["empty_groups"].append(group)
        if not present or group in summary["empty_groups"]:
            summary.update({f"rhat_{group}_max": np.nan, f"ess_bulk_{group}_min": np.nan,
                            f"ess_tail_{group}_min": np.nan, f"rhat_{group}_worst": "missing"})
            continue
        rhats, bulks, tails, labels = {}, {}, {}, {}
        for name in present:
            draws, labels[name] = _by_parameter(post, name)
            rhats[name], bulks[name] = split_rhat_and_bulk_ess(draws)
            tails[name] = tail_ess(draws)
        rhat, where = _worst(rhats, labels, largest=True)
        bulk, _ = _worst(bulks, labels, largest=False)
        summary.update({
            f"rhat_{group}_max": rhat, f"rhat_{group}_worst": where, f"ess_bulk_{group}_min": bulk,
            f"ess_tail_{group}_min": _worst(tails, labels, largest=False)[0],
        })
        if "xi" in present:
            summary["worst_xi"] = labels["xi"][int(np.argmax(_badness(rhats["xi"], largest=True)))]
    stats = idata.sample_stats
    ebfmi = np.atleast_1d(az.bfmi(stats["energy"].transpose("chain", "draw").values))
    n_steps = stats["n_steps"].values
    summary.update(
        divergences=int(stats["diverging"].values.sum()),
        ebfmi_per_chain=[float(v) for v in ebfmi],
        ebfmi_min=float(ebfmi.min()),
        chains=int(post.sizes["chain"]),
        draws=int(post.sizes["draw"]),
        leapfrog_steps_per_draw=float(n_steps.mean()),
        gradient_evaluations=int(n_steps.sum()),
        compile_seconds=float(idata.attrs.get("compile_seconds", np.nan)),
        sampling_seconds=float(idata.attrs.get("sampling_seconds", np.nan)),
    )
    return summary


def evaluate_gates(summary: dict, gates: Sequence[Gate]) -> list[dict]:
    """One record per gate: name, value, threshold, passed, applies. A value missing from
    the summary is an error, not a pass. A gate of one of the summary's `empty_groups`
    does not apply (applies False, value NaN) and passes: the posterior has no parameter
    of that group, so no published number rests on it."""
    empty = set(summary.get("empty_groups", ()))
    return [
        {
            "gate": gate.name,
            "value": summary[gate.summary_key],
            "op": gate.op,
            "threshold": gate.threshold,
            "passed": gate.group in empty or gate.passes(summary[gate.summary_key]),
            "applies": gate.group not in empty,
            "description": gate.description,
        }
        for gate in gates
    ]


def _not_applicable(gate: Gate, record: Mapping, diagnostics: Mapping) -> bool:
    """Whether a stored gate record says it does not apply, and the record's own
    summary agrees (its group is one of `empty_groups`)."""
    empty = diagnostics.get("empty_groups")
    return record.get("applies") is False and gate.group is not None and isinstance(empty, list) and gate.group in empty


def verify_gates(diagnostics, posterior_id: str, gates: Sequence[Gate]) -> list[str]:
    """Why a stored diagnostics record does not clear its posterior (empty: it does).

    Fails closed: anything but a record of this posterior that holds every expected gate
    with a finite value passing today's threshold is a problem, whatever its `passed`
    flags or `gates_passed` say.
    """
    if not isinstance(diagnostics, Mapping):
        return ["the stored diagnostics are not a record (materialize diagnostics again)"]
    if diagnostics.get("posterior_id") != posterior_id:
        return ["the stored diagnostics are not of the stored posterior (materialize diagnostics first)"]
    stored = diagnostics.get("gates")
    if not isinstance(stored, list):
        return ["the stored diagnostics hold no list of gates"]
    by_name = {g.get("gate"): g for g in stored if isinstance(g, Mapping)}
    problems = []
    for gate in gates:
        record = by_name.get(gate.name)
        if record is None:
            problems.append(f"{gate.name} missing")
        elif _not_applicable(gate, record, diagnostics):
            continue
        elif not gate.passes(record.get("value")):
            problems.append(f"{gate.name}={_show(record.get('value'))} (needs {gate.op} {gate.threshold:g})")
    if not problems and diagnostics.get("gates_passed") is not True:
        problems.append("gates_passed is not true")
    return problems


def _show(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return repr(value)
