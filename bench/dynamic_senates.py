"""The dynamic model on the shared Voteview Senates, against DW-NOMINATE.

    python bench/dynamic_senates.py                     # 110th-118th
    python bench/dynamic_senates.py --congresses 110-113

Every Congress's canonical rows are read and filtered as the pipeline does (the
Voteview reader, the data contract's conform, `build_vote_matrix` with the default
filters), the Senates go into one panel (`dynamic.bind`) and are sampled once under the
stopping rule (`panel_sampling.sample_bound`, default sampler settings). Compared with
DW-NOMINATE's `nominate_dim1` over the same legislator-sessions, as
bench/common_scale.py compares today's linking: pooled Pearson r of the posterior-mean
positions, the party gap per Congress (Republican minus Democratic median of posterior
means, and of means) against DW-NOMINATE's over the same members, the gap's change
first -> last, and the median posterior sd of a position in the first and last
Congress.

Prints markdown; writes every number to bench/out/dynamic_senates.json.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, voteview_files  # noqa: E402
from common_scale import congress_list, dw_nominate  # noqa: E402


def senate_matrix(congress: int):
    from irt_pipeline.contract import conform
    from irt_pipeline.sources.voteview import read_voteview
    from irt_pipeline.stats.matrix import build_vote_matrix

    votes, members = voteview_files(f"S{congress:03d}")
    rows = conform(read_voteview(str(votes), str(members), session=str(congress)))
    rows = rows[rows["chamber"] == "Senate"] if "chamber" in rows else rows
    matrix, _ = build_vote_matrix(rows, where=str(votes))
    return matrix


def run(args) -> dict:
    from irt_pipeline.stats import common_scale as cs
    from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates, gates_for
    from irt_pipeline.stats.models import PANEL_MODELS, dynamic
    from irt_pipeline.stats.panel_sampling import fit_panel
    from irt_pipeline.stats.sampling import SamplerSettings
    from irt_pipeline.stats.stopping import describe_progress

    congresses = congress_list(args.congresses)
    sessions = [str(c) for c in congresses]
    matrices = {s: senate_matrix(c) for s, c in zip(sessions, congresses)}
    settings = SamplerSettings(low_rank_mass_matrix=args.low_rank)  # the defaults
    settings = settings if args.seed is None else replace(settings, seed=args.seed)
    cpu, began = time.process_time(), time.perf_counter()
    idata = fit_panel(PANEL_MODELS["dynamic"], matrices, settings,
                      progress=lambda p: print(describe_progress(p), file=sys.stderr, flush=True))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - began

    gates = evaluate_gates(convergence_summary(idata, dynamic.GATED), gates_for(dynamic.GATED))
    scale = dynamic.scale_of_posterior(idata, {s: m.legislators for s, m in matrices.items()})
    table = cs.legislator_sessions(scale).rename(columns={"position_mean": "score", "position_sd": "sd"})
    post = idata.posterior
    runs = json.loads(idata.attrs["sampling_runs"])
    nominate = dw_nominate(congresses)
    table = table.merge(nominate[["session", "legislator_id", "nominate_dim1"]], on=["session", "legislator_id"], how="left")
    scored = table.dropna(subset=["nominate_dim1"])
    out = {
        "congresses": sessions, "legislator_sessions": len(table), "with_nominate": len(scored),
        "roll_calls": int(sum(m.shape[1] for m in matrices.values())),
        "votes": int(sum(m.n_observed for m in matrices.values())),
        "left_out": json.loads(idata.attrs["left_out"]),
        "stop": idata.attrs["stop"], "gates_passed": all(g["passed"] for g in gates),
        "first_try": len(runs) == 1 and runs[0]["stop"] == "gates",
        "gates": {g["gate"]: g["value"] for g in gates},
        "runs": [{k: r[k] for k in ("stop", "draws_used", "target_accept", "sampling_seconds")} for r in runs],
        "draws_used": int(idata.attrs["draws_used"]), "gradients": int(idata.attrs["gradient_evaluations"]),
        "leapfrog_per_draw": float(idata.sample_stats["n_steps"].mean()),
        "sampling_seconds": wall, "cpu_seconds": cpu, "omega_mean": float(post["omega"].mean()),
        "pooled_r": float(np.corrcoef(scored["score"], scored["nominate_dim1"])[0, 1]),
        "sd_median": {s: float(v) for s, v in table.groupby("session")["sd"].median().reindex(sessions).items()},
        "reflected_chains": idata.attrs.get("reflected_chains", ""),
    }
    for how in ("median", "mean"):
        gap = cs.table_gap(scored, "Republican", "Democrat", "score", how).reindex(sessions)
        dw = cs.table_gap(scored, "Republican", "Democrat", "nominate_dim1", how).reindex(sessions)
        out[f"gap_{how}"] = {
            "dynamic": {s: float(v) for s, v in gap.items()},
            "dw_nominate": {s: float(v) for s, v in dw.items()},
            "r": float(np.corrcoef(gap, dw)[0, 1]),
            "change": float(gap.iloc[-1] - gap.iloc[0]),
            "dw_change": float(dw.iloc[-1] - dw.iloc[0]),
        }
    return out


def table(r: dict) -> str:
    first, last = r["congresses"][0], r["congresses"][-1]
    lines = [
        f"Senates {first}-{last} in one posterior: {r['legislator_sessions']:,} legislator-sessions "
        f"({r['with_nominate']:,} with DW-NOMINATE), {r['roll_calls']:,} roll calls, {r['votes']:,} votes; "
        f"stop: {r['stop']} (gates passed: {r['gates_passed']}, first try: {r['first_try']}), {r['draws_used']} kept draws per chain, "
        f"{r['leapfrog_per_draw']:.1f} leapfrog per draw, {r['sampling_seconds']:.0f} s wall, {r['cpu_seconds']:.0f} CPU-s; "
        f"omega (posterior mean) {r['omega_mean']:.3f}",
        "",
        "| measure | dynamic model | today's linking, Senates 110-118 (docs/common_scale.md) |",
        "|---|---|---|",
        f"| pooled r with DW-NOMINATE dim 1 | {r['pooled_r']:.4f} | 0.9693 (unlinked 0.9621) |",
        f"| r of party-gap series (medians) with DW-NOMINATE's | {r['gap_median']['r']:.3f} | 0.791 |",
        f"| r of party-gap series (means) with DW-NOMINATE's | {r['gap_mean']['r']:.3f} | |",
        f"| gap change {first} -> {last}, medians (DW-NOMINATE) | {r['gap_median']['change']:+.3f} "
        f"({r['gap_median']['dw_change']:+.3f}) | +0.459 (+0.177) |",
        f"| gap change {first} -> {last}, means (DW-NOMINATE) | {r['gap_mean']['change']:+.3f} "
        f"({r['gap_mean']['dw_change']:+.3f}) | |",
        f"| median posterior sd of a position, {first} / {last} | {r['sd_median'][first]:.3f} / {r['sd_median'][last]:.3f} | |",
        "",
        "| Congress | gap (medians), dynamic | DW-NOMINATE | gap (means), dynamic | DW-NOMINATE | median sd |",
        "|---|---|---|---|---|---|",
    ]
    for s in r["congresses"]:
        lines.append(
            f"| {s} | {r['gap_median']['dynamic'][s]:.3f} | {r['gap_median']['dw_nominate'][s]:.3f} | "
            f"{r['gap_mean']['dynamic'][s]:.3f} | {r['gap_mean']['dw_nominate'][s]:.3f} | {r['sd_median'][s]:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--congresses", default="110-118")
    parser.add_argument("--seed", type=int, default=None, help="default: the sampler's default seed")
    parser.add_argument("--low-rank", action="store_true", help="nutpie's low-rank modified mass matrix")
    parser.add_argument("--out", default=str(OUT / "dynamic_senates.json"))
    args = parser.parse_args(argv)
    report = run(args)
    report["load"] = repr(os.getloadavg())
    OUT.mkdir(exist_ok=True)
    report["low_rank_mass_matrix"] = args.low_rank
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
