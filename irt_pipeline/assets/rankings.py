"""rankings: legislators ordered by posterior mean ideal point, only from a posterior
that passed its gates. `rank_posterior` is the rankings stage of every model and
`require_passed_gates` the guard of everything built on a posterior."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.stats.rankings import posterior_legislators, rank_legislators


def require_passed_gates(diagnostics, posterior, where: str, action: str = "rank") -> None:
    """Refuse (dg.Failure) a posterior whose stored diagnostics do not show every gate
    of its model passed: failed, missing, unreadable, or of another posterior. The
    model is the one the posterior records (`attrs["model"]`); `action` names what is
    refused. A later run of rankings alone goes through here too."""
    from irt_pipeline.stats.diagnostics import gates_for, verify_gates
    from irt_pipeline.stats.models import spec_named

    spec = spec_named(posterior.attrs.get("model"))
    if spec is None:
        problems = [f"the stored posterior names no known model ({posterior.attrs.get('model')!r}); refit it"]
    else:
        problems = verify_gates(diagnostics, posterior.attrs.get("posterior_id"), gates_for(spec.gated))
    if problems:
        raise dg.Failure(
            description=f"{where}: refusing to {action} from this posterior: its convergence gates "
            f"are not shown passed: {'; '.join(problems)}"
        )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.RANKINGS,
    automation_condition=downstream_condition(),
)
def rankings(context: dg.AssetExecutionContext, posterior, diagnostics: dict) -> dg.Output[pd.DataFrame]:
    """One row per legislator: posterior mean, sd, 94% HDI of xi and rank
    (1 = most conservative)."""
    return rank_posterior(context, posterior, diagnostics, upstream="posterior")


def rank_posterior(context, posterior, diagnostics: dict, upstream: str) -> dg.Output[pd.DataFrame]:
    """The rankings stage of any model, whose posterior asset is `upstream`: refuse a
    posterior that failed its gates, then rank its legislators."""
    from irt_pipeline import plots

    require_passed_gates(diagnostics, posterior, _where(context))
    table = rank_legislators(posterior, posterior_legislators(posterior))
    session, chamber = session_and_chamber(context)
    forest = plots.png_bytes(plots.forest_plot(table, title=f"{chamber} {session}: ideal points, 94% HDI"))
    shown = ["rank", "name", "party", "xi_mean", "xi_hdi_low", "xi_hdi_high"]
    return dg.Output(
        table,
        metadata={
            "legislators": len(table),
            "posterior_id": posterior.attrs["posterior_id"],
            "xi_scale": posterior.attrs.get("xi_scale", ""),
            "most_conservative": dg.MetadataValue.md(table[shown].head(10).to_markdown(index=False, floatfmt=".3f")),
            "most_liberal": dg.MetadataValue.md(table[shown].tail(10).to_markdown(index=False, floatfmt=".3f")),
            "forest_plot": dg.MetadataValue.md(plots.markdown_image(forest, f"forest plot, {chamber} {session}")),
            **landing_lineage(context, upstream),
        },
        data_version=versions.data_version(frame_digest(table)),
    )
