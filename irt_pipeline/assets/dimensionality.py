"""dimensionality: is one dimension enough for this partition? The two-dimensional model
against the default one, out of sample (stats/dimensionality.py), from each model's stored
`loo` (computed once per posterior), with a WARN check that fails unless the verdict is
"one dimension is enough": when the second dimension matters, and when the verdict is
undetermined (a figure not finite, a gain too close to the threshold to call, unreliable
PSIS estimates that could decide it, or a posterior whose gates are not shown passed). It never blocks: the 1D chain stands
either way."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.dimensionality import (
    ELPD_SE_MULTIPLE, ENOUGH, MATTERS, OOS_GAIN_MIN, dimensionality_verdict,
)
from irt_pipeline.stats.models.spec import ModelSpec

CHECK = "one_dimension_is_enough"


def gate_problems(loo: pd.DataFrame, diagnostics: dict, spec: ModelSpec) -> list[str]:
    """Why the stored LOO table of `spec` cannot be judged (empty: it can): its
    posterior's gates are not shown passed for the very posterior it was computed from."""
    from irt_pipeline.stats.diagnostics import gates_for, verify_gates

    problems = verify_gates(diagnostics, loo.attrs.get("posterior_id"), gates_for(spec.gated))
    return [f"the {spec.key} model's gates are not shown passed: {'; '.join(problems)}"] if problems else []


def in_sample_share(predictive: dict, loo: pd.DataFrame) -> float | None:
    """The share of votes classified correctly in sample by the posterior whose LOO is
    `loo`, or None when the predictive checks are of another posterior."""
    if predictive.get("posterior_id") != loo.attrs.get("posterior_id"):
        return None
    return float(predictive["share_correct"])


def dimensionality_asset(default: ModelSpec, spec: ModelSpec) -> dg.AssetsDefinition:
    """The verdict of `spec` (two dimensions) against `default`."""

    @dg.asset(
        name="dimensionality",
        ins={
            "loo_1d": dg.AssetIn(default.asset("loo")),
            "loo_2d": dg.AssetIn(spec.asset("loo")),
            "predictive_1d": dg.AssetIn(default.asset("posterior_predictive")),
            "predictive_2d": dg.AssetIn(spec.asset("posterior_predictive")),
            "diagnostics_1d": dg.AssetIn(default.asset("diagnostics")),
            "diagnostics_2d": dg.AssetIn(spec.asset("diagnostics")),
        },
        partitions_def=session_chamber_partitions,
        io_manager_key="json_io",
        group_name=GROUP,
        code_version=versions.DIMENSIONALITY,
        check_specs=[
            dg.AssetCheckSpec(
                CHECK,
                asset="dimensionality",
                blocking=False,
                description=(
                    "WARN on the one-dimensional scale: fails when the second dimension matters (the 2D model "
                    f"classifies more than {OOS_GAIN_MIN:.1%} more of the votes correctly out of sample, PSIS-LOO, "
                    f"and elpd_diff > {ELPD_SE_MULTIPLE:g} se; read {spec.asset('rankings')} then), and when the "
                    "verdict is undetermined (never read as a pass)"
                ),
                partitions_def=session_chamber_partitions,
            )
        ],
        description="The verdict (JSON): 'one dimension is enough', 'the second dimension matters' or "
        "'undetermined' (with the reasons), from each model's PSIS-LOO per vote: the share of votes each "
        "classifies correctly out of sample and the gain, elpd_diff (2D minus 1D) and its se, the unreliable "
        "votes (Pareto k); the in-sample shares beside them. Rule: stats/dimensionality.py.",
    )
    def dimensionality(
        context: dg.AssetExecutionContext, loo_1d, loo_2d, predictive_1d: dict, predictive_2d: dict,
        diagnostics_1d: dict, diagnostics_2d: dict,
    ):
        problems = gate_problems(loo_1d, diagnostics_1d, default) + gate_problems(loo_2d, diagnostics_2d, spec)
        shares = [in_sample_share(p, t) for p, t in ((predictive_1d, loo_1d), (predictive_2d, loo_2d))]
        result = dimensionality_verdict(loo_1d, loo_2d, problems, in_sample=None if None in shares else shares)
        result.update(
            partition=_where(context),
            posterior_ids={"1d": loo_1d.attrs.get("posterior_id"), "2d": loo_2d.attrs.get("posterior_id")},
        )
        figures = {
            name: round(float(result[name]), digits)
            for name, digits in (("oos_gain", 4), ("oos_gain_se", 4), ("oos_gain_low", 4), ("oos_gain_high", 4), ("elpd_diff", 2),
                                 ("se", 2), ("share_correct_oos_1d", 4), ("share_correct_oos_2d", 4),
                                 ("classification_gain", 4))
            if name in result
        }
        figures.update({name: result[name] for name in ("unreliable_votes", "undecided_votes") if name in result})
        verdict = result["verdict"]
        yield dg.Output(
            result,
            metadata={**figures, "verdict": verdict, "reasons": "; ".join(result["reasons"]) or "none",
                      "rule": result["rule"]},
            data_version=versions.data_version(result),
        )
        yield dg.AssetCheckResult(
            check_name=CHECK,
            passed=verdict == ENOUGH,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                "the second dimension matters here: the 1D scale leaves out a division of the chamber that "
                f"predicts held-out votes; read {spec.asset('rankings')} beside it" if verdict == MATTERS
                else "one dimension is enough here" if verdict == ENOUGH
                else "undetermined: " + "; ".join(result["reasons"])
            ),
            metadata={**figures, "verdict": verdict, "rule": result["rule"]},
        )

    return dimensionality
