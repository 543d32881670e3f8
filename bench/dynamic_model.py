"""The dynamic model (irt_pipeline/stats/models/dynamic.py): cost, sampling, warm
starts and recovery on simulated panels (irt_pipeline_tests/simulated_panel.py).

    python bench/dynamic_model.py cost                     # gradient cost against size
    python bench/dynamic_model.py sample --sessions 6      # a gated run, counts and times
    python bench/dynamic_model.py warm --sessions 6        # warm against cold, +5% votes
    python bench/dynamic_model.py recovery                 # 20 sessions: dynamic vs linking
    python bench/dynamic_model.py recovery --dynamic-only  # the dynamic model alone

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

    logp = callbacks.compiled(dynamic.SPEC.logp)
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

    logp = callbacks.compiled(hierarchical.SPEC.logp)
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


def sample(args) -> dict:
    """One gated run (the stopping rule) on `--sessions` Senate-sized sessions: draws
    to the gates, leapfrog steps, gradients, seconds, ESS per draw; then the wall time
    the same counts predict at 50 Senate-sized and 10 House-sized sessions."""
    import arviz as az
    from simulated_panel import panel

    from irt_pipeline.stats.models import dynamic
    from irt_pipeline.stats.panel_sampling import sample_bound
    from irt_pipeline.stats.sampling import SamplerSettings
    from irt_pipeline.stats.stopping import describe_progress

    matrices, truth = panel(n_sessions=args.sessions, seed=args.seed, **SENATE)
    bound = dynamic.bind(matrices, sorted(truth["session"].unique()))
    gradient, _ = gradient_seconds(bound, args.repeats)
    settings = SamplerSettings(chains=4, cores=2, seed=args.seed)
    cpu = time.process_time()
    run = sample_bound(dynamic.SPEC, bound, settings,
                       progress=lambda p: print(describe_progress(p), file=sys.stderr, flush=True) if "look" in p else None)
    cpu = time.process_time() - cpu
    post = run.idata.posterior
    kept = post.sizes["chain"] * post.sizes["draw"]
    ess = az.ess(run.idata, var_names=list(dict.fromkeys(v for vs in dynamic.GATED.values() for v in vs)))
    per_chain = settings.tune * run.stats["leapfrog_per_tuning_draw"] + run.stats["draws_used"] * run.stats["leapfrog_per_draw"]
    report = {
        "sessions": args.sessions, "ndim": bound.ndim, "votes": int(sum(m.n_observed for m in matrices)),
        "gradient_ms": 1e3 * gradient, "stop": run.record["stop"], "looks": run.record["looks"],
        **run.stats, "sampling_seconds": run.seconds, "cpu_seconds": cpu,
        "gradients_per_chain": per_chain,
        "ess_per_draw": {v: float(ess[v].min()) / kept for v in ess.data_vars},
        "predicted_from_counts_seconds": {
            label: settings.chains * per_chain * ms / 1e3 / 2
            for label, ms in (("50 Senate", args.senate50_ms), ("10 House", args.house10_ms))
        },
    }
    return report


def sample_table(report: dict) -> str:
    r = report
    return "\n".join([
        "| sessions | ndim | votes | ms per gradient | stop | kept draws per chain | leapfrog per tuning draw | "
        "per draw | gradients (4 chains) | wall s | CPU s | min ESS per kept draw (xi, party, omega, tau) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {r['sessions']} | {r['ndim']:,} | {r['votes']:,} | {r['gradient_ms']:.2f} | {r['stop']} | {r['draws_used']} | "
        f"{r['leapfrog_per_tuning_draw']:.1f} | {r['leapfrog_per_draw']:.1f} | {r['gradients']:,} | {r['sampling_seconds']:.0f} | "
        f"{r['cpu_seconds']:.0f} | " + ", ".join(f"{v:.2f}" for v in r["ess_per_draw"].values()) + " |",
        "",
        "Predicted wall time with the same counts (4 chains on 2 cores, gradient cost of the cost table): "
        + ", ".join(f"{k}: {v / 60:.1f} min" for k, v in r["predicted_from_counts_seconds"].items()),
    ])


def held_back(matrices, session: int, share: float):
    """The panel with the last `share` of one session's roll calls not yet arrived."""
    from irt_pipeline.stats.matrix import VoteMatrix

    matrix = matrices[session]
    keep = matrix.shape[1] - int(round(share * matrix.shape[1]))
    smaller = VoteMatrix(matrix.legislators, matrix.roll_calls.iloc[:keep].reset_index(drop=True), matrix.votes[:, :keep])
    return [smaller if t == session else m for t, m in enumerate(matrices)]


def agreement(a, b) -> dict:
    """Posterior means of xi of two runs on the same data, in units of their Monte Carlo
    error: z = (mean_a - mean_b) / sqrt(mcse_a^2 + mcse_b^2) per legislator-session,
    and the largest |difference| in posterior sd units."""
    import arviz as az

    ma, mb = (r.idata.posterior["xi"].mean(("chain", "draw")).values for r in (a, b))
    ea, eb = (az.mcse(r.idata, var_names=["xi"])["xi"].values for r in (a, b))
    sd = a.idata.posterior["xi"].std(("chain", "draw")).values
    z = (ma - mb) / np.sqrt(ea**2 + eb**2)
    return {"max_abs_z": float(np.abs(z).max()), "share_abs_z_over_3": float(np.mean(np.abs(z) > 3)),
            "rms_z": float(np.sqrt(np.mean(z**2))), "max_diff_in_sd": float(np.max(np.abs(ma - mb) / sd))}


def warm(args) -> dict:
    """Warm against cold when one session gains 5% more roll calls (scenario "votes"),
    or when a new session joins the panel (scenario "session"): the base posterior is
    sampled cold; the grown panel is sampled cold (the default settings) and warm
    (stored draws as starts, the stored mean and sd as preconditioning, the stored step
    size, a shorter tuning and an earlier first look)."""
    from simulated_panel import panel

    from irt_pipeline.stats.models import dynamic
    from irt_pipeline.stats.panel_sampling import sample_bound
    from irt_pipeline.stats.sampling import SamplerSettings

    matrices, truth = panel(n_sessions=args.sessions, n_seats=args.seats, n_roll_calls=args.roll_calls,
                            missing=SENATE["missing"], seed=args.seed)
    sessions = sorted(truth["session"].unique())
    if args.scenario == "votes":
        base_matrices, base_sessions = held_back(matrices, len(matrices) - 1, 0.05), sessions
    else:
        base_matrices, base_sessions = matrices[:-1], sessions[:-1]
    cold = SamplerSettings(chains=4, cores=2, seed=args.seed)
    rows = []

    def record(label, run, extra=None):
        rows.append({"run": label, **run.stats, "stop": run.record["stop"], "seconds": run.seconds,
                     "looks": run.record["looks"], **(extra or {})})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    base_bound = dynamic.bind(base_matrices, base_sessions)
    base = sample_bound(dynamic.SPEC, base_bound, cold)
    record("base (cold)", base)
    grown_bound = dynamic.bind(matrices, sessions)
    reference = sample_bound(dynamic.SPEC, grown_bound, cold)
    record("grown, cold", reference)
    variants = [
        ("grown, warm: tune 100", dict(tune=100), True),
        ("grown, warm: tune 50, first look at 200", dict(tune=50, draws=200, block=100), True),
        ("grown, warm starts only: tune 50, first look at 200", dict(tune=50, draws=200, block=100), False),
    ]
    for label, changes, precondition in variants:
        began = time.perf_counter()
        bound, initial_point, center_scale = dynamic.warm_bind(base_bound, base, matrices, sessions)
        bind_seconds = time.perf_counter() - began
        settings = SamplerSettings(chains=4, cores=2, seed=args.seed + 1, **changes)
        run = sample_bound(
            dynamic.SPEC, bound, settings, initial_point=initial_point,
            precondition=center_scale if precondition else None,
            nutpie_options={"initial_step": float(np.median(base.step_size))} if precondition else None,
        )
        record(label, run, {"bind_seconds": bind_seconds, "agreement_with_cold": agreement(run, reference)})
    return {"scenario": args.scenario, "sessions": args.sessions, "seats": args.seats, "roll_calls": args.roll_calls,
            "rows": rows, "cold_bind_note": "cold bind (PCA + item fits) is not in the seconds"}


def first_gate_pass(looks) -> int | None:
    """Kept draws per chain at the first look whose values pass the gates themselves
    (R-hat < 1.01, bulk ESS > 400, no divergence, E-BFMI > 0.3), not the stopping
    rule's margins (1.005, 600, 0.35)."""
    from irt_pipeline.stats.diagnostics import EBFMI_MIN, ESS_BULK_MIN, RHAT_MAX

    for look in looks:
        ok = True
        for problem in look["problems"]:
            name, value = problem.split("=")
            value = float(value)
            if name.startswith("rhat_"):
                ok &= value < RHAT_MAX
            elif name.startswith("ess_bulk_"):
                ok &= value > ESS_BULK_MIN
            elif name == "divergences":
                ok = False
            elif name == "ebfmi_min":
                ok &= value > EBFMI_MIN
        if ok:
            return look["draws"]
    return None


def warm_table(report: dict) -> str:
    lines = [
        f"Scenario: {report['scenario']} ({report['sessions']} sessions of {report['seats']} seats x "
        f"{report['roll_calls']} roll calls)",
        "",
        "| run | tune | kept draws per chain | stop | leapfrog per tuning draw | per draw | gradients "
        "| gradients vs grown cold | wall s | first look passing the gates themselves (draws; gradients) "
        "| max abs z vs cold | share abs z > 3 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    cold = next((r["gradients"] for r in report["rows"] if r["run"] == "grown, cold"), None)
    for r in report["rows"]:
        a = r.get("agreement_with_cold", {})
        gate = first_gate_pass(r["looks"])
        at_gate = 4 * (r["tune"] * r["leapfrog_per_tuning_draw"] + gate * r["leapfrog_per_draw"]) if gate else None
        lines.append(
            f"| {r['run']} | {r['tune']} | {r['draws_used']} | {r['stop']} | {r['leapfrog_per_tuning_draw']:.1f} | "
            f"{r['leapfrog_per_draw']:.1f} | {r['gradients']:,} | {cold / r['gradients']:.2f}x | {r['seconds']:.0f} | "
            f"{gate}; {at_gate:,.0f} | "
            f"{a.get('max_abs_z', float('nan')):.2f} | {a.get('share_abs_z_over_3', float('nan')):.3f} |"
        )
    return "\n".join(lines)


def fit_both(matrices, truth, seed: int, settings=None, linking: bool = True) -> dict:
    """The dynamic model and today's linking (per-session hierarchical posteriors, then
    stats/common_scale.py's mean-sigma with the bootstrap) on the same votes: each one's
    scorecard against the truth, the gates and the seconds (linking=False: the dynamic
    model only)."""
    from simulated_panel import scorecard

    from irt_pipeline.stats import common_scale as cs
    from irt_pipeline.stats.models import dynamic, hierarchical
    from irt_pipeline.stats.panel_sampling import sample_bound
    from irt_pipeline.stats.pca import pca_scores
    from irt_pipeline.stats.sampling import SamplerSettings
    from irt_pipeline.stats.sampling import sample as sample_session

    settings = settings or SamplerSettings(chains=4, cores=2, seed=seed)
    sessions = sorted(truth["session"].unique())
    began = time.perf_counter()
    bound = dynamic.bind(matrices, sessions)
    run = sample_bound(dynamic.SPEC, bound, settings)
    dynamic_seconds = time.perf_counter() - began
    xi = run.idata.posterior["xi"].values.reshape(-1, bound.layout.panel.rows[-1])
    dynamic_scale = dynamic.as_common_scale(xi, bound, matrices)
    dynamic_card = {**scorecard(dynamic_scale, truth), "stop": run.record["stop"], "draws_used": run.stats["draws_used"],
                    "seconds": dynamic_seconds, "omega": float(run.idata.posterior["omega"].mean())}
    if not linking:
        return {"dynamic": dynamic_card}
    began = time.perf_counter()
    draws, gates = [], []
    for session, matrix in zip(sessions, matrices):
        idata = sample_session(hierarchical.SPEC, matrix, pca_scores(matrix)["pc1"].to_numpy(), settings)
        gates.append(idata.attrs["stop"])
        x = idata.posterior["xi"].values
        draws.append(cs.SessionDraws(session, matrix.legislators, x.reshape(-1, x.shape[-1])))
    linked = cs.link_sessions(draws)
    linking_seconds = time.perf_counter() - began
    return {
        "dynamic": dynamic_card,
        "linking": {**scorecard(linked, truth, reference=linked.reference), "per_session_stops": gates,
                    "seconds": linking_seconds},
    }


def recovery(args) -> dict:
    """20 simulated sessions (simulated_panel.panel, chamber of --seats x --roll-calls):
    "growth": members who move (walks of different sizes, one member moving 2 sd),
    replacement, a gap growing through replacement; "drift": every continuing
    Republican moves +0.03 per session together (Democrats' walks as before), no
    polarization through replacement."""
    from simulated_panel import panel

    out = {}
    for scenario, options in (("growth", {}), ("drift", {"party_drift": ("Republican", 0.03), "polarization": 0.0})):
        if args.scenario_only and scenario != args.scenario_only:
            continue
        matrices, truth = panel(n_sessions=20, n_seats=args.seats, n_roll_calls=args.roll_calls, seed=args.seed, **options)
        out[scenario] = fit_both(matrices, truth, args.seed, linking=not args.dynamic_only)
        print(json.dumps({scenario: out[scenario]}), file=sys.stderr, flush=True)
    return {"seats": args.seats, "roll_calls": args.roll_calls, "scenarios": out}


def recovery_table(report: dict) -> str:
    lines = [
        f"20 sessions of {report['seats']} seats x {report['roll_calls']} roll calls",
        "",
        "| scenario | method | r | 94% HDI coverage | median sd, first / last session | gap r | gap HDI coverage "
        "| gap change (true) | long mover's move (true) | whole-panel members' mean move D; R (true) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario, methods in report["scenarios"].items():
        for method, m in methods.items():
            moves = m["whole_panel_members_move"]
            move_text = "; ".join(f"{v['estimated']:+.2f} ({v['true']:+.2f})" for v in moves.values())
            lines.append(
                f"| {scenario} | {method} | {m['r']:.3f} | {m['coverage']:.3f} | {m['sd_first']:.3f} / {m['sd_last']:.3f} | "
                f"{m['gap_r']:.3f} | {m['gap_coverage']:.2f} | {m['gap_change']:+.2f} ({m['true_gap_change']:+.2f}) | "
                f"{m.get('mover_estimated', float('nan')):+.2f} ({m.get('mover_true', float('nan')):+.2f}) | {move_text} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["cost", "sample", "warm", "recovery"])
    parser.add_argument("--seats", type=int, default=60)
    parser.add_argument("--roll-calls", type=int, default=200)
    parser.add_argument("--scenario-only", choices=["growth", "drift"])
    parser.add_argument("--dynamic-only", action="store_true", help="recovery: skip the linking's per-session fits")
    parser.add_argument("--scenario", choices=["votes", "session"], default="votes")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--senate50-ms", type=float, default=12.0, help="ms per gradient, 50 Senate sessions")
    parser.add_argument("--house10-ms", type=float, default=14.0, help="ms per gradient, 10 House sessions")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--only", choices=["Senate", "House"])
    args = parser.parse_args(argv)
    report = {"cost": cost, "sample": sample, "warm": warm, "recovery": recovery}[args.command](args)
    report["load"] = load()
    OUT.mkdir(exist_ok=True)
    suffix = f"_{args.scenario}" if args.command == "warm" else ""
    (OUT / f"dynamic_{args.command}{suffix}.json").write_text(json.dumps(report, indent=2))
    tables = {"cost": cost_table, "sample": sample_table, "warm": warm_table, "recovery": recovery_table}
    print(tables[args.command](report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
