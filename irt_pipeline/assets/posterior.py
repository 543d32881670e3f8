"""posterior: draws of the hierarchical 2PL model from nutpie, stored as NetCDF."""

import hashlib

import dagster as dg
import numpy as np
import pandas as pd
import xarray as xr

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.cache import fit_or_reuse, force_refit, key_parts, source_fingerprint
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.sampling import sample_hierarchical

MODEL = "hierarchical_2pl"
# The sampling code loaded in this process, part of the cache key (see versions.py).
SAMPLING_CODE = source_fingerprint(
    "irt_pipeline.stats.model", "irt_pipeline.stats.kernel", "irt_pipeline.stats.sampling",
    "irt_pipeline.stats.callbacks",
)


def posterior_fingerprint(idata) -> str:
    """Content hash of the ideal-point draws: ties diagnostics to the posterior they
    judged."""
    return hashlib.sha256(np.ascontiguousarray(idata.posterior["xi"].values).tobytes()).hexdigest()


def fit_posterior(
    context: dg.AssetExecutionContext,
    *,
    model: str,
    sampling_code: str,
    sample,
    vote_matrix: pd.DataFrame,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
    metadata=None,
) -> dg.Output:
    """The posterior stage of any model: `sample(matrix, start, settings)` through the
    posterior cache (`{root}/cache/<asset name>/`), with the legislators' names and
    parties attached and the draws fingerprinted. `sampling_code` (a source
    fingerprint) enters the cache key; `metadata(idata)` adds output metadata."""
    matrix = VoteMatrix.from_frame(vote_matrix)
    start = pca_init.set_index("legislator_id").loc[matrix.legislators["legislator_id"], "pc1"]
    settings = sampler.settings()

    def fit():
        idata = sample(matrix, start.to_numpy(), settings)
        legislators = matrix.legislators.set_index("legislator_id")
        idata.add_groups(
            constant_data=xr.Dataset(
                {
                    "legislator_name": ("legislator", legislators["legislator_name"].astype(str).to_numpy()),
                    "party": ("legislator", legislators["party"].astype(str).to_numpy()),
                },
                coords={"legislator": legislators.index.astype(str).to_numpy()},
            )
        )
        idata.attrs["posterior_id"] = posterior_fingerprint(idata)
        return idata

    parts = key_parts(
        model,
        f"{context.assets_def.code_versions_by_key[context.asset_key]}+{sampling_code}",
        {"vote_matrix": frame_digest(vote_matrix), "pca_init": frame_digest(pca_init)},
        settings.as_dict(),
    )
    cache_name = context.asset_key.path[-1]
    idata, cached = fit_or_reuse(storage.base, cache_name, parts, fit, force=force_refit(context))
    context.log.info(f"{cache_name} cache {cached.status}: {cached.path}")
    idata.attrs["partition"] = _where(context)
    return dg.Output(
        idata,
        metadata={
            "compile_seconds": float(idata.attrs["compile_seconds"]),
            "sampling_seconds": float(idata.attrs["sampling_seconds"]),
            "sampler": dg.MetadataValue.json(settings.as_dict()),
            "posterior_id": idata.attrs["posterior_id"],
            **(metadata(idata) if metadata else {}),
            **landing_lineage(context, "vote_matrix"),
            **cached.metadata(),
        },
        data_version=versions.data_version(idata.attrs["posterior_id"]),
    )


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version=versions.POSTERIOR,
    automation_condition=downstream_condition(),
    pool="mcmc",
    op_tags=MCMC_OP_TAGS,  # with Celery: the MCMC workers' queue
)
def posterior(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
) -> dg.Output:
    """Draws of the hierarchical 2PL model from nutpie (NetCDF). xi is standardized:
    chamber mean 0, sd 1. Reused from the posterior cache when the same fit (inputs,
    settings, seed, code) is stored there; run tag irt/force_refit=true refits."""
    return fit_posterior(
        context,
        model=MODEL,
        sampling_code=SAMPLING_CODE,
        sample=sample_hierarchical,
        vote_matrix=vote_matrix,
        pca_init=pca_init,
        sampler=sampler,
        storage=storage,
    )
