"""flat_posterior: draws of the flat 2PL model (anchors at +1 and -1) from nutpie,
stored as NetCDF. The posterior stage is shared with `posterior` (`fit_posterior`)."""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.posterior import fit_posterior
from irt_pipeline.cache import source_fingerprint
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.flat_sampling import sample_flat

MODEL = "flat_2pl"
SAMPLING_CODE = source_fingerprint(
    "irt_pipeline.stats.flat_model",
    "irt_pipeline.stats.flat_sampling",
    "irt_pipeline.stats.kernel",
    "irt_pipeline.stats.callbacks",
    "irt_pipeline.stats.model",  # item_logits, the starts of alpha and beta
)


def flat_metadata(idata) -> dict:
    """Where the flat posterior's scale comes from, and any chain flipped to party."""
    return {
        "xi_scale": idata.attrs["xi_scale"],
        "anchor_conservative": idata.attrs["anchor_conservative"],
        "anchor_liberal": idata.attrs["anchor_liberal"],
        "reflected_chains": idata.attrs.get("reflected_chains", "") or "none",
    }


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version=versions.FLAT_POSTERIOR,
    pool="mcmc",
    op_tags=MCMC_OP_TAGS,  # with Celery: the MCMC workers' queue
)
def flat_posterior(
    context: dg.AssetExecutionContext,
    vote_matrix: pd.DataFrame,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
) -> dg.Output:
    """Draws of the flat 2PL model (NetCDF). xi is on the anchored scale: the most
    conservative Republican on PCA at +1, the most liberal Democrat at -1 (among
    legislators who voted on at least half the roll calls); chains checked against
    party. Cached like `posterior` (under {root}/cache/flat_posterior/)."""
    return fit_posterior(
        context,
        model=MODEL,
        sampling_code=SAMPLING_CODE,
        sample=sample_flat,
        vote_matrix=vote_matrix,
        pca_init=pca_init,
        sampler=sampler,
        storage=storage,
        metadata=flat_metadata,
    )
