"""How rare is a divergence: one model's first sampling run on a stored chamber, over
seeds and target_accept values, without the stopping rule (a fixed number of draws).

    python bench/divergence_seeds.py --chamber S118 --model flat
    python bench/divergence_seeds.py --chamber S118 --model flat --seeds 20240101,1,2,3,4,5 --target-accepts 0.8,0.85

Reads the vote matrix and PCA start stored by bench/validate_chambers.py
(bench/out/validate_root), binds the model as the pipeline does (orientation from the
stored start) and samples 4 chains of 300 tuning and `--draws` kept draws per seed and
target_accept. Prints per run: divergences, mean leapfrog steps per draw, seconds; for
each divergence the coordinate of x that moved most in the diverging step (its block
and element: beta[29] is roll call 29 of the vote matrix) and by how much. Every number goes to
bench/out/divergence_seeds.json.
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
from _common import CHAMBERS, OUT  # noqa: E402


def run(args) -> list[dict]:
    import nutpie

    from irt_pipeline.stats.matrix import VoteMatrix
    from irt_pipeline.stats.models import MODELS
    from irt_pipeline.stats.sampling import SamplerSettings, compile_kernel

    chamber, session = CHAMBERS[args.chamber[0]], str(int(args.chamber[1:]))
    root = Path(args.root)
    matrix = VoteMatrix.from_frame(pd.read_parquet(root / "vote_matrix" / chamber / f"{session}.parquet"))
    pca = pd.read_parquet(root / "pca_init" / chamber / f"{session}.parquet")
    spec = MODELS[args.model]
    ids = matrix.legislators["legislator_id"]
    weights = pca.set_index("legislator_id").loc[list(ids), "orientation"].to_numpy(float)
    bound = spec.bind(matrix, np.asarray(spec.start_scores(pca, ids), float), weights)
    compiled = compile_kernel(spec, bound, SamplerSettings().seed)
    names = {}  # x index -> "name[k]" (k: the element of that coordinate block)
    for name, where in bound.coordinates.items():
        span = range(where.start, where.stop) if isinstance(where, slice) else [where]
        names.update({i: f"{name}[{k}]" for k, i in enumerate(span)})
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for target in (float(t) for t in args.target_accepts.split(",")):
            began = time.perf_counter()
            trace = nutpie.sample(compiled, chains=4, tune=300, draws=args.draws, seed=seed, cores=4,
                                  target_accept=target, progress_bar=False, store_divergences=True)
            stats = trace.sample_stats  # the kept draws
            diverging = stats["diverging"].values
            where = []
            for c, d in np.argwhere(diverging):
                moved = np.abs(stats["divergence_end"].values[c, d] - stats["divergence_start"].values[c, d])
                i = int(np.argmax(moved))
                where.append({"chain": int(c), "draw": int(d), "coordinate": names.get(i, str(i)), "index": i,
                              "moved": float(moved[i])})
            rows.append({"seed": seed, "target_accept": target, "divergences": int(diverging.sum()),
                         "leapfrog_per_draw": float(stats["n_steps"].mean()),
                         "seconds": round(time.perf_counter() - began, 1), "where": where})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chamber", default="S118")
    parser.add_argument("--model", default="flat")
    parser.add_argument("--seeds", default="20240101,1,2,3,4,5")
    parser.add_argument("--target-accepts", default="0.8,0.85")
    parser.add_argument("--draws", type=int, default=1750)
    parser.add_argument("--root", default=str(OUT / "validate_root"))
    args = parser.parse_args(argv)
    rows = run(args)
    OUT.mkdir(exist_ok=True)
    (OUT / "divergence_seeds.json").write_text(json.dumps({"args": vars(args), "runs": rows}, indent=2))
    print(f"{args.model} on {args.chamber}, 4 chains x (300 tuning + {args.draws}) draws per run\n")
    print("| seed | target_accept | divergences | leapfrog steps per draw | seconds | where (chain, draw: coordinate) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        where = "; ".join(f"{w['chain']}, {w['draw']}: {w['coordinate']} (moved {w['moved']:.0f})" for w in r["where"])
        print(f"| {r['seed']} | {r['target_accept']} | {r['divergences']} | {r['leapfrog_per_draw']:.1f} | {r['seconds']} | {where} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
