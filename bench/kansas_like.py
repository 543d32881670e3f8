"""A simulated Kansas-like chamber: three quarters one party, the main division inside it
(the majority's moderate wing votes with the minority on much of the agenda). Both
one-dimensional models fitted to each replicate; r with the truth and 94% HDI coverage,
overall and inside the majority party, printed as a table.

    python bench/kansas_like.py --replicates 5 [--write-results]

The simulation: 40 members, 30 of the majority party (12 moderates around -0.4, 18
conservatives around +1.0 on the unstandardized scale) and 10 of the minority (around
-1.6), every member's position N(wing mean, 0.35); 250 roll calls, alpha ~ N(0, 1),
beta ~ N(0, 1.5), 5% of cells missing (irt_pipeline_tests/simulated.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "irt_pipeline_tests"))

from simulated import kansas_like_chamber  # noqa: E402

from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates, gates_for  # noqa: E402
from irt_pipeline.stats.models import MODELS  # noqa: E402
from irt_pipeline.stats.pca import pca_scores  # noqa: E402
from irt_pipeline.stats.rankings import posterior_legislators, rank_legislators  # noqa: E402
from irt_pipeline.stats.sampling import SamplerSettings, sample  # noqa: E402


def recovery(spec, idata, truth, majority) -> dict:
    table = rank_legislators(idata, posterior_legislators(idata)).set_index("legislator_id")
    ids = [str(i) for i in idata.posterior["legislator"].values]
    table = table.loc[ids]
    mean = table["xi_mean"].to_numpy()
    covered = (table["xi_hdi_low"].to_numpy() <= truth) & (truth <= table["xi_hdi_high"].to_numpy())
    return {
        "r": float(np.corrcoef(mean, truth)[0, 1]),
        "r_majority": float(np.corrcoef(mean[majority], truth[majority])[0, 1]),
        "coverage": float(covered.mean()),
        "coverage_majority": float(covered[majority].mean()),
        "stop": idata.attrs.get("stop"),
        "coordinates": idata.attrs.get("coordinates", ""),
        "draws": idata.attrs.get("draws_used"),
        "gates": failed_gates(spec, idata) or "pass",
    }


def failed_gates(spec, idata) -> str:
    """The gates (stats/diagnostics.py) the posterior fails, with their values."""
    results = evaluate_gates(convergence_summary(idata, spec.gated), gates_for(spec.gated))
    return ", ".join(f"{r['gate']}={r['value']:.4g}" for r in results if not r["passed"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="*", help="these replicates only")
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds or range(args.replicates):
        matrix, truth = kansas_like_chamber(seed=seed)
        majority = (matrix.legislators["party"] == "Republican").to_numpy()
        pca = pca_scores(matrix)["pc1"].to_numpy()
        for key in ("hierarchical", "flat"):
            idata = sample(MODELS[key], matrix, pca, SamplerSettings(seed=seed))
            rows.append({"seed": seed, "model": key, **recovery(MODELS[key], idata, truth, majority)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".3f"))
    print(table.groupby("model")[["r", "r_majority", "coverage", "coverage_majority"]].mean().to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
