"""Convergence diagnostics of a posterior and the gates it must pass.

A model names the groups of reported variables its users read (`ModelSpec.gated`, e.g.
{"xi": ("xi",), "party": ("mu_party", "sigma_party"), "tau": ("tau",)}); every group
gets two gates, and every posterior two more:

    rhat_<group>      max rank-normalized split R-hat over the group   < 1.01
    ess_bulk_<group>  min bulk ESS over the group                      > 400
    divergences       divergent transitions after tuning, all chains   == 0
    ebfmi             min E-BFMI over chains                           > 0.3

Tail ESS is reported beside bulk ESS (`ess_tail_<group>_min`), not gated.

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
EBFMI_MIN = 0.3
_OPS = {"<": operator.lt, ">": operator.gt, "==": operator.eq}


@dataclass(frozen=True)
class Gate:
    name: str
    summary_key: str
    op: str  # "<", ">" or "=="
    threshold: float
    description: str

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
            Gate(f"rhat_{group}", f"rhat_{group}_max", "<", RHAT_MAX, f"max rank-normalized split R-hat over {over}"),
            Gate(f"ess_bulk_{group}", f"ess_bulk_{group}_min", ">", ESS_BULK_MIN, f"min bulk ESS over {over}"),
        ]
    gates += [
        Gate("divergences", "divergences", "==", 0, "divergent transitions after tuning, all chains"),
        Gate("ebfmi", "ebfmi_min", ">", EBFMI_MIN, "min E-BFMI over chains"),
    ]
    return tuple(gates)


def _worst(dataset, largest: bool) -> tuple[float, str]:
    """The largest (or smallest) value over every element of an ArviZ result, NaN
    counting as worst, and where it is ("xi[14226]")."""
    found = None
    for name, values in dataset.data_vars.items():
        flat = values.values.ravel()
        if flat.size == 0:
            continue
        badness = np.where(np.isnan(flat), np.inf, flat if largest else -flat)
        i = int(np.argmax(badness))
        if found is None or badness[i] > found[0]:
            position = np.unravel_index(i, values.shape) if values.ndim else ()
            label = ",".join(str(values[dim].values[p]) for dim, p in zip(values.dims, position))
            found = (badness[i], float(flat[i]), f"{name}[{label}]" if label else name)
    return (np.nan, "missing") if found is None else found[1:]


def convergence_summary(idata, gated: Mapping[str, Sequence[str]], tail: bool = True) -> dict:
    """Diagnostics of `idata` as a JSON-ready dict.

    Per gate group: `rhat_<g>_max` and where (`rhat_<g>_worst`, e.g. "xi[14226]"),
    `ess_bulk_<g>_min`, `ess_tail_<g>_min` (tail=False leaves it out: the stopping
    rule's looks read R-hat and bulk ESS only); then divergences, E-BFMI per chain,
    leapfrog steps and the timings nutpie recorded in idata.attrs. A group none of
    whose variables is in the posterior gets NaN values (its gates then fail).
    """
    import arviz as az

    post = idata.posterior
    summary: dict = {"gate_groups": {group: list(variables) for group, variables in gated.items()}}
    for group, variables in gated.items():
        present = [v for v in variables if v in post]
        if not present:
            summary.update({f"rhat_{group}_max": np.nan, f"ess_bulk_{group}_min": np.nan,
                            f"ess_tail_{group}_min": np.nan, f"rhat_{group}_worst": "missing"})
            continue
        rhats = az.rhat(idata, var_names=present)
        rhat, where = _worst(rhats, largest=True)
        bulk, _ = _worst(az.ess(idata, var_names=present, method="bulk"), largest=False)
        summary.update({f"rhat_{group}_max": rhat, f"rhat_{group}_worst": where, f"ess_bulk_{group}_min": bulk})
        if tail:
            summary[f"ess_tail_{group}_min"] = _worst(az.ess(idata, var_names=present, method="tail"), largest=False)[0]
        if "xi" in present:
            summary["worst_xi"] = str(rhats["xi"].idxmax().item())
    stats = idata.sample_stats
    ebfmi = np.atleast_1d(az.bfmi(idata))
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
    """One record per gate: name, value, threshold, passed. A value missing from the
    summary is an error, not a pass."""
    return [
        {
            "gate": gate.name,
            "value": summary[gate.summary_key],
            "op": gate.op,
            "threshold": gate.threshold,
            "passed": gate.passes(summary[gate.summary_key]),
            "description": gate.description,
        }
        for gate in gates
    ]


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
