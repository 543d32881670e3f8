"""The common scale on the shared Voteview Senates, against DW-NOMINATE.

    python bench/common_scale.py                        # 73rd, 88th, 110th-118th
    python bench/common_scale.py --congresses 110-118
    python bench/common_scale.py --screenshot bench/out/common_scale/ui-polarization.png
    python bench/common_scale.py --congresses 110-118 --dynamic   # and the dynamic scale beside it

Each Congress is imported as the CLI does and its partition runs the `irt_chain` job
on a persistent storage root and instance, `bench/out/common_scale/{root,dagster_home}/`
(git-ignored), so a rerun reuses every stored posterior through the posterior cache (a
model change refits, as it should), and `DAGSTER_HOME=bench/out/common_scale/dagster_home
IRT_PIPELINE_ROOT=bench/out/common_scale/root dagster dev -w workspace.yaml` shows the
results in the UI. `--screenshot` does that and saves the polarization chart's page. Then the `common_scale_job` puts the Senates on one scale, and the stored
outputs are compared with DW-NOMINATE's `nominate_dim1` (a common-space score itself):

- pooled Pearson r over all legislator-sessions: the common scale, and the unlinked
  per-session posterior means (each standardized within its session);
- the party gap per Congress (Republican median - Democratic median) of the common
  scale, of the unlinked scores and of DW-NOMINATE over the same legislators, and the
  correlation of each series with DW-NOMINATE's;
- the linking variants of `irt_pipeline.stats.common_scale` (mean-sigma or regression,
  with or without the bootstrap over bridges) on the same stored posteriors;
- with `--dynamic`: the `dynamic_scale_job` on the same root (one posterior over the
  Senates' stored vote matrices, about 15 minutes for nine Senates), its scale against
  DW-NOMINATE as above, its orientation rule, and the agreement with the linking the
  pipeline itself writes in `dynamic_scale`'s metadata.

Prints markdown; writes every number to bench/out/common_scale.json. About 1-2 minutes
per Congress to fit on a 2-core machine with the default sampler; seconds on a rerun.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, REPO, land_chamber, run_partition, voteview_files  # noqa: E402

BASE = OUT / "common_scale"  # root/ and dagster_home/, the layout of running_dagster_ui
DEFAULT_ROOT = BASE / "root"
CHAMBER = "Senate"


def congress_list(text: str) -> list[int]:
    """"73,88,110-118" -> [73, 88, 110, ..., 118]."""
    out = []
    for part in text.split(","):
        if "-" in part:
            low, high = (int(v) for v in part.split("-"))
            out.extend(range(low, high + 1))
        else:
            out.append(int(part))
    return out


def fit_congresses(congresses: list[int], root: Path, instance, defs) -> list[dict]:
    """Run `irt_chain` for every Congress's Senate partition; one summary each."""
    summaries = []
    for congress in congresses:
        session, _, _ = land_chamber(f"S{congress:03d}", root)
        result, seconds, _ = run_partition(defs, "irt_chain", instance, session, CHAMBER)
        cache = None
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.to_user_string() == "posterior":
                cache = materialization.metadata["cache"].value
        diagnostics = root / "diagnostics" / CHAMBER / f"{session}.json"
        gates = json.loads(diagnostics.read_text())["gates_passed"] if diagnostics.exists() else None
        summary = {
            "congress": congress,
            "success": result.success,
            "posterior_cache": cache,
            "gates_passed": gates,
            "seconds": round(seconds, 1),
        }
        print(json.dumps(summary), file=sys.stderr, flush=True)
        summaries.append(summary)
    return summaries


def dw_nominate(congresses: list[int]) -> "pd.DataFrame":
    """session, legislator_id (icpsr), party, nominate_dim1 of every Senator."""
    import pandas as pd

    from irt_pipeline.sources.voteview import party_name

    frames = []
    for congress in congresses:
        members = pd.read_csv(voteview_files(f"S{congress:03d}")[1])
        members = members[members["chamber"] == CHAMBER]
        frames.append(
            pd.DataFrame(
                {
                    "session": str(congress),
                    "legislator_id": members["icpsr"].astype(int).astype(str),
                    "dw_party": members["party_code"].map(party_name),
                    "nominate_dim1": members["nominate_dim1"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def compare(table, label: str) -> dict:
    """Pooled r with DW-NOMINATE and the party-gap series of one scored table (columns
    session, party, score, nominate_dim1)."""
    import numpy as np

    from irt_pipeline.stats import common_scale as cs

    order = cs.session_order(table["session"].unique())
    gap = cs.table_gap(table, "Republican", "Democrat", "score").reindex(order)
    dw_gap = cs.table_gap(table, "Republican", "Democrat", "nominate_dim1").reindex(order)
    return {
        "scale": label,
        "legislator_sessions": len(table),
        "pooled_r": float(np.corrcoef(table["score"], table["nominate_dim1"])[0, 1]),
        "gap": {s: float(v) for s, v in gap.items()},
        "dw_gap": {s: float(v) for s, v in dw_gap.items()},
        "gap_r": float(np.corrcoef(gap, dw_gap)[0, 1]) if len(gap) > 2 else None,
        "gap_change": float(gap.iloc[-1] - gap.iloc[0]),
        "dw_gap_change": float(dw_gap.iloc[-1] - dw_gap.iloc[0]),
    }


def variants(root: Path, sessions: list[str], nominate) -> list[dict]:
    """The linking variants on the stored posteriors of `sessions`."""
    import pandas as pd

    from irt_pipeline.assets.common_scale import session_draws
    from irt_pipeline.io_managers import load_netcdf
    from irt_pipeline.files import as_upath as upath
    from irt_pipeline.stats import common_scale as cs

    draws = [session_draws(s, load_netcdf(upath(str(root)) / "posterior" / CHAMBER / f"{s}.nc")) for s in sessions]
    out = []
    for method in cs.METHODS:
        for bootstrap in (True, False):
            table = cs.legislator_sessions(cs.link_sessions(draws, method=method, bootstrap=bootstrap))
            scored = table.rename(columns={"position_mean": "score"}).merge(nominate, on=["session", "legislator_id"])
            out.append(compare(scored, f"{method}{' + bootstrap' if bootstrap else ''}"))
    return out


def simulated_variants(seeds=range(5), drifts=(0.0, 0.08, 0.16)) -> list[dict]:
    """Recovery and 94% HDI coverage of the linking variants on irt_pipeline_tests'
    simulated drifting chamber (8 sessions x 80 seats, calibrated posteriors)."""
    import numpy as np

    sys.path.insert(0, str(REPO / "irt_pipeline_tests"))
    from simulated import drifting_careers, simulated_posteriors, truth_on_reference

    from irt_pipeline.stats import common_scale as cs

    rows = []
    for drift in drifts:
        for method in cs.METHODS:
            for bootstrap in (True, False):
                r, coverage, gap_coverage, rmse, width = [], [], [], [], []
                for seed in seeds:
                    truth = drifting_careers(drift_sd=drift, seed=seed)
                    scale = cs.link_sessions(simulated_posteriors(truth, seed=seed), method=method, bootstrap=bootstrap)
                    table = cs.legislator_sessions(scale)
                    z = truth_on_reference(truth, scale.reference).loc[list(zip(table["session"], table["legislator_id"]))].to_numpy()
                    r.append(np.corrcoef(table["position_mean"], z)[0, 1])
                    rmse.append(np.sqrt(np.mean((table["position_mean"] - z) ** 2)))
                    coverage.append(np.mean((table["position_hdi_low"] <= z) & (z <= table["position_hdi_high"])))
                    true_gap = cs.table_gap(table.assign(z=z), "Republican", "Democrat", "z").to_numpy()
                    gap = cs.party_gap(scale, "Republican", "Democrat")
                    gap_coverage.append(np.mean((gap["gap_hdi_low"] <= true_gap) & (true_gap <= gap["gap_hdi_high"])))
                    width.append(gap["gap_hdi_high"].iloc[-1] - gap["gap_hdi_low"].iloc[-1])
                rows.append(
                    {
                        "drift_sd": drift,
                        "method": f"{method}{' + bootstrap' if bootstrap else ''}",
                        "r": float(np.mean(r)),
                        "rmse": float(np.mean(rmse)),
                        "coverage": float(np.mean(coverage)),
                        "gap_coverage": float(np.mean(gap_coverage)),
                        "last_gap_hdi_width": float(np.mean(width)),
                    }
                )
    return rows


def markdown(report: dict) -> str:
    lines = [f"Linked: {', '.join(report['linked'])} (reference {report['reference']}).", ""]
    if report["left_out"]:
        lines += ["Left out:", ""] + [f"- {s}: {why}" for s, why in report["left_out"].items()] + [""]
    lines += [
        "| scores | legislator-sessions | pooled r with DW-NOMINATE dim 1 | r of party-gap series with DW-NOMINATE's | gap change, first to last (DW-NOMINATE) |",
        "|---|---|---|---|---|",
    ]
    for row in [report["common"], report["unlinked"], *report["variants"]]:
        lines.append(
            f"| {row['scale']} | {row['legislator_sessions']} | {row['pooled_r']:.4f} | "
            f"{row['gap_r']:.3f} | {row['gap_change']:+.3f} ({row['dw_gap_change']:+.3f}) |"
        )
    if "dynamic" in report:
        dynamic = report["dynamic"]
        row = dynamic["vs_dw"]
        lines += [
            f"| {row['scale']} | {row['legislator_sessions']} | {row['pooled_r']:.4f} | {row['gap_r']:.3f} | "
            f"{row['gap_change']:+.3f} ({row['dw_gap_change']:+.3f}) |",
            "", f"Dynamic scale: {dynamic['seconds']:.0f} s, orientation: {dynamic['orientation']}.",
            f"Its agreement with the linking (`dynamic_scale` metadata): {json.dumps(dynamic['agreement'])}", "",
            dynamic["agreement_by_session"],
        ]
    common, unlinked = report["common"], report["unlinked"]
    lines += ["", "| Congress | gap, common scale | gap, unlinked | gap, DW-NOMINATE dim 1 |", "|---|---|---|---|"]
    for session, value in common["gap"].items():
        lines.append(f"| {session} | {value:.3f} | {unlinked['gap'][session]:.3f} | {common['dw_gap'][session]:.3f} |")
    lines += [
        "",
        "Simulated drifting chamber (mean of 5 seeds), by linking variant:",
        "",
        "| drift sd per session | variant | r with truth | RMSE | 94% HDI coverage | party-gap HDI coverage | gap HDI width, 8th session |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["simulated"]:
        lines.append(
            f"| {row['drift_sd']:.2f} | {row['method']} | {row['r']:.4f} | {row['rmse']:.3f} | "
            f"{row['coverage']:.3f} | {row['gap_coverage']:.3f} | {row['last_gap_hdi_width']:.2f} |"
        )
    return "\n".join(lines)


def run_dynamic(defs, instance) -> dict:
    """The dynamic scale of the chamber on the bench's root, through its job: seconds,
    orientation rule, and the agreement with the linking from its metadata."""
    import time

    began = time.perf_counter()
    result = defs.resolve_job_def("dynamic_scale_job").execute_in_process(
        instance=instance, partition_key=CHAMBER, raise_on_error=False
    )
    if not result.success:
        raise SystemExit("dynamic_scale_job failed")
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    return {
        "seconds": time.perf_counter() - began,
        "orientation": metadata["dynamic_posterior"]["orientation"].value,
        "draws_used": metadata["dynamic_posterior"]["draws_used"].value,
        "agreement": metadata["dynamic_scale"]["agreement_with_linking"].value,
        "agreement_by_session": metadata["dynamic_scale"]["agreement_by_session"].value,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--congresses", default="73,88,110-118")
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="storage root (kept between runs)")
    parser.add_argument("--out", default=str(OUT / "common_scale.json"))
    parser.add_argument("--screenshot", help="also save the UI page of the polarization chart (PNG) here")
    parser.add_argument("--dynamic", action="store_true", help="also run the dynamic scale on the same root")
    args = parser.parse_args(argv)

    import dagster as dg
    import pandas as pd

    from irt_pipeline.definitions import make_definitions
    from irt_pipeline.instance import prepare_dagster_home

    congresses = congress_list(args.congresses)
    root = Path(args.root).resolve()
    home = prepare_dagster_home(root.parent / "dagster_home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        defs = make_definitions(root=str(root))
        fits = fit_congresses(congresses, root, instance, defs)
        result = defs.resolve_job_def("common_scale_job").execute_in_process(
            instance=instance, partition_key=CHAMBER, raise_on_error=False
        )
        if not result.success:
            print("common_scale_job failed", file=sys.stderr)
            return 1
        (event,) = [
            e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "common_scale"
        ]
        metadata = event.materialization.metadata
        dynamic = run_dynamic(defs, instance) if args.dynamic else None
    table = pd.read_parquet(root / "common_scale" / f"{CHAMBER}.parquet")
    nominate = dw_nominate(congresses)
    linked = list(dict.fromkeys(table["session"]))
    unlinked = pd.concat(
        [pd.read_parquet(root / "rankings" / CHAMBER / f"{s}.parquet").assign(session=s) for s in linked]
    )
    common = table.rename(columns={"position_mean": "score"}).merge(nominate, on=["session", "legislator_id"])
    per_session = unlinked.rename(columns={"xi_mean": "score"})[["session", "legislator_id", "party", "score"]]
    per_session = per_session.merge(nominate, on=["session", "legislator_id"])
    report = {
        "fits": fits,
        "linked": linked,
        "reference": metadata["reference_session"].value,
        "left_out": metadata["left_out"].value,
        "common": compare(common, "common scale (shipped: mean_sigma + bootstrap)"),
        "unlinked": compare(per_session, "unlinked per-session posterior means"),
        "variants": variants(root, linked, nominate),
        "simulated": simulated_variants(),
    }
    if dynamic is not None:
        scores = pd.read_parquet(root / "dynamic_scale" / f"{CHAMBER}.parquet").rename(columns={"position_mean": "score"})
        report["dynamic"] = {**dynamic, "vs_dw": compare(scores.merge(nominate, on=["session", "legislator_id"]),
                                                         "dynamic scale (one posterior)")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(markdown(report))
    if args.screenshot:
        screenshot(root.parent, Path(args.screenshot))
    return 0


def screenshot(base: Path, target: Path) -> None:
    """`dagster dev` on the bench's instance and root; the common scale's Senate page
    with the polarization chart open, as the UI test takes it (Debian's Chromium)."""
    sys.path.insert(0, str(REPO / "irt_pipeline_tests"))
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
    from test_ui_browser import CHROMIUM, CHROMIUM_ARGS, show_markdown
    from ui_server import running_dagster_ui

    from irt_pipeline.stats.sampling import SamplerSettings

    env = {"IRT_PIPELINE_CHAINS": str(SamplerSettings.chains)}
    # the webserver alone: no daemon, so no sensor acts on the bench's landing files
    with running_dagster_ui(base, env, daemon=False) as ui, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1600, "height": 1300}).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{ui.url}/assets/common_scale?view=partitions&partition={CHAMBER}", wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")
        with contextlib.suppress(PlaywrightTimeout):  # the first-visit dialog, if any
            skip.wait_for(state="visible", timeout=3_000)
            skip.click()
        show_markdown(page, "polarization_chart")
        page.wait_for_timeout(500)
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target))
        browser.close()
    print(f"screenshot: {target}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
