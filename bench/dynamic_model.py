"""The dynamic model (irt_pipeline/stats/models/dynamic.py): cost, sampling, warm
starts and recovery on simulated panels (irt_pipeline_tests/simulated_panel.py).

    python bench/dynamic_model.py cost                     # gradient cost against size
    python bench/dynamic_model.py sample --sessions 6      # a gated run, counts and times
    python bench/dynamic_model.py warm --sessions 6        # warm against cold, +5% votes
    python bench/dynamic_model.py recovery                 # 20 sessions: dynamic vs linking

Prints markdown; writes every number to bench/out/dynamic_<command>.json. Run under
`nice -n 10`; timings are ratios within one run (say how busy the machine was).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(REPO / "irt_pipeline_tests"))

SENATE = dict(n_seats=100, n_roll_calls=820, missing=0.03)  # ~80k observed votes per session
HOUSE = dict(n_seats=440, n_roll_calls=900, missing=0.12)  # ~350k


def load() -> str:
    return os.getloadavg().__repr__()


def gradient_seconds(bound, repeats: int) -> tuple[float, float]:
    """(min, median) seconds of one log-density + gradient through the sampler's C
    callback (single precision), at a start point. The minimum is the uncontended cost
    on a shared machine."""
    from irt_pipeline.stats import callbacks
    from irt_pipeline.stats.models import dynamic

    logp = callbacks.compiled(dynamic.nutpie_logp)
    n_expanded = int(sum(np.prod(s, dtype=int) for s in bound.reported.values()))
    meta = bound.kernel_data.meta(bound.ndim, n_expanded)
    x = bound.start(np.random.default_rng(0))
    status, _, _ = callbacks.evaluate_logp(logp, meta, x)
    assert status == 0
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        callbacks.evaluate_logp(logp, meta, x)
        times.append(time.perf_counter() - began)
    return float(np.min(times)), float(np.median(times))


def per_session_seconds(matrices, repeats: int) -> float:
    """Sum over sessions of the per-session (hierarchical) model's gradient (minimum
    over repeats): the same votes fitted one session at a time."""
    from irt_pipeline.stats import callbacks
    from irt_pipeline.stats.models import hierarchical
    from irt_pipeline.stats.pca import pca_scores

    logp = callbacks.compiled(hierarchical.nutpie_logp)
    total = 0.0
    for matrix in matrices:
        bound = hierarchical.bind(matrix, pca_scores(matrix)["pc1"].to_numpy())
        n_expanded = int(sum(np.prod(s, dtype=int) for s in bound.reported.values()))
        meta = bound.kernel_data.meta(bound.ndim, n_expanded)
        x = bound.start(np.random.default_rng(0))
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            callbacks.evaluate_logp(logp, meta, x)
            times.append(time.perf_counter() - began)
        total += float(np.min(times))
    return total


def cost(args) -> dict:
    from simulated_panel import panel

    from irt_pipeline.stats.models import dynamic

    rows = []
    sizes = [("Senate", SENATE, 10), ("Senate", SENATE, 20), ("Senate", SENATE, 50), ("House", HOUSE, 10)]
    for label, size, sessions in [s for s in sizes if args.only is None or s[0] == args.only]:
        began = time.perf_counter()
        matrices, truth = panel(n_sessions=sessions, seed=1, **size)
        simulate = time.perf_counter() - began
        began = time.perf_counter()
        bound = dynamic.bind(matrices, sorted(truth["session"].unique()))
        bind = time.perf_counter() - began
        votes = sum(m.n_observed for m in matrices)
        cells = sum(m.votes.size for m in matrices)
        seconds, median = gradient_seconds(bound, args.repeats)
        separate = per_session_seconds(matrices[:3], args.repeats) * sessions / 3
        rows.append({
            "chamber": label, "sessions": sessions, "legislator_sessions": int(bound.layout.panel.rows[-1]),
            "roll_calls": int(bound.layout.panel.items[-1]), "votes": int(votes), "cells": int(cells),
            "ndim": bound.ndim, "gradient_ms": 1e3 * seconds, "gradient_ms_median": 1e3 * median,
            "ns_per_vote": 1e9 * seconds / votes,
            "per_session_models_ms": 1e3 * separate, "bind_seconds": bind, "simulate_seconds": simulate,
        })
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"rows": rows, "load_before_after": load()}


def cost_table(report: dict) -> str:
    lines = [
        "| chamber | sessions | legislator-sessions | roll calls | observed votes | ndim | ms per gradient (min; median) "
        "| ns per vote | per-session models, same votes (ms) | bind (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['chamber']} | {r['sessions']} | {r['legislator_sessions']:,} | {r['roll_calls']:,} | "
            f"{r['votes']:,} | {r['ndim']:,} | {r['gradient_ms']:.1f}; {r['gradient_ms_median']:.1f} | {r['ns_per_vote']:.2f} | "
            f"{r['per_session_models_ms']:.1f} | {r['bind_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["cost"])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--only", choices=["Senate", "House"])
    args = parser.parse_args(argv)
    report = {"cost": cost}[args.command](args)
    report["load"] = load()
    OUT.mkdir(exist_ok=True)
    (OUT / f"dynamic_{args.command}.json").write_text(json.dumps(report, indent=2))
    print({"cost": cost_table}[args.command](report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
