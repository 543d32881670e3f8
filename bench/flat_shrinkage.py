"""Does the flat model shrink a member with few votes? Real chambers, members cut down to
a few votes, against what a per-member prior would make of those votes.

    python bench/flat_shrinkage.py --chambers S073 --keep 5,20 [--write-docs]

Per shared chamber (the pipeline's default filters): the flat model is fitted to the
real votes (the defaults); the three members at each end of its scale who voted on at
least 90% of the roll calls are chosen; each is cut down to `keep` of their votes (at
random, seed fixed: `irt_pipeline_tests/few_votes.py`) and the flat and the default
(hierarchical) models are fitted to the cut chamber. For each cut member the table
gives the position from all their votes, the flat and the hierarchical posterior from
the few, and what those few votes alone make of the member's position (the roll calls'
parameters from the cut flat fit's draws) under two priors on that member: the flat
model's own prior, one coordinate of a point uniform on {mean 0, sd 1} (about
Normal(0, 1)), and no shrinkage at all (uniform over the whole room the scale leaves,
|x| < sqrt(n - 1)). A flat model that shrinks members as a per-member Normal(0, 1)
prior does matches the first; one that let members with few votes run to the edge would
match the second.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "irt_pipeline_tests"))
from _common import OUT, fmt, publish  # noqa: E402
from calibrate_dimensionality import real_matrix  # noqa: E402

BEGIN, END = "<!-- flat_shrinkage: begin -->", "<!-- flat_shrinkage: end -->"
PER_SIDE = 3
SEED = 20240101


def fit(spec, matrix, settings):
    from irt_pipeline.stats.pca import pca_scores
    from irt_pipeline.stats.sampling import sample

    return sample(spec, matrix, pca_scores(matrix)["pc1"].to_numpy(), settings)


def summary(idata, name: str = "xi") -> tuple[np.ndarray, np.ndarray]:
    draws = idata.posterior[name]
    return draws.mean(("chain", "draw")).values, draws.std(("chain", "draw")).values


def chamber_rows(stem: str, keeps: list[int], root: Path) -> list[dict]:
    from few_votes import cut_votes, member_posterior, sphere_marginal_logpdf

    from irt_pipeline.stats.models import DEFAULT, MODELS
    from irt_pipeline.stats.sampling import SamplerSettings

    settings = SamplerSettings()
    matrix = real_matrix(stem, root)
    n, m = matrix.shape
    full = fit(MODELS["flat"], matrix, settings)
    mean, sd = summary(full)
    share = np.isfinite(matrix.votes).mean(axis=1)
    order = [i for i in np.argsort(mean) if share[i] >= 0.9]
    chosen = order[:PER_SIDE] + order[-PER_SIDE:]
    edge = math.sqrt(n - 1)
    grid = np.linspace(-edge + 1e-6, edge - 1e-6, 4001)
    rows = []
    for keep in keeps:
        cut = cut_votes(matrix, chosen, keep, SEED)
        started = time.perf_counter()
        flat_cut, hier_cut = fit(MODELS["flat"], cut, settings), fit(MODELS[DEFAULT], cut, settings)
        seconds = time.perf_counter() - started
        f_mean, f_sd = summary(flat_cut)
        h_mean, h_sd = summary(hier_cut)
        alpha = flat_cut.posterior["alpha"].values.reshape(-1, m)[::4]
        beta = flat_cut.posterior["beta"].values.reshape(-1, m)[::4]
        for i in chosen:
            own, own_sd = member_posterior(cut.votes[i], alpha, beta, lambda x: sphere_marginal_logpdf(x, n), grid)
            loose, loose_sd = member_posterior(cut.votes[i], alpha, beta, lambda x: np.zeros_like(x), grid)
            rows.append({
                "chamber": stem, "n": n, "m": m, "keep": keep, "seconds": round(seconds, 1),
                "legislator": str(matrix.legislators["legislator_name"].iloc[i]),
                "party": str(matrix.legislators["party"].iloc[i]),
                "all_votes": int(np.isfinite(matrix.votes[i]).sum()),
                "full": [float(mean[i]), float(sd[i])], "flat": [float(f_mean[i]), float(f_sd[i])],
                "hierarchical": [float(h_mean[i]), float(h_sd[i])],
                "own_prior": [own, own_sd], "no_shrinkage": [loose, loose_sd],
                "flat_gates": flat_cut.attrs.get("stop"), "hierarchical_gates": hier_cut.attrs.get("stop"),
            })
    return rows


def pair(values) -> str:
    return f"{fmt(values[0], '+.2f')} ({fmt(values[1], '.2f')})"


def table(rows: list[dict]) -> str:
    lines = [
        ("| chamber (n x m) | member | votes: all -> kept | all votes: flat | kept: flat | kept: hierarchical "
         "| kept, member's prior alone: the flat model's (about N(0, 1)) | kept, no shrinkage | sampler stop (flat, hier.) |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['chamber']} ({r['n']} x {r['m']}) | {r['legislator']} ({r['party'][:1]}) | {r['all_votes']} -> {r['keep']} "
            f"| {pair(r['full'])} | {pair(r['flat'])} | {pair(r['hierarchical'])} | {pair(r['own_prior'])} "
            f"| {pair(r['no_shrinkage'])} | {r['flat_gates']}, {r['hierarchical_gates']} |"
        )
    flat_gap = max(abs(r["flat"][0] - r["own_prior"][0]) for r in rows)
    loose_gap = min(abs(r["no_shrinkage"][0]) - abs(r["flat"][0]) for r in rows)
    lines.append("")
    lines.append(
        f"Largest |flat - member's own prior| over the cut members: {flat_gap:.2f}; the no-shrinkage "
        f"position is farther out than the flat model's by at least {loose_gap:.2f}. Entries: posterior mean (sd)."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chambers", default="S073")
    parser.add_argument("--keep", default="5,20", help="votes each cut member keeps (comma-separated)")
    parser.add_argument("--root", default=str(OUT / "flat_shrinkage_root"))
    parser.add_argument("--out", default=str(OUT / "flat_shrinkage.json"))
    parser.add_argument("--table-from", help="only print the table of a stored JSON file")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/models.md")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.table_from:
        rows = json.loads(Path(args.table_from).read_text())
    else:
        root = Path(args.root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        keeps = [int(k) for k in args.keep.split(",")]
        stems = args.chambers.split(",")
        kept = [r for r in json.loads(out.read_text())] if out.exists() else []
        rows = [r for r in kept if r["chamber"] not in stems]  # merged by chamber: a rerun replaces its own
        rows += [r for stem in stems for r in chamber_rows(stem, keeps, root)]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=1))
    publish(table(rows), BEGIN, END, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
