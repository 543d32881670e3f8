"""External validation: correlations, the multi-method discrepancy list, where external
scores come from, and the external_validation asset's WARN checks through Dagster."""

from __future__ import annotations

import io
import json

import arviz as az
import dagster as dg
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from irt_pipeline.assets import ALL_ASSETS, CATALOG

flat_posterior, flat_diagnostics, flat_rankings = (CATALOG.asset("flat", stage) for stage in ("posterior", "diagnostics", "rankings"))
model_comparison, external_validation = CATALOG.comparison, CATALOG.external_validation
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import Sampler
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.loo import MAX_DRAWS
from irt_pipeline.stats.models import MODELS
from irt_pipeline.stats.rankings import RANKING_COLUMNS
from irt_pipeline.stats.validation import (
    correlation,
    external_scores,
    method_correlations,
    rank_discrepancies,
    read_external_csv,
    recovery,
)


def test_correlation_is_pearson_and_spearman_over_pairs_both_score():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])
    b = np.array([1.0, 2.0, 3.0, 4.0, 50.0, 7.0])
    r = correlation(a, b)
    assert r["legislators"] == 5
    assert r["spearman_r"] == pytest.approx(1.0)  # same order
    assert r["pearson_r"] == pytest.approx(np.corrcoef(a[:5], b[:5])[0, 1])
    assert r["pearson_r"] < 0.8  # the outlier pulls Pearson down
    reversed_ = correlation(a[:5], -b[:5])
    assert reversed_["spearman_r"] == pytest.approx(-1.0)


def test_method_correlations_cover_every_pair_once():
    scores = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 4, 6, 8], "z": [4.0, 3, 2, 1]})
    pairs = {(p["a"], p["b"]): p for p in method_correlations(scores)}
    assert set(pairs) == {("x", "y"), ("x", "z"), ("y", "z")}
    assert pairs[("x", "y")]["pearson_r"] == pytest.approx(1.0)
    assert pairs[("y", "z")]["spearman_r"] == pytest.approx(-1.0)


def test_discrepancies_list_rank_gaps_above_ten_percent_of_the_chamber():
    n = 30  # 29 ranked by every method: more than 2.9 ranks apart is listed
    base = np.linspace(3.0, -3.0, n)  # rank k+1 at position k
    ids = [f"L{k:02d}" for k in range(n)]
    other = base.copy()
    other[5] = base[9]  # L05: rank 6 -> tied with L09
    other[20] = base[22] - 0.01  # L20: rank 21 -> 23: gap 2, not listed
    third = base.copy()
    third[0] = base[10] - 0.01  # L00: rank 1 -> 11 in this method only: gap 10
    scores = pd.DataFrame({"hierarchical": base, "flat": other, "external": third}, index=ids)
    scores.loc["L29", "external"] = np.nan  # not scored by every method: left out of the ranks

    table = rank_discrepancies(scores)
    assert table["legislator_id"].tolist() == ["L00", "L05"]
    row = table.set_index("legislator_id").loc["L00"]
    assert row["rank_hierarchical"] == 1 and row["rank_external"] == 11
    assert row["max_rank_difference"] == 10 and row["between"] == "hierarchical vs external"
    # L05 ties L09 in flat (average rank 9.5) and moves up one in external (L00 left).
    row = table.set_index("legislator_id").loc["L05"]
    assert (row["rank_hierarchical"], row["rank_flat"], row["rank_external"]) == (6, 9.5, 5)
    assert row["max_rank_difference"] == 4.5 and row["between"] == "flat vs external"
    assert list(table.columns) == [
        "legislator_id", "rank_hierarchical", "rank_flat", "rank_external", "max_rank_difference", "between",
    ]


def test_external_scores_come_from_the_rows_or_a_csv():
    rows = pd.DataFrame(
        {"legislator_id": [101, 101, 102, 103], "external_score": [0.4, 0.4, -0.3, np.nan]}
    )
    scores = external_scores(rows)
    assert scores.to_dict() == {"101": 0.4, "102": -0.3}
    assert external_scores(rows.drop(columns="external_score")).empty

    csv = read_external_csv(io.StringIO("legislator_id,score\n0101,0.5\nB,-1.25\n"), "ext.csv")
    assert csv.to_dict() == {"0101": 0.5, "B": -1.25}  # ids kept as written


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id,score\nA,1\n", "lacks column(s) ['legislator_id']"),
        ("legislator_id,score\nA,high\n", "not numbers"),
        ("legislator_id,score\nA,1\nA,2\n", "more than once"),
        ("", "not a readable CSV"),
    ],
)
def test_a_bad_external_csv_names_the_file_and_the_problem(text, problem):
    with pytest.raises(BadInput) as error:
        read_external_csv(io.StringIO(text), "root/external/117_Senate.csv")
    assert error.value.where == "root/external/117_Senate.csv" and problem in error.value.problem


# ---------------------------------------------------------------- through Dagster

SESSION, CHAMBER = "ev-2023", "Senate"
KEY = partition_key(SESSION, CHAMBER)
FLAT_GATES = {g.name for g in gates_for(MODELS["flat"].gated)}
# Enough draws for the gates on 40 x 150 votes (as in test_pipeline.py).
GOOD = Sampler(chains=4, tune=300, draws=400, seed=7)
TOO_FEW_DRAWS = Sampler(chains=2, tune=15, draws=15, max_draws=15, seed=7)


def stored(root, asset: str, ext: str):
    """A stored output: JSON as a dict, parquet as a frame, anything else as its path."""
    path = root / asset / CHAMBER / f"{SESSION}.{ext}"
    if ext == "json":
        return json.loads(path.read_text())
    return pd.read_parquet(path) if ext == "parquet" else path


def evaluations(result) -> dict:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def step_errors(result) -> str:
    return " ".join(
        e.event_specific_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    )


@pytest.fixture(scope="module")
def both_models(tmp_path_factory):
    """One run of the both_models job on a simulated Senate whose rows carry a known
    external score: the true ideal point plus N(0, 0.15) noise."""
    root = tmp_path_factory.mktemp("root")
    (root / "landing").mkdir()
    rows, truth = simulate_chamber(DemoChamber(SESSION, CHAMBER, 40, 150, seed=11))
    noise = np.random.default_rng(0).normal(0.0, 0.15, len(truth))
    score = pd.Series(truth["xi_true"].to_numpy() + noise, index=truth["legislator_id"].astype(str))
    rows["external_score"] = rows["legislator_id"].map(score)
    rows.to_parquet(root / "landing" / f"{SESSION}_{CHAMBER}.parquet", index=False)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("session", [SESSION])
        defs = make_definitions(root=str(root), sampler=GOOD)
        result = defs.resolve_job_def("both_models").execute_in_process(
            instance=instance, partition_key=KEY, raise_on_error=False
        )
        yield instance, root, result, score, truth


def materialize(instance, root, assets, sampler=GOOD):
    defs = make_definitions(root=str(root), sampler=sampler)
    return dg.materialize(
        ALL_ASSETS, selection=assets, instance=instance, partition_key=KEY, resources=defs.resources, raise_on_error=False
    )


def test_both_models_pass_their_gates_and_flat_rankings_have_the_rankings_columns(both_models):
    _, root, result, _, truth = both_models
    assert result.success, step_errors(result)
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        a.key.to_user_string() for a in CATALOG.job_assets("both")
    }
    checks = evaluations(result)
    assert {name: checks[("flat_diagnostics", name)].passed for name in FLAT_GATES} == dict.fromkeys(FLAT_GATES, True)
    assert all(e.partition == KEY for e in checks.values())

    flat, hier = stored(root, "flat_rankings", "parquet"), stored(root, "rankings", "parquet")
    assert list(flat.columns) == RANKING_COLUMNS and len(flat) == 40
    assert list(flat["rank"]) == list(range(1, 41)) and flat["xi_mean"].is_monotonic_decreasing
    # Standardized like the hierarchical rankings: the same scale and orientation.
    assert flat["xi_mean"].mean() == pytest.approx(0.0, abs=0.02)
    by_party = flat.groupby("party")["xi_mean"].mean()
    assert by_party["Republican"] > 0 > by_party["Democrat"]
    both = flat.merge(hier, on="legislator_id", suffixes=("_flat", "_hier"))
    assert stats.spearmanr(both["xi_mean_flat"], both["xi_mean_hier"])[0] > 0.95
    assert recovery(flat, truth)["pearson_r"] >= 0.95

    # The posterior itself is standardized in every draw, and the PCA extremes it
    # records rank at the ends.
    idata = az.from_netcdf(str(stored(root, "flat_posterior", "nc")))
    xi = idata.posterior["xi"]
    np.testing.assert_allclose(xi.mean("legislator"), 0.0, atol=1e-9)
    np.testing.assert_allclose(xi.std("legislator"), 1.0, rtol=1e-9)
    ranks = flat.set_index("legislator_id")["rank"]
    assert ranks[idata.attrs["extreme_conservative"]] <= 3 and ranks[idata.attrs["extreme_liberal"]] >= 38


def test_external_validation_numbers_on_a_known_external_score(both_models):
    _, root, result, score, _ = both_models
    report = stored(root, "external_validation", "json")
    assert report["external_source"] == "roll_calls.external_score" and report["external_scored"] == 40
    pairs = {(p["a"], p["b"]): p for p in report["correlations"]}
    assert set(pairs) == {
        ("hierarchical", "flat"), ("hierarchical", "pca"), ("hierarchical", "external"),
        ("flat", "pca"), ("flat", "external"), ("pca", "external"),
    }
    checks = evaluations(result)
    for model, table in (("hierarchical", "rankings"), ("flat", "flat_rankings")):
        ranked = stored(root, table, "parquet")
        known = score.reindex(ranked["legislator_id"]).to_numpy()
        pearson = stats.pearsonr(ranked["xi_mean"], known)[0]
        spearman = stats.spearmanr(ranked["xi_mean"], known)[0]
        assert pairs[(model, "external")]["pearson_r"] == pytest.approx(pearson, abs=1e-12)
        assert pairs[(model, "external")]["spearman_r"] == pytest.approx(spearman, abs=1e-12)
        check = checks[("external_validation", f"external_r_{model}")]
        assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.metadata["pearson_r"].value == pytest.approx(pearson, abs=1e-12)
        assert pearson > 0.9
    hier, flat = stored(root, "rankings", "parquet"), stored(root, "flat_rankings", "parquet")
    between = stats.pearsonr(hier["xi_mean"], flat.set_index("legislator_id").loc[hier["legislator_id"], "xi_mean"])[0]
    assert pairs[("hierarchical", "flat")]["pearson_r"] == pytest.approx(between, abs=1e-12)
    # The discrepancy list holds exactly the legislators more than 4 ranks (10% of 40) apart.
    assert all(d["max_rank_difference"] > 4 for d in report["discrepancies"])


def test_model_comparison_and_posterior_predictive_checks_are_stored(both_models):
    _, root, result, _, _ = both_models
    comparison = stored(root, "model_comparison", "json")
    assert {row["model"] for row in comparison["comparison"]} == {"hierarchical", "flat"}
    best = next(row for row in comparison["comparison"] if row["rank"] == 0)
    assert best["model"] == comparison["preferred"] and best["elpd_diff"] == 0.0
    assert comparison["elpd_diff"] >= 0 and comparison["dse"] > 0
    votes = comparison["votes"]
    assert all(comparison["pareto_k"][m]["votes"] == votes for m in ("hierarchical", "flat"))
    # LOO thins each posterior evenly within chains to at most MAX_DRAWS draws in all.
    for model, asset in (("hierarchical", "posterior"), ("flat", "flat_posterior")):
        posterior = az.from_netcdf(str(stored(root, asset, "nc"))).posterior
        per_chain = min(posterior.sizes["draw"], MAX_DRAWS // posterior.sizes["chain"])
        assert comparison["draws_used"][model] == posterior.sizes["chain"] * per_chain
    for asset in ("posterior_predictive", "flat_posterior_predictive"):
        ppc = stored(root, asset, "json")
        assert ppc["votes"] == votes and len(ppc["legislators"]) == 40
        assert ppc["share_correct"] > ppc["share_correct_majority"]
        assert 0.01 < ppc["yea_rate_p_value"] < 0.99


def test_cli_runs_and_prints_the_model_asked_for(both_models, monkeypatch, capsys):
    from irt_pipeline import cli

    instance, root, _, _, _ = both_models
    defs = make_definitions(root=str(root), sampler=GOOD)
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    summary = cli.run_partition(instance, SESSION, CHAMBER, model="flat")
    assert summary["success"], summary["failures"]
    assert set(summary["steps"]) == {a.key.to_user_string() for a in CATALOG.job_assets("flat")}
    assert summary["steps"]["flat_posterior"] == "reused"  # the same fit is in the cache
    assert {c["asset"] for c in summary["checks"]} >= {"flat_diagnostics"}

    capsys.readouterr()
    assert cli.main(["rankings", "--session", SESSION, "--chamber", CHAMBER, "--model", "flat"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"legislator_id": str})
    expected = stored(root, "flat_rankings", "parquet")
    assert printed["legislator_id"].tolist() == expected["legislator_id"].tolist()
    np.testing.assert_allclose(printed["xi_mean"], expected["xi_mean"], rtol=1e-12)
    assert cli.main(["rankings", "--session", SESSION, "--chamber", CHAMBER]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"legislator_id": str})
    assert printed["legislator_id"].tolist() == stored(root, "rankings", "parquet")["legislator_id"].tolist()


def test_a_failing_external_check_warns_and_blocks_nothing(both_models):
    """Rows without an external score and a user CSV that reverses the scale: both
    checks fail at WARN, the asset is still written and the run succeeds."""
    instance, root, _, score, _ = both_models
    landing = root / "landing" / f"{SESSION}_{CHAMBER}.parquet"
    pd.read_parquet(landing).drop(columns="external_score").to_parquet(landing, index=False)
    csv = root / "external" / f"{SESSION}_{CHAMBER}.csv"
    csv.parent.mkdir()
    pd.DataFrame({"legislator_id": score.index, "score": -score.to_numpy()}).to_csv(csv, index=False)

    spec = next(iter(external_validation.check_specs_by_output_name.values()))
    assert spec.blocking is False
    result = materialize(instance, root, ["roll_calls", "external_validation"])
    assert result.success, step_errors(result)
    checks = evaluations(result)
    for model in ("hierarchical", "flat"):
        check = checks[("external_validation", f"external_r_{model}")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.metadata["pearson_r"].value < -0.9
    report = stored(root, "external_validation", "json")
    assert report["external_source"] == str(csv)


def test_failing_flat_gates_block_flat_rankings_and_the_comparison_now_and_later(both_models):
    instance, root, _, _, _ = both_models
    ranking_file = root / "flat_rankings" / CHAMBER / f"{SESSION}.parquet"
    good_bytes = ranking_file.read_bytes()

    bad = materialize(instance, root, [flat_posterior, flat_diagnostics, flat_rankings], sampler=TOO_FEW_DRAWS)
    assert not bad.success
    checks = evaluations(bad)
    assert checks[("flat_diagnostics", "ess_bulk_xi")].passed is False
    assert "flat_rankings" not in {e.asset_key.to_user_string() for e in bad.get_asset_materialization_events()}
    assert ranking_file.read_bytes() == good_bytes

    later = materialize(instance, root, [flat_rankings])
    assert not later.success
    assert "refusing to rank" in step_errors(later) and "ess_bulk_xi" in step_errors(later)
    assert ranking_file.read_bytes() == good_bytes
    compare = materialize(instance, root, [model_comparison])
    assert not compare.success and "refusing to compare models" in step_errors(compare)
