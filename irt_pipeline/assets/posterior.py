"""The posterior stage of every model (`fit_posterior`): draws of the model from nutpie
through the posterior cache, stored as NetCDF."""

import hashlib
import json

import dagster as dg
import numpy as np
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import frame_digest, where as _where
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.cache import fit_or_reuse, force_refit, key_parts
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models.spec import ModelSpec
from irt_pipeline.stats.sampling import code_fingerprint, sample

# idata.attrs a model's post-processing may record, shown as metadata when present.
MODEL_ATTRS = (
    "extreme_conservative", "extreme_liberal", "reflected_draws", "second_dimension_lean",
)


def model_attr(value):
    """A model attribute as metadata: numbers as Python numbers (NetCDF gives numpy
    scalars back), an empty value as "none"."""
    if isinstance(value, np.generic):
        return value.item()
    return value or "none"


def posterior_fingerprint(idata) -> str:
    """Content hash of the ideal-point draws: ties diagnostics to the posterior they
    judged (and those of dim 2, for a two-dimensional posterior)."""
    digest = hashlib.sha256(np.ascontiguousarray(idata.posterior["xi"].values).tobytes())
    if "xi_2" in idata.posterior:
        digest.update(np.ascontiguousarray(idata.posterior["xi_2"].values).tobytes())
    return digest.hexdigest()


def fit_posterior(
    context: dg.AssetExecutionContext,
    spec: ModelSpec,
    matrix: VoteMatrix,
    pca_init: pd.DataFrame,
    sampler: Sampler,
    storage: Storage,
) -> dg.Output:
    """The posterior stage of any model: `spec` sampled from the PCA start through the
    posterior cache (`{root}/cache/<asset name>/`), the draws fingerprinted. The key
    holds the asset's code version and a fingerprint of the model's code; the draws are
    put on the side of pca_init's orientation rule (its `orientation` column), which the
    posterior records."""
    ids = matrix.legislators["legislator_id"]
    start = spec.start_scores(pca_init, ids)
    weights = pca_init.set_index("legislator_id").loc[list(ids), "orientation"].to_numpy(float)
    rule = {name: pca_init.attrs.get(name, "") for name in ("orientation_rule", "orientation_poles")}
    settings = sampler.settings()

    def fit():
        from irt_pipeline.stats.stopping import describe_progress

        def progress(state: dict) -> None:
            context.log.info(f"{context.asset_key.to_user_string()} {describe_progress(state)}")

        idata = sample(spec, matrix, start, settings, progress=progress, orientation=weights)
        idata.attrs.update(posterior_id=posterior_fingerprint(idata), **rule)
        return idata

    parts = key_parts(
        spec.name,
        f"{context.assets_def.code_versions_by_key[context.asset_key]}+{code_fingerprint(spec)}",
        {"vote_matrix": matrix.digest(), "pca_init": frame_digest(pca_init)},
        settings.as_dict(),
    )
    cache_name = context.asset_key.path[-1]
    idata, cached = fit_or_reuse(storage.base, cache_name, parts, fit, force=force_refit(context))
    context.log.info(f"{cache_name} cache {cached.status}: {cached.path}")
    idata.attrs["partition"] = _where(context)
    return dg.Output(
        idata,
        metadata={
            "model": spec.name,
            "xi_scale": spec.scale,
            "orientation": idata.attrs.get("orientation_rule", ""),
            "priors": dg.MetadataValue.json(json.loads(idata.attrs["priors"])),
            "compile_seconds": float(idata.attrs["compile_seconds"]),
            "sampling_seconds": float(idata.attrs["sampling_seconds"]),
            "draws_used": int(idata.attrs["draws_used"]),
            "stop": idata.attrs["stop"],
            "coordinates": idata.attrs.get("coordinates", "default"),
            "sampler": dg.MetadataValue.json(settings.as_dict()),
            "posterior_id": idata.attrs["posterior_id"],
            **{name: model_attr(idata.attrs[name]) for name in MODEL_ATTRS if name in idata.attrs},
            **landing_lineage(context, "vote_matrix"),
            **cached.metadata(),
        },
        data_version=versions.data_version(idata.attrs["posterior_id"]),
    )


