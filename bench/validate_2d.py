"""The two-dimensional model beside the default one on shared Voteview chambers, through
the pipeline, with the defaults.

    python bench/validate_2d.py --chambers S073,S088
    python bench/validate_2d.py --chambers S110,S111,S112,S113,S114,S115,S116,S117
    python bench/validate_2d.py --table-from bench/out/validate_2d.json [--write-docs]

For each chamber the Voteview files are imported as the CLI does (canonical rows carrying
DW-NOMINATE and Nokken-Poole scores, both dimensions), the `two_dimensional_chain` job
runs its partition (the default chain, posterior_2d -> diagnostics_2d -> rankings_2d and
the dimensionality verdict) on a persistent storage root (bench/out/validate_2d_root: a
rerun reuses cached posteriors) and a temporary instance, and the stored outputs are
read back: every gate of both models, Pearson r of the 1D scale and of each 2D dimension
with nominate_dim1/dim2 and nokken_poole_dim1/dim2, the multiple correlation of each
external dimension with the plane (rotation-free: how well the two 2D dimensions
together predict it), how sure the two posteriors are that 2D dim 1 matches
nominate_dim1 at least as well as the 1D scale (r in every draw of each, draws paired at
random: the 94% interval of the difference), the verdict (out-of-sample shares and gain,
elpd_diff, se, in-sample gain), the lean of dim 2 and the main axis's angle, and both
posterior steps' seconds. A model whose gates failed publishes no
rankings: its correlations are then computed from the posterior means of its stored
posterior and marked with * (figures of a posterior the pipeline refused), and for a 2D
posterior that failed, each chain's members farthest out on each dimension are listed
(which member took which dimension in which chain). Prints markdown tables; writes every
number to bench/out/validate_2d.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHAMBERS as CHAMBER_NAMES, OUT, fmt, land_chamber, publish, run_partition  # noqa: E402
from validate_chambers import gates_cell  # noqa: E402

BEGIN, END = "<!-- validate_2d: begin -->", "<!-- validate_2d: end -->"
EXTERNAL = {
    "nominate_dim1": "external_score", "nominate_dim2": "external_score_dim2",
    "nokken_poole_dim1": "session_score", "nokken_poole_dim2": "session_score_dim2",
}


def external_scores(landing: Path) -> pd.DataFrame:
    """One row per legislator_id: the four Voteview scores carried by the canonical rows."""
    rows = pd.read_parquet(landing, columns=["legislator_id", *EXTERNAL.values()])
    scores = rows.drop_duplicates("legislator_id").set_index("legislator_id")
    return scores.rename(columns={v: k for k, v in EXTERNAL.items()})


def correlations(one: pd.DataFrame, two: pd.DataFrame, external: pd.DataFrame) -> dict:
    """r of the 1D xi, 2D dim 1 and 2D dim 2 with each external score, and the multiple
    correlation of each external score with (2D dim 1, 2D dim 2), over legislators with
    that score."""
    def by_id(table):
        return table.set_index(table["legislator_id"].astype(str))

    external = external.set_axis(external.index.astype(str))
    frame = by_id(two)[["xi_mean", "xi_2_mean"]].join(by_id(one)["xi_mean"].rename("xi_1d")).join(external)
    out = {}
    for name in EXTERNAL:
        rows = frame.dropna(subset=[name, "xi_1d"])
        target = rows[name].to_numpy()
        plane = np.column_stack([np.ones(len(rows)), rows["xi_mean"], rows["xi_2_mean"]])
        fitted = plane @ np.linalg.lstsq(plane, target, rcond=None)[0]
        out[name] = {
            "n": len(rows),
            "1d": float(np.corrcoef(rows["xi_1d"], target)[0, 1]),
            "2d_dim1": float(np.corrcoef(rows["xi_mean"], target)[0, 1]),
            "2d_dim2": float(np.corrcoef(rows["xi_2_mean"], target)[0, 1]),
            "plane": float(np.corrcoef(fitted, target)[0, 1]),
        }
    return out


def per_draw_r(idata, external: pd.Series) -> np.ndarray:
    """Pearson r of dim 1 (xi) with `external` in every draw of a posterior, over the
    legislators with a score: shape (chains * draws,)."""
    xi = idata.posterior["xi"]
    ids = [i for i in xi["legislator"].values.astype(str) if i in external.index]
    draws = xi.sel(legislator=ids).stack(sample=("chain", "draw")).transpose("sample", "legislator").values
    draws = draws - draws.mean(axis=1, keepdims=True)
    target = external.loc[ids].to_numpy(float)
    target = target - target.mean()
    return draws @ target / np.sqrt((draws**2).sum(axis=1) * (target**2).sum())


def r_difference(one, two, external: pd.Series, seed: int = 20240101) -> dict:
    """How sure the posteriors are that 2D dim 1 correlates with `external` at least as
    well as the 1D scale: per-draw r of each, the two posteriors' draws paired at random
    (they are independent fits), and the median, 3% and 97% quantiles of r_2D - r_1D
    with the share of pairs where it is >= 0."""
    external = external.dropna()
    external = external.set_axis(external.index.astype(str))
    r1, r2 = per_draw_r(one, external), per_draw_r(two, external)
    rng = np.random.default_rng(seed)
    n = min(len(r1), len(r2))
    diff = rng.choice(r2, n, replace=False) - rng.choice(r1, n, replace=False)
    low, median, high = np.quantile(diff, [0.03, 0.5, 0.97])
    return {"median": float(median), "low": float(low), "high": float(high), "share_ge_0": float((diff >= 0).mean())}


def posterior_means(idata) -> pd.DataFrame:
    """One row per legislator_id: the posterior means of xi (and xi_2) of a stored
    posterior, as the rankings tables hold them."""
    post = idata.posterior
    names = [name for name in ("xi", "xi_2") if name in post]
    frame = pd.DataFrame({f"{name}_mean": post[name].mean(("chain", "draw")).values for name in names})
    frame.insert(0, "legislator_id", [str(v) for v in post["legislator"].values])
    return frame


def far_out(idata, top: int = 3) -> dict:
    """Per dimension, per chain: the `top` legislators with the largest |chain mean|, as
    'NAME (party initial, mean)'."""
    post, const = idata.posterior, idata.constant_data
    names, parties = const["legislator_name"].values.astype(str), const["party"].values.astype(str)
    out = {}
    for name in ("xi", "xi_2"):
        means = post[name].mean("draw").transpose("chain", "legislator").values
        out[name] = [
            [f"{names[i]} ({parties[i][:1]}, {chain[i]:+.2f})" for i in np.argsort(-np.abs(chain))[:top]]
            for chain in means
        ]
    return out


def gates_failed(summary: dict | None) -> bool:
    return summary is not None and any(not g["passed"] for g in summary["gates"])


def run_chamber(stem: str, root: Path, instance, sampler) -> dict:
    import arviz as az

    from irt_pipeline.definitions import make_definitions

    session, chamber, landing = land_chamber(stem, root)
    defs = make_definitions(root=str(root), sampler=sampler)
    result, seconds, failures = run_partition(defs, "two_dimensional_chain", instance, session, chamber)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    # Only what this run wrote: a step the gates blocked leaves an earlier run's file.
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}

    def stored(asset: str, ext: str = "json"):
        path = root / asset / chamber / f"{session}.{ext}"
        if asset not in materialized or not path.exists():
            return None
        return json.loads(path.read_text()) if ext == "json" else pd.read_parquet(path)

    out = {"chamber": stem, "success": result.success, "seconds": round(seconds, 1), "failures": failures,
           "one_dimension_is_enough": checks.get("one_dimension_is_enough")}
    for name in ("diagnostics", "diagnostics_2d", "dimensionality"):
        out[name] = stored(name)
    published = {"posterior": stored("rankings", "parquet"), "posterior_2d": stored("rankings_2d", "parquet")}
    tables, out["from_posterior"], posteriors = {}, [], {}
    for name in ("posterior", "posterior_2d"):
        path = root / name / chamber / f"{session}.nc"
        if name not in materialized or not path.exists():
            tables[name] = published[name]
            continue
        idata = posteriors[name] = az.from_netcdf(str(path))
        attrs = idata.attrs
        out[name] = {k: attrs.get(k) for k in (
            "sampling_seconds", "compile_seconds", "draws_used", "stop", "second_dimension_lean", "reflected_draws",
            "main_axis_degrees", "dim_2_crossing", "dim_2_spread"
        ) if k in attrs}
        out[name] = {k: (v.item() if hasattr(v, "item") else v) for k, v in out[name].items()}
        tables[name] = published[name]
        if tables[name] is None:  # gates failed: no rankings; the refused posterior's means, marked
            tables[name] = posterior_means(idata)
            out["from_posterior"].append(name)
        if name == "posterior_2d" and gates_failed(out["diagnostics_2d"]):
            out["far_out_2d"] = far_out(idata)
    one, two = tables["posterior"], tables["posterior_2d"]
    external = external_scores(landing)
    if one is not None and two is not None:
        out["legislators"] = len(two)
        out["correlations"] = correlations(one, two, external)
    if len(posteriors) == 2:
        out["r_difference"] = r_difference(posteriors["posterior"], posteriors["posterior_2d"], external["nominate_dim1"])
    return out


def _r(result: dict, external: str, which: str) -> str:
    """r formatted, with * when the model's gates failed (from its refused posterior)."""
    value = fmt(((result.get("correlations") or {}).get(external) or {}).get(which), ".3f")
    model = "posterior" if which == "1d" else "posterior_2d"
    return value + "*" if value != "-" and model in result.get("from_posterior", []) else value


CORRELATION_HEADER = (
    "| chamber | NOMINATE dim 1: 1D / 2D dim 1 | per draw: 2D dim 1 - 1D, median [94%] (share >= 0) | "
    "NOMINATE dim 2: 2D dim 2 (plane) | "
    "Nokken-Poole dim 1: 1D / 2D dim 1 (plane) | Nokken-Poole dim 2: 2D dim 2 (plane) | dim 2 lean |\n"
    "|---|---|---|---|---|---|---|"
)


def difference_cell(r: dict) -> str:
    d = r.get("r_difference")
    if not d:
        return "-"
    mark = "*" if "posterior_2d" in r.get("from_posterior", []) else ""
    return f"{d['median']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] ({d['share_ge_0']:.2f}){mark}"
VERDICT_HEADER = (
    "| chamber | elpd_diff 2D - 1D (se) | votes classified out of sample 1D / 2D (gain [bounds], se) | "
    "in sample (gain) | verdict | 2D gates | posterior step s: 1D / 2D (draws per chain) |\n"
    "|---|---|---|---|---|---|---|"
)


def correlation_row(r: dict) -> str:
    lean = (r.get("posterior_2d") or {}).get("second_dimension_lean")
    return "| " + " | ".join([
        r["chamber"],
        _r(r, "nominate_dim1", "1d") + " / " + _r(r, "nominate_dim1", "2d_dim1"),
        difference_cell(r),
        _r(r, "nominate_dim2", "2d_dim2") + " (" + _r(r, "nominate_dim2", "plane") + ")",
        _r(r, "nokken_poole_dim1", "1d") + " / " + _r(r, "nokken_poole_dim1", "2d_dim1")
        + " (" + _r(r, "nokken_poole_dim1", "plane") + ")",
        _r(r, "nokken_poole_dim2", "2d_dim2") + " (" + _r(r, "nokken_poole_dim2", "plane") + ")",
        fmt(lean, ".2f"),
    ]) + " |"


def verdict_cells(v: dict | None) -> list[str]:
    """elpd, out-of-sample shares and gain, in-sample gain and the verdict of a
    dimensionality record (the out-of-sample figures absent from an older record: '-')."""
    if not v:
        return ["-"] * 4
    oos = (
        f"{v['share_correct_oos_1d']:.4f} / {v['share_correct_oos_2d']:.4f} ({v['oos_gain']:+.4f} "
        f"[{v['oos_gain_low']:+.4f}, {v['oos_gain_high']:+.4f}]"
        + (f", se {v['oos_gain_se']:.4f})" if "oos_gain_se" in v else ")") if "oos_gain" in v else "-"
    )
    gain = v.get("classification_gain")
    verdict = v.get("verdict") or ("the second dimension matters" if v.get("second_dimension_matters") else "-")
    return [
        f"{v['elpd_diff']:.0f} ({v['se']:.0f})" if "elpd_diff" in v else "-", oos,
        f"{gain:+.4f}" if isinstance(gain, (int, float)) else "-",
        f"**{verdict}**" if verdict.startswith("the second") else verdict,
    ]


def verdict_row(r: dict) -> str:
    one, two = r.get("posterior") or {}, r.get("posterior_2d") or {}
    return "| " + " | ".join([
        r["chamber"],
        *verdict_cells(r.get("dimensionality")),
        gates_cell(r.get("diagnostics_2d")),
        fmt(one.get("sampling_seconds"), ".0f") + " / " + fmt(two.get("sampling_seconds"), ".0f")
        + f" ({one.get('draws_used', '-')} / {two.get('draws_used', '-')})",
    ]) + " |"


FAR_OUT_HEADER = (
    "| chamber | chain | farthest out on dim 1 (chain mean) | farthest out on dim 2 (chain mean) |\n|---|---|---|---|"
)


def far_out_rows(r: dict) -> list[str]:
    found = r.get("far_out_2d")
    if not found:
        return []
    return [
        f"| {r['chamber']} | {c} | " + "; ".join(dim1) + " | " + "; ".join(dim2) + " |"
        for c, (dim1, dim2) in enumerate(zip(found["xi"], found["xi_2"]))
    ]


def tables(results: list[dict], sampler: dict) -> str:
    far = [row for r in results for row in far_out_rows(r)]
    marked = any(r.get("from_posterior") for r in results)
    return "\n".join([
        CORRELATION_HEADER, *map(correlation_row, results), "",
        *(["\\* from the posterior means of a fit whose gates failed (the pipeline published no rankings)", ""]
          if marked else []),
        VERDICT_HEADER, *map(verdict_row, results), "",
        *([
            "2D fits whose gates failed, the members farthest out per chain:", "", FAR_OUT_HEADER, *far, ""
        ] if far else []),
        f"Sampler: {sampler}.",
    ])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chambers", default="S073,S088", help="e.g. S073,S088,S117 (default S073,S088)")
    parser.add_argument("--root", default=str(OUT / "validate_2d_root"), help="storage root (reused between runs)")
    parser.add_argument("--out", default=str(OUT / "validate_2d.json"), help="results (merged by chamber)")
    parser.add_argument("--table-from", help="only print the tables of a stored JSON file")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the tables in docs/models.md")
    parser.add_argument("--rejudge", action="store_true",
                        help="judge every stored chamber of --out again from the LOO tables stored in --root, "
                             "by this code's rule (no refit), and store the verdicts")
    args = parser.parse_args(argv)
    if args.rejudge or args.table_from:
        stored = json.loads(Path(args.out if args.rejudge else args.table_from).read_text())
        if args.rejudge:
            stored["results"] = [rejudged(r, Path(args.root).resolve()) for r in stored["results"]]
            Path(args.out).write_text(json.dumps(stored, indent=2, default=str))
        results, settings, success = stored["results"], stored["sampler"], True
    else:
        results, settings, success = fit(args.chambers.split(","), Path(args.root).resolve(), Path(args.out).resolve())
    text = tables(results, settings)
    publish(text, BEGIN, END, args.write_docs)
    return 0 if success else 1


def fit(stems: list[str], root: Path, out: Path) -> tuple[list[dict], dict, bool]:
    """Run every chamber of `stems`, merging each result into `out` as it comes; all
    results in `out` by Congress, the sampler's settings, whether every chamber run
    here succeeded."""
    import dagster as dg

    from irt_pipeline.resources import resources_from_env

    sampler = resources_from_env()["sampler"]  # the defaults (or IRT_PIPELINE_* overrides)
    settings = sampler.settings().as_dict()
    results = {r["chamber"]: r for r in (json.loads(out.read_text())["results"] if out.exists() else [])}
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        for stem in stems:
            result = results[stem] = run_chamber(stem, root, instance, sampler)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"sampler": settings, "results": by_congress(results)}, indent=2, default=str))
            print(correlation_row(result), verdict_row(result), sep="\n", flush=True)
            if result["failures"]:
                print(f"  failures: {result['failures']}", file=sys.stderr, flush=True)
    return by_congress(results), settings, all(results[s]["success"] for s in stems)


def rejudged(r: dict, root: Path) -> dict:
    """A stored chamber's record with its verdict computed again from the `loo` and
    `loo_2d` tables stored in `root` (left as it was where they are not there), the
    gates' outcome and the in-sample shares taken from the record."""
    from irt_pipeline.stats.dimensionality import dimensionality_verdict

    session, chamber = str(int(r["chamber"][1:])), CHAMBER_NAMES[r["chamber"][0]]
    paths = [root / name / chamber / f"{session}.parquet" for name in ("loo", "loo_2d")]
    old = r.get("dimensionality") or {}
    if not all(p.exists() for p in paths):
        return r
    problems = [f"{name}: gates not passed" for name in ("diagnostics", "diagnostics_2d")
                if not (r.get(name) or {}).get("gates_passed")]
    shares = (old["share_correct_1d"], old["share_correct_2d"]) if "share_correct_1d" in old else None
    verdict = dimensionality_verdict(pd.read_parquet(paths[0]), pd.read_parquet(paths[1]), problems, in_sample=shares)
    return {**r, "dimensionality": {**verdict, "rejudged": True}}


def by_congress(results: dict) -> list[dict]:
    return sorted(results.values(), key=lambda r: int(r["chamber"][1:]))


if __name__ == "__main__":
    sys.exit(main())
