"""common_scale and careers: every session of a chamber on one scale, partitioned by
chamber alone and fed by every session's posterior and diagnostics of that chamber
(stats/common_scale.py does the statistics).

- common_scale: one row per legislator per linked session (chamber, session,
  session_index, legislator_id, name, party, position_mean, position_sd,
  position_hdi_low, position_hdi_high, session_xi_mean); its metadata holds the
  polarization chart, the long-serving legislators' trajectories, the links and the
  sessions left out with the reason.
- careers: one row per legislator (first and last session, sessions, mean position
  and trend per session with 94% HDIs).

A session whose posterior failed its gates, whose diagnostics are missing or do not
belong to its posterior, or that bridges to the others through too few legislators is
left out and named in the metadata. Posteriors load one at a time (netcdf_lazy_io).
"""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import frame_digest
from irt_pipeline.assets.rankings import posterior_legislators, require_passed_gates
from irt_pipeline.automation import across_sessions_condition
from irt_pipeline.partitions import chamber_partitions, split_key
from irt_pipeline.stats import common_scale as cs
from irt_pipeline.stats.models import DEFAULT, MODELS
from irt_pipeline.stats.orientation import most_named

GROUP = "across_sessions"
SPEC = MODELS[DEFAULT]  # the model whose per-session posteriors are linked
BY_CHAMBER = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="chamber")
METHOD = (
    f"mean-sigma linking of adjacent sessions per posterior draw ({cs.LINK_DRAWS} draws), "
    f"Bayesian bootstrap over the bridges, at least {cs.MIN_BRIDGES} bridges per link"
)


def _by_session(context, name: str, loaded) -> dict:
    """The loaded partitions of input `name` keyed by session. Dagster hands over the
    object itself, not a dict, when the mapping yields a single partition."""
    keys = context.asset_partition_keys_for_input(name)
    if loaded is None or not keys:
        return {}
    if len(keys) == 1:
        loaded = {keys[0]: loaded}
    return {split_key(key)[0]: value for key, value in loaded.items()}


def session_draws(session: str, idata) -> cs.SessionDraws:
    """A stored posterior as stats.common_scale.SessionDraws (xi flattened over chains)."""
    xi = idata.posterior["xi"]
    ids = [str(v) for v in xi["legislator"].values]
    legislators = posterior_legislators(idata).set_index("legislator_id").loc[ids].reset_index()
    values = xi.stack(sample=("chain", "draw")).transpose("sample", "legislator").values
    return cs.SessionDraws(session, legislators, values)


def gated_sessions(chamber: str, posteriors: dict, diagnostics: dict):
    """(SessionDraws of every session that passed its gates, {session: reason} for the
    rest, {session: (posterior_id, its orientation poles)} of those used). posteriors:
    session -> loader."""
    passed, left_out, used = [], {}, {}
    for session in cs.session_order([*posteriors, *diagnostics]):
        if session not in posteriors:
            left_out[session] = "no posterior stored for this chamber"
            continue
        if session not in diagnostics:
            left_out[session] = "no diagnostics stored for its posterior (materialize diagnostics)"
            continue
        try:
            idata = posteriors[session]()
        except Exception as exc:  # noqa: BLE001 - a torn or foreign file is named, not trusted
            left_out[session] = f"posterior unreadable ({type(exc).__name__}: {exc})"
            continue
        try:
            require_passed_gates(
                diagnostics[session], idata, SPEC, f"partition session={session} chamber={chamber}", action="link"
            )
        except dg.Failure as failure:
            left_out[session] = failure.description
            continue
        passed.append(session_draws(session, idata))
        used[session] = (idata.attrs["posterior_id"], idata.attrs.get("orientation_poles", ""))
    return passed, left_out, used


def chamber_poles(recorded: list[str]) -> tuple[str, str] | None:
    """The party poles of the chamber's party chart: the pair the linked sessions'
    orientation rules name most often (`orientation_poles`, "conservative,liberal"), or
    None where none names a pair (declared orientations: no party chart)."""
    return most_named(p.split(",") for p in recorded if p)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".3f") if len(frame) else "none"


def _out(description: str) -> dg.AssetOut:
    return dg.AssetOut(
        io_manager_key="parquet_io",
        code_version=versions.COMMON_SCALE,
        automation_condition=across_sessions_condition(),
        description=description,
    )


@dg.multi_asset(
    partitions_def=chamber_partitions,
    group_name=GROUP,
    can_subset=False,
    ins={
        "posterior": dg.AssetIn(
            SPEC.asset("posterior"),
            partition_mapping=BY_CHAMBER,
            input_manager_key="netcdf_lazy_io",
            metadata={"allow_missing_partitions": True},
        ),
        "diagnostics": dg.AssetIn(
            SPEC.asset("diagnostics"), partition_mapping=BY_CHAMBER, metadata={"allow_missing_partitions": True}
        ),
    },
    outs={
        "common_scale": _out(
            "Every legislator-session of the chamber on one scale (units: sd of the reference "
            "session's legislators; + conservative): mean, sd, 94% HDI."
        ),
        "careers": _out(
            "One row per legislator on the common scale: first/last session, mean position and "
            "trend per session, with 94% HDIs."
        ),
    },
)
def common_scale(context: dg.AssetExecutionContext, posterior, diagnostics):
    """Link every session of the chamber that passed its gates onto one scale."""
    chamber = context.partition_key
    sessions, left_out, used = gated_sessions(
        chamber, _by_session(context, "posterior", posterior), _by_session(context, "diagnostics", diagnostics)
    )
    scale = cs.link_sessions(sessions, left_out)
    if not scale.links:
        raise dg.Failure(
            description=f"chamber={chamber}: no session can be put on a common scale",
            metadata={"left_out": dg.MetadataValue.json(scale.left_out)},
        )
    yield from scale_outputs(
        scale, chamber, chamber_poles([used[s][1] for s in scale.linked]),
        {"method": METHOD, "reference_session": scale.reference,
         "links": dg.MetadataValue.md(_table(cs.links_table(scale))),
         "posterior_ids": dg.MetadataValue.json({s: used[s][0] for s in scale.linked})},
        where=f"on the common scale (reference {scale.reference})",
    )


def scale_outputs(
    scale: cs.CommonScale, chamber: str, poles, metadata: dict, names=("common_scale", "careers"), where: str = "",
    compare=None,
):
    """The two outputs of a chamber's scale (`names`: the legislator-sessions table and
    the careers), with the polarization chart, the trajectories and the sessions left
    out in their metadata; `metadata`: what the method adds (how the sessions were put
    on one scale); `where`: the chart title's words for the scale; compare: table ->
    metadata of the table's agreement with another scale (None: none)."""
    from irt_pipeline import plots

    table = cs.legislator_sessions(scale)
    table.insert(0, "chamber", chamber)
    career = cs.careers(scale)
    medians = cs.party_medians(scale, poles) if poles else pd.DataFrame()
    gap = cs.party_gap(scale, *poles) if poles else pd.DataFrame()
    title = f"{chamber}: party medians {where}".strip()
    polarization = (
        plots.markdown_image(plots.png_bytes(plots.polarization_plot(medians, gap, title=title, poles=poles)),
                             f"polarization chart, {chamber}")
        if poles else "no party chart: no pair of party poles orients the sessions (their orientation is declared)"
    )
    trajectories = plots.png_bytes(
        plots.trajectories_plot(
            table, scale.linked, cs.long_serving(career, poles or ()), poles=poles,
            title=f"{chamber}: long-serving members, mean and 94% HDI",
        )
    )
    movers = career[(career["trend_hdi_low"] > 0) | (career["trend_hdi_high"] < 0)]
    yield dg.Output(
        table,
        output_name=names[0],
        metadata={
            "sessions_linked": len(scale.linked),
            "sessions": ", ".join(scale.linked),
            "sessions_left_out": len(scale.left_out),
            "left_out": dg.MetadataValue.json(scale.left_out),
            "legislator_sessions": len(table),
            **metadata,
            "party_gap": dg.MetadataValue.md(_table(gap)),
            "polarization_chart": dg.MetadataValue.md(polarization),
            "trajectories": dg.MetadataValue.md(plots.markdown_image(trajectories, f"trajectories, {chamber}")),
            "poles": dg.MetadataValue.json(list(poles or ())),  # (conservative, liberal); [] when none
            **(compare(table) if compare else {}),
        },
        data_version=versions.data_version(frame_digest(table)),
    )
    shown = ["name", "party", "first_session", "last_session", "sessions", "position_mean", "trend_mean", "trend_hdi_low", "trend_hdi_high"]
    yield dg.Output(
        career,
        output_name=names[1],
        metadata={
            "legislators": len(career),
            "longest_serving": dg.MetadataValue.md(_table(career[shown].head(10))),
            "moved": len(movers),
            "moved_list": dg.MetadataValue.md(_table(movers[shown].head(20))),
        },
        data_version=versions.data_version(frame_digest(career)),
    )
