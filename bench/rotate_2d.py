"""Which direction of the plane is dim 1: stored two-dimensional posteriors turned by
candidate rules, each dim 1 held against Nokken-Poole's and DW-NOMINATE's dim 1.

    python bench/rotate_2d.py --root bench/out/validate_2d_root --chambers S073,S088 [--write-docs]

Reads, from a storage root a `two_dimensional_chain` run wrote (bench/validate_2d.py),
each chamber's posterior_2d, posterior (the 1D scale) and landing file. Every draw's dim 2
is put on sd 1 (dim 1 is already), so that a turn of the plane keeps both dimensions
standardized and uncorrelated; the rules, each one angle per posterior (degrees from the
published dim 1, the direction the orientation rule's sides differ along, toward dim 2):

- main axis, sum b b^T: the leading eigenvector of sum_j b_j b_j^T over roll calls and
  draws, b_j = (beta_j, beta_2_j) in that frame (`two_dimensional.main_axis_angle`);
- roll calls counted once: the same with each b_j scaled to length 1 (the direction
  most roll calls' cutting lines cross);
- closeness-weighted: roll calls counted once, weighted by q_j (1 - q_j) of their
  predicted Yea share q_j (close votes count most);
- best 1D cut: the direction onto which the plane's predicted votes (posterior means,
  eta_ij > 0) are best classified by one cutpoint per roll call;
- after the fact: the angle that maximizes r with Nokken-Poole dim 1 itself (a bound,
  not a rule).

Prints r of the posterior means' dim 1 under each rule with nokken_poole_dim1 (and the
1D scale's), the angle beside it.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, publish  # noqa: E402
from validate_2d import external_scores  # noqa: E402

BEGIN, END = "<!-- rotate_2d: begin -->", "<!-- rotate_2d: end -->"


def axis_degrees(moment: np.ndarray) -> float:
    """The leading eigenvector of a (2, 2) moment as an angle in (-90, 90]."""
    axis = np.linalg.eigh(moment)[1][:, 1]
    angle = math.degrees(math.atan2(axis[1], axis[0]))
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle


def best_cut_share(t: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the (n, m) predicted votes one cutpoint per roll call on t (n,) classifies."""
    ordered = predicted[np.argsort(t)].astype(float)
    n = len(t)
    yeas = np.vstack([np.zeros((1, ordered.shape[1])), np.cumsum(ordered, axis=0)])
    below = np.arange(n + 1)[:, None]
    right = (below - yeas) + (yeas[-1] - yeas)  # Nay below the cut, Yea above
    return float(np.maximum(right, n - right).max(axis=0).sum() / predicted.size)


def chamber_rules(stem: str, root: Path) -> dict:
    import arviz as az

    session, chamber = str(int(stem[1:])), {"S": "Senate", "H": "House"}[stem[0]]
    two = az.from_netcdf(str(root / "posterior_2d" / chamber / f"{session}.nc"))
    one = az.from_netcdf(str(root / "posterior" / chamber / f"{session}.nc"))
    external = external_scores(root / "landing" / f"{session}_{chamber}.parquet")
    external.index = external.index.astype(str)
    post = two.posterior

    def values(name):
        return post[name].transpose("chain", "draw", ...).values

    x = np.stack([values("xi"), values("xi_2")], axis=-1)
    b = np.stack([values("beta"), values("beta_2")], axis=-1)
    spread = np.sqrt(np.mean(x[..., 1] ** 2, axis=-1))
    x[..., 1] /= spread[..., None]
    b[..., 1] *= spread[..., None]
    means, b_means, alpha = x.mean(axis=(0, 1)), b.mean(axis=(0, 1)), values("alpha").mean(axis=(0, 1))
    predicted = means @ b_means.T - alpha > 0
    unit = b / np.linalg.norm(b, axis=-1, keepdims=True)
    share = predicted.mean(axis=0)
    closeness = np.sqrt(share * (1 - share))[:, None] * b_means / np.linalg.norm(b_means, axis=1, keepdims=True)
    grid = np.arange(-90.0, 90.0, 1.0)

    def direction(degrees):
        return np.array([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))])

    ids = post["legislator"].values.astype(str)
    target = external.reindex(ids)["nokken_poole_dim1"].to_numpy(float)
    scored = np.isfinite(target)

    def r(scores):
        return float(np.corrcoef(scores[scored], target[scored])[0, 1])

    cuts = [best_cut_share(means @ direction(g), predicted) for g in grid]
    rules = {
        "published (party contrast)": 0.0,
        "main axis, sum b b^T": axis_degrees(np.einsum("cdji,cdjk->ik", b, b)),
        "roll calls counted once": axis_degrees(np.einsum("cdji,cdjk->ik", unit, unit)),
        "closeness-weighted": axis_degrees(closeness.T @ closeness),
        "best 1D cut": float(grid[int(np.argmax(cuts))]),
    }
    at = {g: r(means @ direction(g)) for g in grid}
    best = max(at, key=at.get)
    one_ids = one.posterior["legislator"].values.astype(str)
    one_means = dict(zip(one_ids, one.posterior["xi"].mean(("chain", "draw")).values))
    out = {"chamber": stem, "1d": r(np.array([one_means[i] for i in ids])), "after the fact": (best, at[best])}
    out.update({name: (angle, r(means @ direction(angle))) for name, angle in rules.items()})
    return out


def table(results: list[dict]) -> str:
    names = ["published (party contrast)", "main axis, sum b b^T", "roll calls counted once", "closeness-weighted",
             "best 1D cut", "after the fact"]
    lines = [
        "| chamber | 1D scale | " + " | ".join(names) + " |",
        "|---" * (len(names) + 2) + "|",
    ]
    for res in results:
        cells = [f"{res[name][1]:.3f} ({res[name][0]:+.0f} deg)" for name in names]
        lines.append(f"| {res['chamber']} | {res['1d']:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(OUT / "validate_2d_root"))
    parser.add_argument("--chambers", default="S073,S088")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    text = table([chamber_rules(stem, Path(args.root).resolve()) for stem in args.chambers.split(",")])
    publish(text, BEGIN, END, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
