"""dimensionality: is one dimension enough for this partition? The two-dimensional model
against the default one (stats/dimensionality.py), from each model's stored `loo` and
`posterior_predictive` (computed once per posterior), with a WARN check that fails when
the second dimension clearly matters. It never blocks: the 1D chain stands either way."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.assets.loo import require_gated_loo
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.dimensionality import CLASSIFICATION_GAIN_MIN, ELPD_SE_MULTIPLE, dimensionality_verdict
from irt_pipeline.stats.loo import elpd_from_table
from irt_pipeline.stats.models.spec import ModelSpec

CHECK = "one_dimension_is_enough"


def _share_correct(predictive: dict, loo: pd.DataFrame, where: str, key: str) -> float:
    """The share of votes classified correctly by the posterior whose LOO is `loo`;
    refused (dg.Failure) when the predictive checks are of another posterior."""
    if predictive.get("posterior_id") != loo.attrs.get("posterior_id"):
        raise dg.Failure(
            description=f"{where}: the stored predictive checks of the {key} model are not of the posterior "
            "its LOO (and gates) were computed from; materialize its posterior_predictive again"
        )
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
                    "WARN on the one-dimensional scale: fails when the second dimension clearly matters "
                    f"(elpd_diff of 2D over 1D > {ELPD_SE_MULTIPLE:g} se and a gain of more than "
                    f"{CLASSIFICATION_GAIN_MIN:.0%} of votes classified correctly); read {spec.asset('rankings')} then"
                ),
                partitions_def=session_chamber_partitions,
            )
        ],
        description="The verdict (JSON): elpd_loo of each model, elpd_diff (2D minus 1D) and its se, the "
        "share of votes classified correctly by each and the gain, and whether the second dimension "
        "matters under the rule of stats/dimensionality.py; from posteriors that passed their gates.",
    )
    def dimensionality(
        context: dg.AssetExecutionContext, loo_1d, loo_2d, predictive_1d: dict, predictive_2d: dict,
        diagnostics_1d: dict, diagnostics_2d: dict,
    ):
        where = _where(context)
        require_gated_loo(loo_1d, diagnostics_1d, default, where, "judge the dimensions")
        require_gated_loo(loo_2d, diagnostics_2d, spec, where, "judge the dimensions")
        shares = [
            _share_correct(predictive, loo, where, key)
            for predictive, loo, key in ((predictive_1d, loo_1d, default.key), (predictive_2d, loo_2d, spec.key))
        ]
        result = dimensionality_verdict(elpd_from_table(loo_1d), elpd_from_table(loo_2d, votes=loo_1d), *shares)
        result.update(
            votes=len(loo_1d),
            posterior_ids={"1d": loo_1d.attrs["posterior_id"], "2d": loo_2d.attrs["posterior_id"]},
        )
        figures = {
            "elpd_diff": round(result["elpd_diff"], 2),
            "se": round(result["se"], 2),
            "classification_gain": round(result["classification_gain"], 4),
            "share_correct_1d": round(result["share_correct_1d"], 4),
            "share_correct_2d": round(result["share_correct_2d"], 4),
        }
        yield dg.Output(
            result,
            metadata={**figures, "second_dimension_matters": result["second_dimension_matters"], "rule": result["rule"]},
            data_version=versions.data_version(result),
        )
        matters = result["second_dimension_matters"]
        yield dg.AssetCheckResult(
            check_name=CHECK,
            passed=not matters,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                "the second dimension clearly matters here: the 1D scale leaves out a real division of the "
                f"chamber; read {spec.asset('rankings')} beside it" if matters else "one dimension is enough here"
            ),
            metadata={**figures, "rule": result["rule"]},
        )

    return dimensionality
