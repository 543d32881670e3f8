"""External validation: correlations, the multi-method discrepancy list, where external
scores come from, and the external_validation asset's WARN checks through Dagster."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from irt_pipeline.errors import BadInput
from irt_pipeline.stats.validation import (
    correlation,
    external_scores,
    method_correlations,
    rank_discrepancies,
    read_external_csv,
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
