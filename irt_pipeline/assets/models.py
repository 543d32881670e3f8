"""The assets of one model, made from its specification (`stats/models/spec.py`), the same
stages for every model (an asset factory, Dagster's idiom for variants):

    vote_matrix, pca_init -> {p}posterior{s} -> {p}diagnostics{s} -> {p}rankings{s}
                             {p}posterior{s} -> {p}posterior_predictive{s}
                             {p}posterior{s}, {p}diagnostics{s} -> {p}loo{s}

named by the spec (`spec.asset(stage)`: "posterior", "flat_rankings", "loo_2d"). The
stages' bodies are `fit_posterior`, `judge_posterior` (whose gates, from `spec.gated`,
are blocking checks), `rank_posterior`, `check_predictions` and `leave_one_out`. The
default model's chain is under declarative automation; the others run on request.
"""


import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.diagnostics import diagnostics_asset
from irt_pipeline.assets.loo import leave_one_out
from irt_pipeline.assets.posterior import fit_posterior
from irt_pipeline.assets.posterior_predictive import check_predictions
from irt_pipeline.assets.rankings import rank_posterior
from irt_pipeline.automation import downstream_condition
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import STAGES, ModelSpec


def model_assets(spec: ModelSpec, automated: bool = False) -> dict[str, dg.AssetsDefinition]:
    """stage -> the model's asset of that stage (`STAGES` order). automated: the chain
    (posterior, diagnostics, rankings) re-materializes under declarative automation."""
    name = spec.asset
    common = dict(partitions_def=session_chamber_partitions, group_name=GROUP)
    automation = {"automation_condition": downstream_condition()} if automated else {}

    @dg.asset(
        name=name("posterior"),
        io_manager_key="netcdf_io",
        code_version=spec.version,
        pool="mcmc",
        op_tags=MCMC_OP_TAGS,  # with Celery: the MCMC workers' queue
        description=f"Draws of {spec.title} from nutpie (NetCDF): {spec.scale}. Reused from the posterior "
        "cache when the same fit (inputs, settings, seed, code) is stored there; run tag "
        "irt/force_refit=true refits.",
        **common,
        **automation,
    )
    def posterior(
        context: dg.AssetExecutionContext, vote_matrix: VoteMatrix, pca_init: pd.DataFrame, sampler: Sampler,
        storage: Storage,
    ) -> dg.Output:
        return fit_posterior(context, spec, vote_matrix, pca_init, sampler, storage)

    diagnostics = diagnostics_asset(spec, group_name=GROUP, **automation)

    @dg.asset(
        name=name("rankings"),
        ins={"posterior": dg.AssetIn(name("posterior")), "diagnostics": dg.AssetIn(name("diagnostics"))},
        io_manager_key="parquet_io",
        code_version=versions.RANKINGS,
        description=f"One row per legislator from {spec.title}: posterior mean, sd and 94% HDI of each "
        "dimension and rank (1 = most conservative); only from a posterior that passed its gates.",
        **common,
        **automation,
    )
    def rankings(context: dg.AssetExecutionContext, posterior, diagnostics: dict) -> dg.Output[pd.DataFrame]:
        return rank_posterior(context, posterior, diagnostics, spec, upstream=name("posterior"))

    @dg.asset(
        name=name("posterior_predictive"),
        ins={"posterior": dg.AssetIn(name("posterior"))},
        io_manager_key="json_io",
        code_version=versions.POSTERIOR_PREDICTIVE,
        description=f"Posterior predictive checks of {spec.title} (200 draws): share of votes correctly "
        "predicted, APRE, Bayesian p-value of the Yea rate, fit per legislator and roll call.",
        **common,
    )
    def posterior_predictive(posterior, vote_matrix: VoteMatrix) -> dg.Output[dict]:
        return check_predictions(posterior, vote_matrix)

    @dg.asset(
        name=name("loo"),
        ins={"posterior": dg.AssetIn(name("posterior")), "diagnostics": dg.AssetIn(name("diagnostics"))},
        io_manager_key="parquet_io",
        code_version=versions.LOO,
        description=f"PSIS-LOO of {spec.title} per observed vote (loo_i, Pareto k; totals in the "
        "file's metadata), once per posterior for the comparisons that read it.",
        **common,
    )
    def loo(context: dg.AssetExecutionContext, posterior, diagnostics: dict, vote_matrix: VoteMatrix) -> dg.Output:
        return leave_one_out(context, posterior, diagnostics, vote_matrix, spec)

    made = {"posterior": posterior, "diagnostics": diagnostics, "rankings": rankings,
            "posterior_predictive": posterior_predictive, "loo": loo}
    return {stage: made[stage] for stage in STAGES}
