"""The posterior predictive stage of every model (`check_predictions`): predictive checks
of its posterior against the observed votes (stats/ppc.py). Not gates: nothing waits on
them, and they run on any posterior, converged or not."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.ppc import posterior_predictive_checks

WORST = 10  # legislators and roll calls shown in the metadata


def check_predictions(posterior, matrix: VoteMatrix) -> dg.Output[dict]:
    """The checks as a JSON-ready dict (summary, per legislator, per roll call) with the
    headline numbers and the worst-predicted legislators and roll calls as metadata."""
    summary, legislators, roll_calls = posterior_predictive_checks(posterior, matrix)
    names = posterior.constant_data["legislator_name"].to_series().astype(str)
    legislators.insert(1, "name", names.reindex(legislators["legislator_id"]).to_numpy())
    worst_legislators = legislators.nsmallest(WORST, "share_correct")
    worst_roll_calls = roll_calls.nsmallest(WORST, "share_correct")
    result = {
        **summary,
        "posterior_id": posterior.attrs["posterior_id"],
        "legislators": legislators.to_dict("records"),
        "roll_calls": roll_calls.to_dict("records"),
    }
    return dg.Output(
        result,
        metadata={
            "share_correct": round(summary["share_correct"], 4),
            "share_correct_majority": round(summary["share_correct_majority"], 4),
            "apre": round(summary["apre"], 4),
            "yea_rate_observed": round(summary["yea_rate_observed"], 4),
            "yea_rate_replicated_mean": round(summary["yea_rate_replicated_mean"], 4),
            "yea_rate_p_value": round(summary["yea_rate_p_value"], 4),
            "draws": summary["draws"],
            "posterior_id": posterior.attrs["posterior_id"],
            "worst_predicted_legislators": dg.MetadataValue.md(
                worst_legislators.to_markdown(index=False, floatfmt=".3f")
            ),
            "worst_predicted_roll_calls": dg.MetadataValue.md(
                worst_roll_calls.to_markdown(index=False, floatfmt=".3f")
            ),
        },
        data_version=versions.data_version(summary, posterior.attrs["posterior_id"]),
    )
