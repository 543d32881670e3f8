"""model_comparison: PSIS-LOO of every checked model (the default and the models marked
`checked`, e.g. the flat one), compared with ArviZ's table (stats/loo.py), from each
model's stored `loo` (computed once per posterior, only from posteriors that passed their
gates)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.assets.loo import require_gated_loo
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.loo import MAX_DRAWS, compare_models, elpd_from_table, pareto_k_summary
from irt_pipeline.stats.models.spec import ModelSpec

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


def compare_loo_tables(tables: dict[str, pd.DataFrame]) -> tuple[dict, pd.DataFrame]:
    """(JSON-ready result, az.compare table) of models' `loo_table` frames by model key:
    the preferred model, the runner-up's elpd_diff and dse, Pareto-k summaries, draws
    used, posterior ids. Refused (ValueError) when the tables are not over the same votes."""
    first = next(iter(tables.values()))
    loos = {key: elpd_from_table(table, votes=first) for key, table in tables.items()}
    table = compare_models(loos)
    best, other = table.index[0], table.index[1]
    result = {
        "preferred": best,
        "elpd_diff": float(table.loc[other, "elpd_diff"]),
        "dse": float(table.loc[other, "dse"]),
        "comparison": table[COLUMNS].reset_index(names="model").to_dict("records"),
        "pareto_k": {key: pareto_k_summary(t) for key, t in tables.items()},
        "max_draws": MAX_DRAWS,
        "draws_used": {key: int(t.attrs["n_samples"]) for key, t in tables.items()},
        "votes": len(first),
        "posterior_ids": {key: t.attrs["posterior_id"] for key, t in tables.items()},
    }
    return result, table


def model_comparison_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    """The comparison of `specs` (at least two) from their `loo` assets."""
    ins = {
        **{spec.key: dg.AssetIn(spec.asset("loo")) for spec in specs},
        **{f"{spec.key}_diagnostics": dg.AssetIn(spec.asset("diagnostics")) for spec in specs},
    }

    @dg.asset(
        name="model_comparison",
        ins=ins,
        partitions_def=session_chamber_partitions,
        io_manager_key="json_io",
        group_name=GROUP,
        code_version=versions.MODEL_COMPARISON,
        description="PSIS-LOO of " + ", ".join(spec.key for spec in specs) + " (log scale; higher elpd "
        "predicts held-out votes better) and az.compare's table: elpd_loo, p_loo, elpd_diff from the "
        "best model and its standard error dse, stacking weights, Pareto-k warnings.",
    )
    def model_comparison(context: dg.AssetExecutionContext, **inputs) -> dg.Output[dict]:
        loo_tables = {spec.key: inputs[spec.key] for spec in specs}
        for spec in specs:
            require_gated_loo(
                inputs[spec.key], inputs[f"{spec.key}_diagnostics"], spec, _where(context), "compare models"
            )
        result, table = compare_loo_tables(loo_tables)
        warnings = {key: bool(t.attrs["warning"]) for key, t in loo_tables.items()}
        return dg.Output(
            result,
            metadata={
                "comparison": dg.MetadataValue.md(table[COLUMNS].to_markdown(floatfmt=".2f")),
                "preferred": result["preferred"],
                "elpd_diff": round(result["elpd_diff"], 2),
                "dse": round(result["dse"], 2),
                "pareto_k_warnings": dg.MetadataValue.md(pareto_table(result["pareto_k"])),
                "pareto_k_warning": dg.MetadataValue.json(warnings),
                "draws_used": dg.MetadataValue.json(result["draws_used"]),
            },
            data_version=versions.data_version(result),
        )

    return model_comparison
