"""Both models on every shared Voteview chamber, through the pipeline, with the defaults.

    python bench/validate_chambers.py                          # every chamber in ../shared
    python bench/validate_chambers.py --chambers S117,S088   # replaces those rows of the JSON
    python bench/validate_chambers.py --table-from bench/out/validate_chambers.json
    python bench/validate_chambers.py --write-docs             # also rewrite docs/models.md's table

For each chamber the Voteview files are imported as the CLI does (canonical rows carrying
DW-NOMINATE and Nokken-Poole scores), the `both_models` job runs its partition on a
persistent storage root (bench/out/validate_root: a rerun reuses cached posteriors) and
a temporary instance, and the stored outputs are read back: both models' diagnostics
(every gate, ideal points and party parameters), external_validation (Pearson r with
`nominate_dim1` and `nokken_poole_dim1`), posterior_predictive (share of votes
correctly classified, against DW-NOMINATE's own share from the members file),
model_comparison (PSIS-LOO) and where the PCA extremes rank in the flat model. Prints a
markdown table; writes every number to bench/out/validate_chambers.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, fmt, land_chamber, run_partition, shared_chambers, voteview_files  # noqa: E402
from _common import publish  # noqa: E402

BEGIN, END = "<!-- validate_chambers: begin -->", "<!-- validate_chambers: end -->"


def dw_nominate_classification(members_csv: Path, legislator_ids) -> float:
    """DW-NOMINATE's share of votes correctly classified over the chamber's members:
    1 - sum(errors) / sum(votes) from the members file, over the legislators the model
    ranked (legislator_ids: ICPSR ids as strings)."""
    members = pd.read_csv(members_csv)
    members = members[members["chamber"] != "President"].drop_duplicates("icpsr")
    members = members.assign(icpsr=members["icpsr"].astype(int).astype(str)).set_index("icpsr")
    members = members.loc[members.index.intersection(list(legislator_ids))]
    return float(1 - members["nominate_number_of_errors"].sum() / members["nominate_number_of_votes"].sum())


def run_chamber(stem: str, root: Path, instance, sampler) -> dict:
    from irt_pipeline.definitions import make_definitions

    session, chamber, _ = land_chamber(stem, root)
    defs = make_definitions(root=str(root), sampler=sampler)
    result, seconds, failures = run_partition(defs, "both_models", instance, session, chamber)
    step_seconds = {}
    for event in result.all_events:
        if event.is_step_success and event.event_specific_data is not None:
            duration = getattr(event.event_specific_data, "duration_ms", None)
            if duration is not None:
                step_seconds[event.step_key] = round(duration / 1000, 1)

    def stored(asset: str, ext: str = "json"):
        path = root / asset / chamber / f"{session}.{ext}"
        if not path.exists():
            return None
        return json.loads(path.read_text()) if ext == "json" else pd.read_parquet(path)

    out = {
        "chamber": stem, "success": result.success, "seconds": round(seconds, 1), "step_seconds": step_seconds,
        "failures": failures,
    }
    for name in ("diagnostics", "flat_diagnostics", "model_comparison", "external_validation"):
        out[name] = stored(name)
    for name in ("posterior_predictive", "flat_posterior_predictive"):
        ppc = stored(name)
        out[name] = None if ppc is None else {k: v for k, v in ppc.items() if k not in ("legislators", "roll_calls")}
    hier, flat = stored("rankings", "parquet"), stored("flat_rankings", "parquet")
    if hier is not None:
        out["legislators"] = len(hier)
        out["dw_nominate_classified"] = dw_nominate_classification(voteview_files(stem)[1], hier["legislator_id"])
    flat_path = root / "flat_posterior" / chamber / f"{session}.nc"
    if flat is not None and flat_path.exists():
        import arviz as az

        attrs = az.from_netcdf(str(flat_path)).attrs
        ranks = flat.set_index("legislator_id")["rank"]
        out["flat_extremes"] = {
            side: int(ranks[attrs[f"extreme_{side}"]]) for side in ("conservative", "liberal")
        }
    return out


def chamber_order(result: dict) -> tuple[int, str]:
    stem = result["chamber"]
    return int(stem[1:]), stem[0]


def kept_results(out: Path, settings: dict) -> list[dict]:
    """The results already in `out` from the same sampler settings (a rerun of some
    chambers replaces theirs and keeps the others'); none if the settings differ."""
    if not out.exists():
        return []
    stored = json.loads(out.read_text())
    return stored["results"] if stored.get("sampler") == settings else []


def r_with(report: dict | None, a: str, b: str) -> float | None:
    for pair in (report or {}).get("correlations", []):
        if {pair["a"], pair["b"]} == {a, b}:
            return pair["pearson_r"]
    return None


GROUP_ORDER = {"xi": 0, "party": 1, "tau": 2}  # ideal points first, then what summarizes them


def gates_cell(summary: dict | None) -> str:
    if summary is None:
        return "-"
    failed = [g["gate"] for g in summary["gates"] if not g["passed"]]
    parts = [
        f"R-hat {summary[f'rhat_{g}_max']:.4f} ESS {summary[f'ess_bulk_{g}_min']:.0f} ({g})"
        for g in sorted(summary["gate_groups"], key=lambda g: (GROUP_ORDER.get(g, len(GROUP_ORDER)), g))
    ]
    verdict = "pass" if not failed else "**FAIL** " + ",".join(failed)
    return f"{verdict}: " + "; ".join(parts) + f"; div {summary['divergences']}, E-BFMI {summary['ebfmi_min']:.2f}"


def sampled(summary: dict | None) -> str:
    """'530 s, 3,500 draws': the fit's sampling time and draws per chain (as stored with
    the posterior, so a rerun that reused it shows the original fit)."""
    if summary is None:
        return "-"
    return f"{summary['sampling_seconds']:.0f} s, {summary['draws']:,} draws"  # per chain


def table_rows(r: dict) -> list[str]:
    ext = r.get("external_validation")
    comp = r.get("model_comparison")
    ppc, flat_ppc = r.get("posterior_predictive"), r.get("flat_posterior_predictive")
    loo = "-"
    if comp:
        loo = f"{comp['preferred']} by {comp['elpd_diff']:.1f} (se {comp['dse']:.1f})"
    extremes = r.get("flat_extremes")
    return [
        "| " + " | ".join([
            r["chamber"],
            fmt(r_with(ext, "hierarchical", "external"), ".3f") + " / " + fmt(r_with(ext, "flat", "external"), ".3f"),
            fmt(r_with(ext, "hierarchical", "session_external"), ".3f") + " / "
            + fmt(r_with(ext, "flat", "session_external"), ".3f"),
            fmt(ppc and ppc["share_correct"], ".4f") + " / " + fmt(flat_ppc and flat_ppc["share_correct"], ".4f")
            + " vs " + fmt(r.get("dw_nominate_classified"), ".4f"),
            loo,
            f"R {extremes['conservative']}, D {extremes['liberal']} of {r['legislators']}" if extremes else "-",
            " / ".join(sampled(r.get(name)) for name in ("diagnostics", "flat_diagnostics")),
        ]) + " |",
        f"| | hierarchical gates: {gates_cell(r.get('diagnostics'))} | | | | | |",
        f"| | flat gates: {gates_cell(r.get('flat_diagnostics'))} | | | | | |",
    ]


HEADER = (
    "| chamber | r with DW-NOMINATE dim 1 (hier / flat) | r with Nokken-Poole dim 1 (hier / flat) | "
    "votes classified (hier / flat vs DW-NOMINATE) | PSIS-LOO: preferred by elpd_diff (se) | "
    "PCA extremes' flat ranks | sampling (hier / flat): seconds, draws per chain |\n|---|---|---|---|---|---|---|"
)


def table(results: list[dict], sampler: dict) -> str:
    lines = [HEADER]
    for r in results:
        lines += table_rows(r)
    return "\n".join(lines) + f"\n\nSampler: {sampler}."


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chambers", help="e.g. S117,S088,H117 (default: every chamber in ../shared)")
    parser.add_argument("--root", default=str(OUT / "validate_root"), help="storage root (reused between runs)")
    parser.add_argument("--out", default=str(OUT / "validate_chambers.json"))
    parser.add_argument("--table-from", help="only print the table of a stored JSON file")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/models.md")
    args = parser.parse_args(argv)
    if args.table_from:
        stored = json.loads(Path(args.table_from).read_text())
        results, settings, success = stored["results"], stored["sampler"], True
    else:
        stems = args.chambers.split(",") if args.chambers else shared_chambers()
        results, settings = fit(stems, Path(args.root).resolve(), Path(args.out).resolve())
        success = all(r["success"] for r in results)  # every chamber in the table
    text = table(results, settings)
    publish(text, BEGIN, END, args.write_docs)
    return 0 if success else 1


def fit(stems: list[str], root: Path, out: Path) -> tuple[list[dict], dict]:
    """Run every chamber of `stems`, merging each result into `out` as it comes; the
    results in `out` (oldest Congress first) and the sampler's settings."""
    import dagster as dg

    from irt_pipeline.resources import resources_from_env

    sampler = resources_from_env()["sampler"]  # the defaults (or IRT_PIPELINE_* overrides)
    settings = sampler.settings().as_dict()
    results = kept_results(out, settings)
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        for stem in stems:
            result = run_chamber(stem, root, instance, sampler)
            results = sorted([r for r in results if r["chamber"] != stem] + [result], key=chamber_order)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"sampler": settings, "results": results}, indent=2, default=str))
            print("\n".join(table_rows(result)), flush=True)
            if result["failures"]:
                print(f"  failures: {result['failures']}", file=sys.stderr, flush=True)
    return results, settings


if __name__ == "__main__":
    sys.exit(main())
