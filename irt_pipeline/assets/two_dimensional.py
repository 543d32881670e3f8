"""posterior_2d -> diagnostics_2d -> rankings_2d: the two-dimensional model
(stats/models/two_dimensional.py) on the same partitions, through the shared stages
(`fit_posterior`, `judge_posterior`, `require_passed_gates`). rankings_2d carries both
dimensions and the plane picture."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.assets.diagnostics import gate_check_specs, judge_posterior
from irt_pipeline.assets.posterior import fit_posterior
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.models import two_dimensional


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version=versions.POSTERIOR_2D,
    pool="mcmc",
    op_tags=MCMC_OP_TAGS,  # with Celery: the MCMC workers' queue
)
def posterior_2d(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
) -> dg.Output:
    """Draws of the two-dimensional 2PL model (NetCDF): xi (dim 1) and xi_2 (dim 2), each
    standardized and uncorrelated, the parties apart on dim 1 only; tau, tau_2, alpha,
    beta, beta_2. Started from pc1 and pc2; cached like `posterior` (under
    {root}/cache/posterior_2d/)."""
    return fit_posterior(context, two_dimensional.SPEC, vote_matrix, pca_init, sampler, storage)


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version=versions.DIAGNOSTICS,
    check_specs=gate_check_specs("diagnostics_2d", two_dimensional.SPEC),
)
def diagnostics_2d(context: dg.AssetExecutionContext, posterior_2d):
    """Convergence summary of the two-dimensional posterior and its gates (blocking
    checks): R-hat and bulk ESS over dim 1 (xi), dim 2 (xi_2) and the discrimination
    scales (tau, tau_2); divergences; E-BFMI."""
    yield from judge_posterior(context, posterior_2d, two_dimensional.SPEC, upstream="posterior_2d")


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="parquet_io",
    group_name=GROUP,
    code_version=versions.RANKINGS_2D,
)
def rankings_2d(context: dg.AssetExecutionContext, posterior_2d, diagnostics_2d: dict) -> dg.Output[pd.DataFrame]:
    """One row per legislator: posterior mean, sd and 94% HDI of dim 1 and dim 2, rank on
    dim 1 (1 = most conservative); the plane picture (dim 1 against dim 2 by party, 94%
    HDIs on both axes) in the metadata. Only from a posterior that passed its gates."""
    from irt_pipeline import plots
    from irt_pipeline.stats.rankings import posterior_legislators, rank_legislators_2d

    require_passed_gates(diagnostics_2d, posterior_2d, _where(context))
    table = rank_legislators_2d(posterior_2d, posterior_legislators(posterior_2d))
    session, chamber = session_and_chamber(context)
    plane = plots.png_bytes(plots.plane_plot(table, title=f"{chamber} {session}: two dimensions, 94% HDIs"))
    shown = ["rank", "name", "party", "xi_mean", "xi_2_mean", "xi_2_hdi_low", "xi_2_hdi_high"]
    return dg.Output(
        table,
        metadata={
            "legislators": len(table),
            "posterior_id": posterior_2d.attrs["posterior_id"],
            "xi_scale": posterior_2d.attrs.get("xi_scale", ""),
            "second_dimension_lean": float(posterior_2d.attrs.get("second_dimension_lean", float("nan"))),
            "highest_on_dim_2": dg.MetadataValue.md(
                table.nlargest(10, "xi_2_mean")[shown].to_markdown(index=False, floatfmt=".3f")
            ),
            "lowest_on_dim_2": dg.MetadataValue.md(
                table.nsmallest(10, "xi_2_mean")[shown].to_markdown(index=False, floatfmt=".3f")
            ),
            "plane_plot": dg.MetadataValue.md(plots.markdown_image(plane, f"two dimensions, {chamber} {session}")),
            **landing_lineage(context, "posterior_2d"),
        },
        data_version=versions.data_version(frame_digest(table)),
    )
