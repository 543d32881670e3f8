"""How often the dimensionality verdict warns where there is no second dimension: chambers
simulated from fitted one-dimensional posteriors, each fitted by both models as the
pipeline fits them.

    python bench/calibrate_dimensionality.py --chambers S073,S088 --replicates 4 --roll-calls 150
    python bench/calibrate_dimensionality.py --table-from bench/out/calibrate_dimensionality.json [--write-docs]

Per shared chamber: the default (hierarchical) model is fitted to its real votes with
the defaults, and the posterior means of xi, alpha and beta are the truth. Each
replicate draws every vote the real chamber observed (its missingness pattern, nothing
else) from logit P(Yea) = beta_j xi_i - alpha_j, builds the vote matrix with the
pipeline's filters and PCA start, fits the default model and the two-dimensional model
(`stats/sampling.sample`, the defaults, the built-in party poles), and computes each
one's PSIS-LOO table and predictive checks as their assets do; then the verdict
(`stats/dimensionality.py`). Every figure of every replicate goes to
bench/out/calibrate_dimensionality.json (merged by chamber and replicate: a rerun adds
the replicates not there); the tables give the false-warning rate and the distribution
of the out-of-sample gain, from which `OOS_GAIN_MIN` is set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, land_chamber, publish  # noqa: E402

BEGIN, END = "<!-- calibrate_dimensionality: begin -->", "<!-- calibrate_dimensionality: end -->"


def real_matrix(stem: str, root: Path):
    """The shared chamber's vote matrix under the pipeline's default filters."""
    from irt_pipeline.resources import VoteFilters
    from irt_pipeline.stats.matrix import build_vote_matrix

    _, _, landing = land_chamber(stem, root)
    filters = VoteFilters()
    rows = pd.read_parquet(landing)
    matrix, _ = build_vote_matrix(rows, min_minority_share=filters.min_minority_share, min_votes=filters.min_votes)
    return matrix


def truth_of(stem: str, root: Path, settings) -> dict:
    """The default model's posterior means on the real chamber (cached in `root`)."""
    from irt_pipeline.stats.models import DEFAULT, MODELS
    from irt_pipeline.stats.pca import default_weights, pca_scores
    from irt_pipeline.stats.sampling import sample

    cached = root / f"truth_{stem}.npz"
    matrix = real_matrix(stem, root)
    if cached.exists():
        stored = np.load(cached)
        return {"matrix": matrix, **{k: stored[k] for k in stored.files}}
    weights = default_weights(matrix.legislators["party"])
    spec = MODELS[DEFAULT]
    start = spec.start_scores(pca_scores(matrix, weights))
    idata = sample(spec, matrix, start, settings, orientation=weights)
    means = {name: idata.posterior[name].mean(("chain", "draw")).values for name in ("xi", "alpha", "beta")}
    np.savez(cached, **means)
    return {"matrix": matrix, **means}


def simulated(truth: dict, seed: int, roll_calls: int | None = None):
    """A VoteMatrix drawn from the truth at the real chamber's observed cells, filtered
    as the pipeline filters; roll_calls: at most this many of the real chamber's roll
    calls (a random subset drawn with the replicate's seed: the cost of a fit)."""
    from irt_pipeline.resources import VoteFilters
    from irt_pipeline.stats.matrix import build_vote_matrix

    matrix = truth["matrix"]
    rows, cols, _ = matrix.observed
    rng = np.random.default_rng(seed)
    m = matrix.shape[1]
    if roll_calls is not None and roll_calls < m:
        keep = np.zeros(m, bool)
        keep[rng.choice(m, roll_calls, replace=False)] = True
        rows, cols = rows[keep[cols]], cols[keep[cols]]
    eta = truth["beta"][cols] * truth["xi"][rows] - truth["alpha"][cols]
    yea = rng.uniform(size=len(rows)) < 1.0 / (1.0 + np.exp(-eta))
    legislators = matrix.legislators.iloc[rows]
    frame = pd.DataFrame({
        "legislator_id": legislators["legislator_id"].to_numpy(),
        "legislator_name": legislators["legislator_name"].to_numpy(),
        "party": legislators["party"].to_numpy(),
        "roll_call_id": matrix.roll_calls["roll_call_id"].to_numpy()[cols],
        "vote": np.where(yea, "Yea", "Nay"),
    })
    filters = VoteFilters()
    built, _ = build_vote_matrix(frame, min_minority_share=filters.min_minority_share, min_votes=filters.min_votes)
    return built


def fit_and_judge(matrix, settings) -> dict:
    """Both models on `matrix` as the pipeline fits them; the verdict's figures."""
    from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates, gates_for
    from irt_pipeline.stats.dimensionality import dimensionality_verdict
    from irt_pipeline.stats.loo import loo_table, psis_loo
    from irt_pipeline.stats.models import DEFAULT, MODELS
    from irt_pipeline.stats.pca import default_weights, pca_scores
    from irt_pipeline.stats.ppc import posterior_predictive_checks
    from irt_pipeline.stats.sampling import sample

    plane = next(spec for spec in MODELS.values() if spec.beside_default)
    default = MODELS[DEFAULT]
    weights = default_weights(matrix.legislators["party"])
    pca = pca_scores(matrix, weights)
    out, tables, shares, problems = {}, {}, [], []
    for key, spec in (("1d", default), ("2d", plane)):
        start = time.perf_counter()
        idata = sample(spec, matrix, spec.start_scores(pca), settings, orientation=weights)
        gates = evaluate_gates(convergence_summary(idata, spec.gated), gates_for(spec.gated))
        failed = [g["gate"] for g in gates if not g["passed"]]
        if failed:
            problems.append(f"{key} gates failed: {', '.join(failed)}")
        tables[key] = loo_table(psis_loo(idata, matrix), matrix)
        shares.append(posterior_predictive_checks(idata, matrix)[0]["share_correct"])
        out[key] = {"seconds": round(time.perf_counter() - start, 1), "draws": int(idata.attrs["draws_used"]),
                    "failed_gates": failed}
    # Judged as if every gate passed (the figures are what is calibrated); failures recorded.
    out["verdict"] = dimensionality_verdict(tables["1d"], tables["2d"], in_sample=shares)
    out["gate_problems"] = problems
    return out


def run(stems: list[str], replicates: int, root: Path, out: Path, roll_calls: int | None = None) -> dict:
    from irt_pipeline.resources import resources_from_env

    settings = resources_from_env()["sampler"].settings()
    stored = json.loads(out.read_text()) if out.exists() else {"sampler": settings.as_dict(), "results": []}
    done = {(r["chamber"], r["replicate"]) for r in stored["results"]}
    root.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        truth = truth_of(stem, root, settings)
        for replicate in range(replicates):
            if (stem, replicate) in done:
                continue
            matrix = simulated(truth, seed=1000 * int(stem[1:]) + replicate, roll_calls=roll_calls)
            result = {"chamber": stem, "replicate": replicate, "shape": list(matrix.shape),
                      "votes": int(matrix.n_observed), **fit_and_judge(matrix, settings)}
            stored["results"].append(result)
            out.parent.mkdir(parents=True, exist_ok=True)
            partial = out.with_suffix(".partial")
            partial.write_text(json.dumps(stored, indent=2, default=float))
            partial.replace(out)
            print(row(result), flush=True)
    return stored


def row(r: dict) -> str:
    v = r["verdict"]
    return (f"| {r['chamber']} | {r['replicate']} | {v['oos_gain']:+.4f} [{v['oos_gain_low']:+.4f}, "
            f"{v['oos_gain_high']:+.4f}] | {v['classification_gain']:+.4f} | {v['elpd_diff']:.0f} ({v['se']:.0f}) | "
            f"{v['unreliable_votes']} ({v.get('undecided_votes', '-')}) | {v['verdict']} | {'; '.join(r['gate_problems']) or 'pass'} |")


def tables(stored: dict) -> str:
    """Per chamber: the out-of-sample and in-sample gains, elpd_diff / se, and how often
    the verdict (under today's OOS_GAIN_MIN, with the replicate's gate failures as the
    pipeline would see them) says the second dimension matters, is undetermined, or fails
    the WARN check at all (either)."""
    from irt_pipeline.stats.dimensionality import MATTERS, OOS_GAIN_MIN, UNDETERMINED, judge

    results = stored["results"]
    lines = [
        "| chamber (legislators x roll calls) | replicates | out-of-sample gain: mean, max | in-sample gain: mean, "
        "max | elpd_diff / se: max | undecided votes: max | the second dimension matters | undetermined (gates "
        "failed) | WARN check failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    failed_total = warned_total = total = 0
    for stem in dict.fromkeys(r["chamber"] for r in results):
        rs = [r for r in results if r["chamber"] == stem]
        oos = np.array([r["verdict"]["oos_gain"] for r in rs])
        ins = np.array([r["verdict"]["classification_gain"] for r in rs])
        z = np.array([r["verdict"]["elpd_diff"] / r["verdict"]["se"] for r in rs])
        verdicts = [judge(r["verdict"], r["gate_problems"])[0] for r in rs]
        warned = sum(v == MATTERS for v in verdicts)
        undetermined = sum(v == UNDETERMINED for v in verdicts)
        warned_total += warned
        failed_total += warned + undetermined
        total += len(rs)
        shapes = sorted({tuple(r["shape"]) for r in rs})
        lines.append(
            f"| {stem} ({', '.join(f'{a} x {b}' for a, b in shapes)}) | {len(rs)} | {oos.mean():+.4f}, {oos.max():+.4f} | "
            f"{ins.mean():+.4f}, {ins.max():+.4f} | {z.max():.1f} | "
            f"{max(r['verdict'].get('undecided_votes', 0) for r in rs)} | {warned} | {undetermined} "
            f"({sum(bool(r['gate_problems']) for r in rs)}) | {warned + undetermined} |"
        )
    lines += ["", f"OOS_GAIN_MIN = {OOS_GAIN_MIN:.3f}: the second dimension said to matter in {warned_total} of "
              f"{total} one-dimensional replicates; the WARN check failed in {failed_total} of {total} (undetermined "
              f"included). Sampler: {stored['sampler']}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chambers", default="S073,S088")
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--roll-calls", type=int, help="at most this many roll calls per simulated chamber")
    parser.add_argument("--root", default=str(OUT / "calibrate_root"))
    parser.add_argument("--out", default=str(OUT / "calibrate_dimensionality.json"))
    parser.add_argument("--table-from", help="only print the tables of a stored JSON file")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/models.md")
    args = parser.parse_args(argv)
    if args.table_from:
        stored = json.loads(Path(args.table_from).read_text())
    else:
        stored = run(args.chambers.split(","), args.replicates, Path(args.root).resolve(), Path(args.out).resolve(),
                     args.roll_calls)
    text = tables(stored)
    publish(text, BEGIN, END, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
