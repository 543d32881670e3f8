"""The rankings stage of every model (`rank_posterior`): legislators ordered by posterior
mean ideal point, only from a posterior that passed its gates; and
`require_passed_gates`, the guard of everything built on a posterior."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.partitions import session_and_chamber
from irt_pipeline.stats.rankings import posterior_legislators, rank_legislators


def require_passed_gates(diagnostics, posterior, spec, where: str, action: str = "rank") -> None:
    """Refuse (dg.Failure) a posterior of the model `spec` whose stored diagnostics do not
    show every gate of the model passed: failed, missing, unreadable, or of another
    posterior, or a posterior of another model. `action` names what is refused. A later
    run of rankings alone goes through here too."""
    from irt_pipeline.stats.diagnostics import gates_for, verify_gates

    recorded = posterior.attrs.get("model")
    if recorded != spec.name:
        problems = [f"the stored posterior is of the model {recorded!r}, not {spec.name!r}; refit it"]
    else:
        problems = verify_gates(diagnostics, posterior.attrs.get("posterior_id"), gates_for(spec.gated))
    if problems:
        raise dg.Failure(
            description=f"{where}: refusing to {action} from this posterior: its convergence gates "
            f"are not shown passed: {'; '.join(problems)}"
        )


def rank_posterior(context, posterior, diagnostics: dict, spec, upstream: str) -> dg.Output[pd.DataFrame]:
    """The rankings stage of the model `spec`, whose posterior asset is `upstream`: refuse a
    posterior that failed its gates, then rank its legislators (`rank_legislators`:
    dim 2's columns too for a two-dimensional posterior) with the forest plot, or the
    plane for two dimensions, and the top and bottom ten in the metadata."""
    from irt_pipeline import plots

    require_passed_gates(diagnostics, posterior, spec, _where(context))
    table = rank_legislators(posterior, posterior_legislators(posterior))
    poles = tuple(filter(None, posterior.attrs.get("orientation_poles", "").split(",")))
    session, chamber = session_and_chamber(context)
    shown = ["rank", "name", "party", "xi_mean", "xi_hdi_low", "xi_hdi_high"]
    metadata = {
        "legislators": len(table),
        "posterior_id": posterior.attrs["posterior_id"],
        "xi_scale": posterior.attrs.get("xi_scale", ""),
        "orientation": posterior.attrs.get("orientation_rule", ""),
        "most_conservative": dg.MetadataValue.md(table[shown].head(10).to_markdown(index=False, floatfmt=".3f")),
        "most_liberal": dg.MetadataValue.md(table[shown].tail(10).to_markdown(index=False, floatfmt=".3f")),
    }
    if "xi_2_mean" in table:
        plane = plots.png_bytes(plots.plane_plot(table, title=f"{chamber} {session}: two dimensions, 94% HDIs", poles=poles))
        shown_2 = ["rank", "name", "party", "xi_mean", "xi_2_mean", "xi_2_hdi_low", "xi_2_hdi_high"]
        metadata.update(
            second_dimension_lean=float(posterior.attrs.get("second_dimension_lean", float("nan"))),
            highest_on_dim_2=dg.MetadataValue.md(table.nlargest(10, "xi_2_mean")[shown_2].to_markdown(index=False, floatfmt=".3f")),
            lowest_on_dim_2=dg.MetadataValue.md(table.nsmallest(10, "xi_2_mean")[shown_2].to_markdown(index=False, floatfmt=".3f")),
            plane_plot=dg.MetadataValue.md(plots.markdown_image(plane, f"two dimensions, {chamber} {session}")),
        )
    else:
        forest = plots.png_bytes(plots.forest_plot(table, title=f"{chamber} {session}: ideal points, 94% HDI", poles=poles))
        metadata["forest_plot"] = dg.MetadataValue.md(plots.markdown_image(forest, f"forest plot, {chamber} {session}"))
    return dg.Output(
        table,
        metadata={**metadata, **landing_lineage(context, upstream)},
        data_version=versions.data_version(frame_digest(table)),
    )
