"""The LOO stage of every model (`leave_one_out`): PSIS-LOO of its posterior over the
observed votes, computed once per posterior and stored pointwise (stats/loo.py's
`loo_table`: one row per vote, the totals in the parquet's metadata), so every comparison
and verdict that reads it (model_comparison, dimensionality) reuses it. Only from a
posterior that passed its gates."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import frame_digest, where as _where
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.stats.loo import MAX_DRAWS, loo_table, pareto_k_summary, psis_loo
from irt_pipeline.stats.matrix import VoteMatrix


def leave_one_out(context, posterior, diagnostics: dict, matrix: VoteMatrix, spec) -> dg.Output:
    """PSIS-LOO of `posterior` over the matrix's votes (at most `MAX_DRAWS` draws), as a
    `loo_table` frame whose attrs also hold the posterior's id."""
    require_passed_gates(diagnostics, posterior, spec, _where(context), action="compute its PSIS-LOO")
    table = loo_table(psis_loo(posterior, matrix), matrix)
    table.attrs["posterior_id"] = posterior.attrs["posterior_id"]
    pareto = pareto_k_summary(table)
    return dg.Output(
        table,
        metadata={
            "elpd_loo": round(float(table.attrs["elpd_loo"]), 2),
            "se": round(float(table.attrs["se"]), 2),
            "p_loo": round(float(table.attrs["p_loo"]), 2),
            "votes": len(table),
            "draws_used": int(table.attrs["n_samples"]),
            "max_draws": MAX_DRAWS,
            "pareto_k_above_good": pareto["k_above_good"],
            "pareto_k_above_1": pareto["k_above_1"],
            "pareto_k_max": round(pareto["k_max"], 3),
            "posterior_id": posterior.attrs["posterior_id"],
        },
        data_version=versions.data_version(frame_digest(table), posterior.attrs["posterior_id"]),
    )


def require_gated_loo(table, diagnostics: dict, spec, where: str, action: str) -> None:
    """Refuse (dg.Failure) a stored LOO table unless the model's stored diagnostics show
    every gate passed for the very posterior the table was computed from (the guard of
    every comparison: a refit posterior that failed, or a LOO left from an earlier
    posterior, is refused, in this run or any later one)."""
    from irt_pipeline.stats.diagnostics import gates_for, verify_gates

    problems = verify_gates(diagnostics, table.attrs.get("posterior_id"), gates_for(spec.gated))
    if problems:
        raise dg.Failure(
            description=f"{where}: refusing to {action} from the {spec.key} model's stored LOO: its posterior's "
            f"gates are not shown passed for it: {'; '.join(problems)} (materialize {spec.asset('loo')} again "
            "after its posterior passes)"
        )
