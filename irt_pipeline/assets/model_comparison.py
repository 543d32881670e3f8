"""model_comparison: PSIS-LOO of the hierarchical and the flat posterior over the
observed votes, and ArviZ's comparison table (stats/loo.py). Only from posteriors that
passed their gates."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.loo import MAX_DRAWS, compare_models, pareto_k_summary, psis_loo
from irt_pipeline.stats.matrix import VoteMatrix

COLUMNS = ["rank", "elpd_loo", "p_loo", "elpd_diff", "se", "dse", "weight", "warning"]


def pareto_table(summaries: dict) -> str:
    """Markdown: per model, votes whose Pareto k is above the good threshold, above 1,
    and the largest k."""
    lines = ["| model | votes | k > good_k | k > 1 | max k | good_k |", "|---|---|---|---|---|---|"]
    for name, s in summaries.items():
        lines.append(
            f"| {name} | {s['votes']} | {s['k_above_good']} | {s['k_above_1']} | {s['k_max']:.3f} | {s['good_k']:.2f} |"
        )
    return "\n".join(lines)


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version=versions.MODEL_COMPARISON,
)
def model_comparison(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    posterior,
    diagnostics: dict,
    flat_posterior,
    flat_diagnostics: dict,
) -> dg.Output[dict]:
    """PSIS-LOO of both models (log scale; higher elpd predicts held-out votes better)
    and `az.compare`'s table: elpd_loo, p_loo, elpd_diff from the best model and its
    standard error dse, stacking weights, Pareto-k warnings. Pointwise log-likelihoods
    are recomputed from at most 2000 draws per model, in chunks of votes."""
    where = _where(context)
    require_passed_gates(diagnostics, posterior, where, action="compare models")
    require_passed_gates(flat_diagnostics, flat_posterior, where, action="compare models")
    matrix = VoteMatrix.from_frame(vote_matrix)
    loos = {"hierarchical": psis_loo(posterior, matrix), "flat": psis_loo(flat_posterior, matrix)}
    table = compare_models(loos)
    pareto = {name: pareto_k_summary(elpd, matrix) for name, elpd in loos.items()}
    best, other = table.index[0], table.index[1]
    result = {
        "preferred": best,
        "elpd_diff": float(table.loc[other, "elpd_diff"]),
        "dse": float(table.loc[other, "dse"]),
        "comparison": table[COLUMNS].reset_index(names="model").to_dict("records"),
        "pareto_k": pareto,
        "max_draws": MAX_DRAWS,
        "draws_used": {name: int(elpd["n_samples"]) for name, elpd in loos.items()},
        "votes": matrix.n_observed,
        "posterior_ids": {"hierarchical": posterior.attrs["posterior_id"], "flat": flat_posterior.attrs["posterior_id"]},
    }
    warnings = {name: bool(elpd["warning"]) for name, elpd in loos.items()}
    return dg.Output(
        result,
        metadata={
            "comparison": dg.MetadataValue.md(table[COLUMNS].to_markdown(floatfmt=".2f")),
            "preferred": best,
            "elpd_diff": round(result["elpd_diff"], 2),
            "dse": round(result["dse"], 2),
            "pareto_k_warnings": dg.MetadataValue.md(pareto_table(pareto)),
            "pareto_k_warning": dg.MetadataValue.json(warnings),
            "draws_used": dg.MetadataValue.json(result["draws_used"]),
        },
        data_version=versions.data_version(result),
    )
