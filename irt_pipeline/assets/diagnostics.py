"""diagnostics: convergence summary of the posterior and the four blocking gate checks."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import ERROR, GROUP
from irt_pipeline.assets._lineage import landing_lineage
from irt_pipeline.automation import downstream_condition
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.diagnostics import GATES, evaluate_gates


def gate_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The four gates as blocking, partitioned checks on `asset`."""
    return [
        dg.AssetCheckSpec(
            g.name,
            asset=asset,
            blocking=True,
            description=g.description,
            partitions_def=session_chamber_partitions,
        )
        for g in GATES
    ]


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version=versions.DIAGNOSTICS,
    automation_condition=downstream_condition(),
    check_specs=gate_check_specs("diagnostics"),
)
def diagnostics(context: dg.AssetExecutionContext, posterior):
    """Convergence summary of the posterior and the four gates (blocking checks)."""
    yield from judge_posterior(context, posterior, upstream="posterior")


def judge_posterior(context, posterior, upstream: str, metadata: dict | None = None):
    """The diagnostics stage of any model, whose posterior asset is `upstream`: the
    summary as output (with `metadata` added) and one result per gate, at ERROR
    severity."""
    from irt_pipeline import plots
    from irt_pipeline.stats.diagnostics import convergence_summary

    summary = convergence_summary(posterior)
    gates = evaluate_gates(summary)
    summary.update(
        posterior_id=posterior.attrs["posterior_id"],
        gates=gates,
        gates_passed=all(g["passed"] for g in gates),
    )
    table = "\n".join(
        ["| gate | value | threshold | result |", "|---|---|---|---|"]
        + [
            f"| {g['gate']} | {g['value']:.4g} | {g['op']} {g['threshold']:g} | {'pass' if g['passed'] else '**FAIL**'} |"
            for g in gates
        ]
    )
    worst = summary["worst_xi"]
    mixing = plots.png_bytes(
        plots.mixing_plot(posterior, worst, title=f"worst-mixing ideal point: {worst} (R-hat {summary['rhat_xi_max']:.4f})")
    )
    yield dg.Output(
        summary,
        metadata={
            "gates": dg.MetadataValue.md(table),
            "gates_passed": summary["gates_passed"],
            "compile_seconds": summary["compile_seconds"],
            "sampling_seconds": summary["sampling_seconds"],
            "leapfrog_steps_per_draw": round(summary["leapfrog_steps_per_draw"], 1),
            "worst_xi": worst,
            "worst_xi_plot": dg.MetadataValue.md(plots.markdown_image(mixing, f"trace and rank plot of xi[{worst}]")),
            **(metadata or {}),
            **landing_lineage(context, upstream),
        },
        data_version=versions.data_version(summary),
    )
    for g in gates:
        yield dg.AssetCheckResult(
            check_name=g["gate"],
            passed=g["passed"],
            severity=ERROR,
            metadata={"value": float(g["value"]), "threshold": f"{g['op']} {g['threshold']:g}"},
        )
