"""dimensionality: is one dimension enough for this partition? PSIS-LOO of the
two-dimensional posterior against the default (hierarchical) one and the gain in votes
classified correctly (stats/dimensionality.py), with a WARN check that fails when the
second dimension clearly matters. It never blocks: the 1D chain stands either way."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.dimensionality import CLASSIFICATION_GAIN_MIN, ELPD_SE_MULTIPLE, dimensionality_verdict
from irt_pipeline.stats.matrix import VoteMatrix

CHECK = "one_dimension_is_enough"


@dg.asset(
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
                f"{CLASSIFICATION_GAIN_MIN:.0%} of votes classified correctly); read rankings_2d then"
            ),
            partitions_def=session_chamber_partitions,
        )
    ],
)
def dimensionality(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    posterior,
    diagnostics: dict,
    posterior_2d,
    diagnostics_2d: dict,
):
    """The verdict (JSON): elpd_loo of each model, elpd_diff (2D minus 1D) and its se, the
    share of votes classified correctly by each and the gain, and whether the second
    dimension matters under the rule of stats/dimensionality.py. Only from posteriors
    that passed their gates; log-likelihoods from at most 2000 draws per model."""
    from irt_pipeline.stats.loo import psis_loo
    from irt_pipeline.stats.ppc import posterior_predictive_checks

    where = _where(context)
    require_passed_gates(diagnostics, posterior, where, action="judge the dimensions")
    require_passed_gates(diagnostics_2d, posterior_2d, where, action="judge the dimensions")
    matrix = VoteMatrix.from_frame(vote_matrix)
    shares = [posterior_predictive_checks(idata, matrix)[0]["share_correct"] for idata in (posterior, posterior_2d)]
    result = dimensionality_verdict(psis_loo(posterior, matrix), psis_loo(posterior_2d, matrix), *shares)
    result.update(
        votes=matrix.n_observed,
        posterior_ids={"1d": posterior.attrs["posterior_id"], "2d": posterior_2d.attrs["posterior_id"]},
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
            "chamber; read rankings_2d beside it" if matters else "one dimension is enough here"
        ),
        metadata={**figures, "rule": result["rule"]},
    )
