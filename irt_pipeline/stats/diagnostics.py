"""Convergence diagnostics of a posterior and the four gates it must pass.

Gates (the pipeline's blocking checks): max R-hat(xi) < 1.01, min bulk ESS(xi) > 400,
zero divergent transitions, E-BFMI > 0.3 on every chain.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gate:
    name: str
    summary_key: str
    op: str  # "<", ">" or "=="
    threshold: float
    description: str

    def passes(self, value: float) -> bool:
        ops = {"<": operator.lt, ">": operator.gt, "==": operator.eq}
        return bool(np.isfinite(value) and ops[self.op](value, self.threshold))


GATES = (
    Gate("rhat_xi", "rhat_xi_max", "<", 1.01, "max rank-normalized split R-hat over ideal points"),
    Gate("ess_bulk_xi", "ess_bulk_xi_min", ">", 400, "min bulk ESS over ideal points"),
    Gate("divergences", "divergences", "==", 0, "divergent transitions after tuning, all chains"),
    Gate("ebfmi", "ebfmi_min", ">", 0.3, "min E-BFMI over chains"),
)


def convergence_summary(idata, party_vars=("mu_party", "sigma_party")) -> dict:
    """Diagnostics of `idata` as a JSON-ready dict.

    R-hat and ESS over xi and (separately) over the party parameters present in the
    posterior; divergences; E-BFMI per chain; leapfrog steps; the timings nutpie
    recorded in idata.attrs.
    """
    import arviz as az

    post = idata.posterior
    rhat_xi = az.rhat(idata, var_names=["xi"])["xi"]
    summary = {
        "rhat_xi_max": float(rhat_xi.max()),
        "ess_bulk_xi_min": float(az.ess(idata, var_names=["xi"], method="bulk")["xi"].min()),
        "ess_tail_xi_min": float(az.ess(idata, var_names=["xi"], method="tail")["xi"].min()),
        "worst_xi": str(rhat_xi.idxmax().item()),
    }
    present = [v for v in party_vars if v in post]
    if present:
        summary.update(
            rhat_party_max=_max_over(az.rhat(idata, var_names=present)),
            ess_bulk_party_min=_min_over(az.ess(idata, var_names=present, method="bulk")),
            ess_tail_party_min=_min_over(az.ess(idata, var_names=present, method="tail")),
        )
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


def _max_over(dataset) -> float:
    return float(max(dataset[v].max() for v in dataset.data_vars))


def _min_over(dataset) -> float:
    return float(min(dataset[v].min() for v in dataset.data_vars))


def evaluate_gates(summary: dict) -> list[dict]:
    """One record per gate: name, value, threshold, passed."""
    return [
        {
            "gate": gate.name,
            "value": summary[gate.summary_key],
            "op": gate.op,
            "threshold": gate.threshold,
            "passed": gate.passes(summary[gate.summary_key]),
            "description": gate.description,
        }
        for gate in GATES
    ]


def gates_passed(summary: dict) -> bool:
    return all(g["passed"] for g in evaluate_gates(summary))
