"""Both models on the shared Voteview Senates, through the pipeline.

    python bench/validate_senates.py                      # 110th-117th, production sampler
    python bench/validate_senates.py --congresses 117 --draws 500

For each Congress: the Voteview files are imported as the CLI does (canonical rows,
`external_score` = DW-NOMINATE dim 1), the `both_models` job runs its partition on a
temporary storage root and instance, and the stored outputs are read back:
diagnostics / flat_diagnostics (the four gates), external_validation (r with
DW-NOMINATE dim 1, r between the models) and model_comparison (PSIS-LOO). Prints a
markdown table; writes every number to bench/out/validate_senates.json.

About 5 minutes per Congress on a 2-core machine with the default settings (4 chains x
1,000 tune + 1,500 draws per model; LOO over ~60-90k votes from 2,000 draws per model).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = REPO.parent / "shared" / "data" / "voteview"
OUT = BENCH / "out"


def congress_range(text: str) -> list[int]:
    """"110-117" or "110,113,117"."""
    if "-" in text:
        low, high = (int(v) for v in text.split("-"))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",")]


def gates_cell(summary: dict) -> str:
    failed = [g["gate"] for g in summary["gates"] if not g["passed"]]
    detail = f"R-hat {summary['rhat_xi_max']:.4f}, ESS {summary['ess_bulk_xi_min']:.0f}, div {summary['divergences']}"
    return ("pass" if not failed else "FAIL " + ",".join(failed)) + f" ({detail})"


def run_congress(congress: int, root: Path, instance, sampler) -> dict:
    import dagster as dg

    from irt_pipeline.cli import register_sessions
    from irt_pipeline.contract import conform, validate_roll_calls
    from irt_pipeline.definitions import make_definitions
    from irt_pipeline.partitions import partition_key
    from irt_pipeline.sources.voteview import read_voteview

    votes, members = SHARED / f"S{congress}_votes.csv", SHARED / f"S{congress}_members.csv"
    rows = conform(read_voteview(str(votes), str(members)))
    validate_roll_calls(rows, str(votes)).raise_if_failed()
    session = str(congress)
    (root / "landing").mkdir(parents=True, exist_ok=True)
    rows.to_parquet(root / "landing" / f"{session}_Senate.parquet", index=False)
    register_sessions(instance, [session])

    defs = make_definitions(root=str(root), sampler=sampler)
    start = time.perf_counter()
    result = defs.resolve_job_def("both_models").execute_in_process(
        instance=instance, partition_key=partition_key(session, "Senate"), raise_on_error=False
    )
    seconds = time.perf_counter() - start
    failures = [
        e.event_specific_data.error.message.strip()
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]

    def stored(asset: str):
        path = root / asset / "Senate" / f"{session}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def stored_table(asset: str):
        import pandas as pd

        path = root / asset / "Senate" / f"{session}.parquet"
        return pd.read_parquet(path) if path.exists() else None

    out = {"congress": congress, "success": result.success, "seconds": round(seconds, 1), "failures": failures}
    for name in ("diagnostics", "flat_diagnostics", "model_comparison", "external_validation"):
        out[name] = stored(name)
    for name in ("posterior_predictive", "flat_posterior_predictive"):
        ppc = stored(name)
        out[name] = None if ppc is None else {k: v for k, v in ppc.items() if k not in ("legislators", "roll_calls")}
    # Where the flat model's anchors land among the hierarchical ranks.
    import arviz as az

    flat_path = root / "flat_posterior" / "Senate" / f"{session}.nc"
    hier, flat = stored_table("rankings"), stored_table("flat_rankings")
    if flat_path.exists() and hier is not None and flat is not None:
        attrs = az.from_netcdf(str(flat_path)).attrs
        anchors = {}
        for side in ("conservative", "liberal"):
            legislator = attrs[f"anchor_{side}"]
            anchors[side] = {
                "legislator_id": legislator,
                "name": hier.set_index("legislator_id").loc[legislator, "name"],
                "rank_hierarchical": int(hier.set_index("legislator_id").loc[legislator, "rank"]),
                "rank_flat": int(flat.set_index("legislator_id").loc[legislator, "rank"]),
            }
        out["flat_anchors"] = anchors
        out["legislators"] = len(hier)
    return out


def r_with(report: dict, a: str, b: str) -> dict | None:
    for pair in report["correlations"]:
        if {pair["a"], pair["b"]} == {a, b}:
            return pair
    return None


def table_row(r: dict) -> str:
    ext = r["external_validation"]
    comp = r["model_comparison"]
    cells = [str(r["congress"])]
    if ext is not None:
        for model in ("hierarchical", "flat"):
            pair = r_with(ext, model, "external")
            cells.append(f"{pair['pearson_r']:.3f} / {pair['spearman_r']:.3f}")
        pair = r_with(ext, "hierarchical", "flat")
        cells.append(f"{pair['pearson_r']:.3f} / {pair['spearman_r']:.3f}")
    else:
        cells += ["-", "-", "-"]
    for name in ("diagnostics", "flat_diagnostics"):
        cells.append(gates_cell(r[name]) if r[name] else "-")
    if comp is not None:
        k = comp["pareto_k"]
        cells.append(
            f"{comp['preferred']} by {comp['elpd_diff']:.1f} (se {comp['dse']:.1f}); "
            f"k>{k['hierarchical']['good_k']:.2f}: hier {k['hierarchical']['k_above_good']}, "
            f"flat {k['flat']['k_above_good']} of {k['flat']['votes']}"
        )
    else:
        cells.append("-")
    anchors = r.get("flat_anchors")
    if anchors:
        n = r["legislators"]
        cells.append(
            f"R {anchors['conservative']['rank_hierarchical']}->{anchors['conservative']['rank_flat']}, "
            f"D {anchors['liberal']['rank_hierarchical']}->{anchors['liberal']['rank_flat']} of {n}"
        )
    else:
        cells.append("-")
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| Congress | r(hier, DW-NOM dim1) Pearson / Spearman | r(flat, DW-NOM dim1) | r(hier, flat) | "
    "gates hierarchical | gates flat | LOO: preferred by elpd_diff (dse); Pareto k warnings | "
    "flat anchors' rank: hier -> flat |\n|---|---|---|---|---|---|---|---|"
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--congresses", default="110-117")
    parser.add_argument("--chains", type=int)
    parser.add_argument("--tune", type=int)
    parser.add_argument("--draws", type=int)
    parser.add_argument("--root", help="storage root (default: a temporary folder)")
    parser.add_argument("--out", default=str(OUT / "validate_senates.json"))
    parser.add_argument("--table-from", help="only print the table of a stored JSON file")
    args = parser.parse_args(argv)
    if args.table_from:
        return print_table(args.table_from)

    import dagster as dg

    from irt_pipeline.resources import Sampler
    from irt_pipeline.stats.sampling import SamplerSettings

    sampler = Sampler(
        chains=args.chains or SamplerSettings.chains,
        tune=args.tune or SamplerSettings.tune,
        draws=args.draws or SamplerSettings.draws,
    )
    print(f"sampler: {sampler.settings().as_dict()}", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        root = Path(args.root) if args.root else Path(tmp) / "root"
        print(HEADER, flush=True)
        for congress in congress_range(args.congresses):
            result = run_congress(congress, root, instance, sampler)
            results.append(result)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(
                json.dumps({"sampler": sampler.settings().as_dict(), "results": results}, indent=2, default=str)
            )
            try:
                print(table_row(result), flush=True)
            except Exception as exc:  # noqa: BLE001 - the numbers are in the JSON; go on
                print(f"| {congress} | table row failed: {exc!r} |", flush=True)
            if result["failures"]:
                print(f"  failures: {result['failures']}", file=sys.stderr, flush=True)
    return 0 if all(r["success"] for r in results) else 1


def print_table(path: str) -> int:
    """The table again from a stored JSON file."""
    print(HEADER)
    for result in json.loads(Path(path).read_text())["results"]:
        print(table_row(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
