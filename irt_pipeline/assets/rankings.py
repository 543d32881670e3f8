"""rankings: legislators ordered by posterior mean ideal point, only from a posterior
that passed its gates."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.stats.rankings import rank_legislators


def require_passed_gates(diagnostics: dict, posterior, where: str, action: str = "rank") -> None:
    """Refuse a posterior that failed its gates or was never judged (a later run of
    rankings alone must not rank from it). `action` names what is refused."""
    if diagnostics.get("posterior_id") != posterior.attrs.get("posterior_id"):
        raise dg.Failure(
            description=f"{where}: refusing to {action}: the stored diagnostics are not of the "
            "stored posterior (materialize diagnostics first)"
        )
    failed = [g for g in diagnostics["gates"] if not g["passed"]]
    if failed:
        detail = ", ".join(f"{g['gate']}={g['value']:.4g} (needs {g['op']} {g['threshold']:g})" for g in failed)
        raise dg.Failure(
            description=f"{where}: refusing to {action} from a posterior that failed its "
            f"convergence gates: {detail}"
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


def posterior_legislators(posterior) -> pd.DataFrame:
    """legislator_id, legislator_name, party, as stored with the posterior."""
    constant = posterior.constant_data
    return pd.DataFrame(
        {
            "legislator_id": constant["legislator"].values.astype(str),
            "legislator_name": constant["legislator_name"].values.astype(str),
            "party": constant["party"].values.astype(str),
        }
    )


def rank_posterior(
    context, posterior, diagnostics: dict, upstream: str, ranked=None, metadata: dict | None = None
) -> dg.Output[pd.DataFrame]:
    """The rankings stage of any model, whose posterior asset is `upstream`: refuse a
    posterior that failed its gates, then rank `ranked` (the posterior restated on
    another scale; default the posterior itself)."""
    from irt_pipeline import plots

    require_passed_gates(diagnostics, posterior, _where(context))
    table = rank_legislators(posterior if ranked is None else ranked, posterior_legislators(posterior))
    session, chamber = session_and_chamber(context)
    forest = plots.png_bytes(plots.forest_plot(table, title=f"{chamber} {session}: ideal points, 94% HDI"))
    shown = ["rank", "name", "party", "xi_mean", "xi_hdi_low", "xi_hdi_high"]
    return dg.Output(
        table,
        metadata={
            "legislators": len(table),
            "posterior_id": posterior.attrs["posterior_id"],
            "most_conservative": dg.MetadataValue.md(table[shown].head(10).to_markdown(index=False, floatfmt=".3f")),
            "most_liberal": dg.MetadataValue.md(table[shown].tail(10).to_markdown(index=False, floatfmt=".3f")),
            "forest_plot": dg.MetadataValue.md(plots.markdown_image(forest, f"forest plot, {chamber} {session}")),
            **(metadata or {}),
            **landing_lineage(context, upstream),
        },
        data_version=versions.data_version(frame_digest(table)),
    )
