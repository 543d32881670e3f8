"""The assets of a panel model (`stats/models/dynamic.py`): a chamber's sessions in one
posterior, partitioned by chamber alone and fed by every session's vote matrix.

    vote_matrix (every session of the chamber) -> {key}_posterior -> {key}_diagnostics
        -> {key}_scale, {key}_careers

- {key}_posterior: the draws (NetCDF) through the posterior cache, keyed by every
  session's vote matrix digest and orientation rule (orientation.csv, else the party
  poles, as the session's pca_init decides it), the sampler settings and the model's
  code; the sessions
  that share too few members with the rest are left out and named (as the linking
  leaves them out). Its metadata names every landing file it was computed from.
- {key}_diagnostics: the convergence summary and the model's gates as blocking checks
  (R-hat, bulk and tail ESS over every position, omega, the party level and the
  roll calls' scale; divergences; E-BFMI), as for a session's posterior.
- {key}_scale, {key}_careers: the columns of `common_scale` and `careers`, only from a
  posterior that passed its gates; the scale's metadata says how it agrees with the
  linking's stored `common_scale` (per session: r, each one's relative party gap), or
  "undetermined" and why.

Run on request (`irt-pipeline scale --method dynamic`, the model's job): refitting a
chamber's whole panel whenever one session changes is a cost automation should not
take on the users' behalf.
"""

import json

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._lineage import landing_files_of
from irt_pipeline.assets.common_scale import BY_CHAMBER, GROUP, _by_session, _table, scale_outputs
from irt_pipeline.assets.diagnostics import diagnostics_asset
from irt_pipeline.assets.pca_init import declarations, partition_orientation
from irt_pipeline.assets.posterior import posterior_fingerprint
from irt_pipeline.assets.rankings import require_passed_gates
from irt_pipeline.cache import fit_or_reuse, force_refit, key_parts
from irt_pipeline.deploy import MCMC_OP_TAGS
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import chamber_partitions, split_key
from irt_pipeline.resources import Sampler, Storage
from irt_pipeline.stats.models.spec import ModelSpec
from irt_pipeline.stats.sampling import code_fingerprint

LINKING = "common_scale"  # the linking's legislator-sessions asset, compared with in the metadata


def landing_files(context, sessions: list[str]) -> list[dict]:
    """The landing files (with sha256) of the vote matrices of `sessions` (those the
    posterior holds), as each vote matrix's materialization names them."""
    files = []
    for key in context.asset_partition_keys_for_input("vote_matrix"):
        if split_key(key)[0] in sessions:
            files += landing_files_of(context.instance, "vote_matrix", str(key)) or []
    return files


def session_rules(storage: Storage, matrices: dict, chamber: str) -> dict:
    """session -> its partition's orientation rule (orientation.csv, else the built-in
    party poles: `pca_init.partition_orientation`), None where none decides (the panel
    weighs that session nothing). A bad orientation.csv fails the step, naming it."""
    try:
        declared = declarations(storage)
    except BadInput as exc:
        raise dg.Failure(description=str(exc)) from None
    rules = {}
    for session, matrix in sorted(matrices.items()):
        try:
            rules[session] = partition_orientation(storage, matrix, session, chamber, "", declared)
        except BadInput:
            rules[session] = None
    return rules


def linking_agreement(storage: Storage, chamber: str, table, poles) -> dict:
    """Metadata: how a panel model's scale (`table`, the legislator-sessions) agrees
    with the linking's scale of the chamber as stored (`common_scale`;
    `stats.common_scale.agreement`), or "undetermined" and why where that cannot be
    said (not stored, unreadable, no legislator-session in common)."""
    import pyarrow

    from irt_pipeline.io_managers import read_parquet
    from irt_pipeline.stats.common_scale import agreement

    path = storage.base / LINKING / f"{chamber}.parquet"
    try:
        if not path.exists():
            raise FileNotFoundError(f"{path} is not stored (irt-pipeline scale --chamber {chamber} links the sessions)")
        per_session, summary = agreement(table, read_parquet(path), poles)
    except (OSError, ValueError, KeyError, pyarrow.ArrowException) as exc:
        return {"agreement_with_linking": f"undetermined: {exc}"}
    return {
        "agreement_with_linking": dg.MetadataValue.json(summary),
        "agreement_by_session": dg.MetadataValue.md(_table(per_session)),
    }


def panel_model_assets(spec: ModelSpec) -> dict[str, dg.AssetsDefinition]:
    """stage -> the panel model's asset: "posterior", "diagnostics", "scale" (the
    multi-asset of {key}_scale and {key}_careers)."""
    name = spec.asset
    common = dict(partitions_def=chamber_partitions, group_name=GROUP)
    every_session = dict(partition_mapping=BY_CHAMBER, metadata={"allow_missing_partitions": True})

    @dg.asset(
        name=name("posterior"),
        ins={"vote_matrix": dg.AssetIn("vote_matrix", **every_session)},
        io_manager_key="netcdf_io",
        code_version=spec.version,
        pool="mcmc",
        op_tags=MCMC_OP_TAGS,
        description=f"Draws of {spec.title} over every session of the chamber (NetCDF): {spec.scale}. Reused "
        "from the posterior cache when the same fit is stored there; run tag irt/force_refit=true refits.",
        **common,
    )
    def posterior(context: dg.AssetExecutionContext, vote_matrix, sampler: Sampler, storage: Storage) -> dg.Output:
        from irt_pipeline.stats.panel_sampling import fit_panel
        from irt_pipeline.stats.stopping import describe_progress

        chamber = context.partition_key
        matrices = _by_session(context, "vote_matrix", vote_matrix)
        if not matrices:
            raise dg.Failure(description=f"chamber={chamber}: no session has a vote matrix (run the sessions' chains)")
        settings = sampler.settings()
        rules = session_rules(storage, matrices, chamber)

        def fit():
            def progress(state: dict) -> None:
                context.log.info(f"{name('posterior')} {describe_progress(state)}")

            idata = fit_panel(spec, matrices, settings, progress=progress, rules=rules, where=f"chamber={chamber}")
            idata.attrs.update(posterior_id=posterior_fingerprint(idata))
            return idata

        parts = key_parts(
            spec.name,
            f"{context.assets_def.code_versions_by_key[context.asset_key]}+{code_fingerprint(spec)}",
            {session: matrix.digest() for session, matrix in sorted(matrices.items())}
            | {"orientation": versions.digest({s: None if r is None else r.weights.tolist() for s, r in rules.items()})},
            settings.as_dict(),
        )
        try:
            idata, cached = fit_or_reuse(storage.base, name("posterior"), parts, fit, force=force_refit(context))
        except BadInput as exc:  # no session of the panel has an orientation rule
            raise dg.Failure(description=str(exc)) from None
        context.log.info(f"{name('posterior')} cache {cached.status}: {cached.path}")
        idata.attrs["partition"] = f"chamber={chamber}"
        return dg.Output(
            idata,
            metadata={
                "model": spec.name,
                "xi_scale": spec.scale,
                "sessions": idata.attrs["sessions"],
                "left_out": dg.MetadataValue.json(json.loads(idata.attrs["left_out"])),
                "orientation": idata.attrs.get("orientation_rule", ""),
                "legislator_sessions": int(idata.posterior.sizes["legislator_session"]),
                "priors": dg.MetadataValue.json(json.loads(idata.attrs["priors"])),
                "sampling_seconds": float(idata.attrs["sampling_seconds"]),
                "gradient_evaluations": int(idata.attrs["gradient_evaluations"]),
                "draws_used": int(idata.attrs["draws_used"]),
                "stop": idata.attrs["stop"],
                "sampler": dg.MetadataValue.json(settings.as_dict()),
                "posterior_id": idata.attrs["posterior_id"],
                "landing_files": dg.MetadataValue.json(landing_files(context, idata.attrs["sessions"].split(","))),
                **cached.metadata(),
            },
            data_version=versions.data_version(idata.attrs["posterior_id"]),
        )

    diagnostics = diagnostics_asset(spec, chamber_partitions, group_name=GROUP)

    @dg.multi_asset(
        ins={"posterior": dg.AssetIn(name("posterior")), "diagnostics": dg.AssetIn(name("diagnostics")),
             "vote_matrix": dg.AssetIn("vote_matrix", **every_session)},
        outs={
            f"{spec.key}_scale": dg.AssetOut(
                io_manager_key="parquet_io", code_version=versions.COMMON_SCALE,
                description=f"Every legislator-session of the chamber from {spec.title} (units: sd over the "
                "panel's legislator-sessions; + conservative): mean, sd, 94% HDI; the columns of common_scale.",
            ),
            f"{spec.key}_careers": dg.AssetOut(
                io_manager_key="parquet_io", code_version=versions.COMMON_SCALE,
                description=f"One row per legislator from {spec.title}: first/last session, mean position and "
                "trend per session, with 94% HDIs; the columns of careers.",
            ),
        },
        deps=[dg.AssetDep(LINKING)],  # read for the agreement with the linking, when stored
        can_subset=False,
        **common,
    )
    def scale(context: dg.AssetExecutionContext, posterior, diagnostics: dict, vote_matrix, storage: Storage):
        chamber = context.partition_key
        from irt_pipeline.stats.panel_sampling import spec_module

        require_passed_gates(diagnostics, posterior, spec, f"chamber={chamber}", action="publish a scale")
        matrices = _by_session(context, "vote_matrix", vote_matrix)
        held = json.loads(posterior.attrs["vote_matrices"])
        stale = [s for s, digest in held.items() if s not in matrices or matrices[s].digest() != digest]
        if stale:
            raise dg.Failure(description=f"chamber={chamber}: the stored {name('posterior')} was fitted to other vote "
                             f"matrices of {', '.join(stale)} than those stored now; rematerialize {name('posterior')}")
        legislators = {s: matrices[s].legislators for s in held}
        scale = spec_module(spec).scale_of_posterior(posterior, legislators)
        poles = tuple(filter(None, posterior.attrs.get("orientation_poles", "").split(","))) or None
        yield from scale_outputs(
            scale, chamber, poles,
            {"method": f"{spec.title}: one posterior over the sessions",
             "posterior_id": posterior.attrs["posterior_id"],
             "omega_mean": float(posterior.posterior["omega"].mean())},
            names=(f"{spec.key}_scale", f"{spec.key}_careers"),
            where=f"({spec.key} model, one posterior)",
            compare=lambda table: linking_agreement(storage, chamber, table, poles),
        )

    return {"posterior": posterior, "diagnostics": diagnostics, "scale": scale}
