"""posterior: draws of the hierarchical 2PL model from nutpie, stored as NetCDF."""

import hashlib

import dagster as dg
import numpy as np
import pandas as pd
import xarray as xr

from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.resources import Sampler
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.sampling import sample_hierarchical


def posterior_fingerprint(idata) -> str:
    """Content hash of the ideal-point draws: ties diagnostics to the posterior they
    judged."""
    return hashlib.sha256(np.ascontiguousarray(idata.posterior["xi"].values).tobytes()).hexdigest()

@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="netcdf_io",
    group_name=GROUP,
    code_version="1",
    pool="mcmc",
)
def posterior(
    context: dg.AssetExecutionContext, vote_matrix: pd.DataFrame, pca_init: pd.DataFrame, sampler: Sampler
) -> dg.Output:
    """Draws of the hierarchical 2PL model from nutpie (NetCDF). xi is standardized:
    chamber mean 0, sd 1."""
    matrix = VoteMatrix.from_frame(vote_matrix)
    start = pca_init.set_index("legislator_id").loc[matrix.legislators["legislator_id"], "pc1"]
    settings = sampler.settings()
    idata = sample_hierarchical(matrix, start.to_numpy(), settings)
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
    idata.attrs["partition"] = _where(context)
    return dg.Output(
        idata,
        metadata={
            "compile_seconds": idata.attrs["compile_seconds"],
            "sampling_seconds": idata.attrs["sampling_seconds"],
            "sampler": dg.MetadataValue.json(settings.as_dict()),
            "posterior_id": idata.attrs["posterior_id"],
        },
    )
