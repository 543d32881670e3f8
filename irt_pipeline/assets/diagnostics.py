"""The diagnostics stage of every model (`judge_posterior`): the convergence summary of
its posterior and its gates as blocking checks (`gate_check_specs`: R-hat and bulk ESS
over every gated parameter group, divergences, E-BFMI)."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import ERROR
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.diagnostics import NOTHING_TO_JUDGE, gates_for
from irt_pipeline.stats.models.spec import ModelSpec


def gate_check_specs(asset: str, spec: ModelSpec, partitions_def=session_chamber_partitions) -> list[dg.AssetCheckSpec]:
    """The model's gates as blocking, partitioned checks on `asset` (a panel model's:
    partitioned by chamber)."""
    return [
        dg.AssetCheckSpec(
            g.name,
            asset=asset,
            blocking=True,
            description=f"{g.description} {g.op} {g.threshold:g}",
            partitions_def=partitions_def,
        )
        for g in gates_for(spec.gated)
    ]


def _result(gate: dict) -> str:
    if not gate.get("applies", True):
        return f"pass ({NOTHING_TO_JUDGE})"
    return "pass" if gate["passed"] else "**FAIL**"


def _tables(summary: dict, gates: list[dict]) -> tuple[str, str]:
    """Markdown: the gate table, and R-hat / bulk / tail ESS per parameter group."""
    gate_rows = [
        f"| {g['gate']} | {g['value']:.4g} | {g['op']} {g['threshold']:g} | {_result(g)} |"
        for g in gates
    ]
    group_rows = [
        f"| {group} | {', '.join(variables)} | {summary[f'rhat_{group}_max']:.4f} ({summary[f'rhat_{group}_worst']}) "
        f"| {summary[f'ess_bulk_{group}_min']:.0f} | {summary[f'ess_tail_{group}_min']:.0f} |"
        for group, variables in summary["gate_groups"].items()
    ]
    return (
        "\n".join(["| gate | value | threshold | result |", "|---|---|---|---|", *gate_rows]),
        "\n".join(["| group | variables | max R-hat (where) | min bulk ESS | min tail ESS |",
                   "|---|---|---|---|---|", *group_rows]),
    )


def judge_posterior(context, posterior, spec: ModelSpec, upstream: str):
    """The diagnostics stage of `spec`, whose posterior asset is `upstream`: the summary
    as output and one result per gate, at ERROR severity."""
    from irt_pipeline import plots
    from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates

    summary = convergence_summary(posterior, spec.gated)
    gates = evaluate_gates(summary, gates_for(spec.gated))
    summary.update(
        model=spec.name,
        posterior_id=posterior.attrs["posterior_id"],
        gates=gates,
        gates_passed=all(g["passed"] for g in gates),
    )
    gate_table, group_table = _tables(summary, gates)
    worst = summary["worst_xi"]
    mixing = plots.png_bytes(
        plots.mixing_plot(posterior, worst, title=f"worst-mixing ideal point: {worst} (R-hat {summary['rhat_xi_max']:.4f})")
    )
    yield dg.Output(
        summary,
        metadata={
            "gates": dg.MetadataValue.md(gate_table),
            "parameter_groups": dg.MetadataValue.md(group_table),
            "gates_passed": summary["gates_passed"],
            "compile_seconds": summary["compile_seconds"],
            "sampling_seconds": summary["sampling_seconds"],
            "leapfrog_steps_per_draw": round(summary["leapfrog_steps_per_draw"], 1),
            "worst_xi": worst,
            "worst_xi_plot": dg.MetadataValue.md(plots.markdown_image(mixing, f"trace and rank plot of xi[{worst}]")),
            **landing_lineage(context, upstream),
        },
        data_version=versions.data_version(summary),
    )
    for g in gates:
        yield dg.AssetCheckResult(
            check_name=g["gate"],
            passed=g["passed"],
            severity=ERROR,
            metadata={"value": float(g["value"]), "threshold": f"{g['op']} {g['threshold']:g}",
                      **({} if g.get("applies", True) else {"applies": f"no: {NOTHING_TO_JUDGE}"})},
        )


def diagnostics_asset(spec: ModelSpec, partitions_def=session_chamber_partitions, **asset_args) -> dg.AssetsDefinition:
    """The diagnostics stage of `spec` as an asset (`spec.asset("diagnostics")`, fed by
    `spec.asset("posterior")`), its gates blocking checks on the same partitions;
    asset_args: the rest of the asset's definition (group, automation)."""
    name = spec.asset

    @dg.asset(
        name=name("diagnostics"),
        ins={"posterior": dg.AssetIn(name("posterior"))},
        io_manager_key="json_io",
        code_version=versions.DIAGNOSTICS,
        check_specs=gate_check_specs(name("diagnostics"), spec, partitions_def),
        description=f"Convergence summary of {spec.title}'s posterior and its gates (blocking checks): "
        + "; ".join(f"R-hat, bulk and tail ESS over {', '.join(v)}" for v in spec.gated.values())
        + "; divergences; E-BFMI.",
        partitions_def=partitions_def,
        **asset_args,
    )
    def diagnostics(context: dg.AssetExecutionContext, posterior):
        yield from judge_posterior(context, posterior, spec, upstream=name("posterior"))

    return diagnostics
