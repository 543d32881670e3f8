"""rank_legislators on a hand-built posterior with known draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

from irt_pipeline.stats.rankings import rank_legislators

RANKINGS_SPEC_COLUMNS = [
    "legislator_id", "name", "party", "xi_mean", "xi_sd", "xi_hdi_low", "xi_hdi_high", "rank", "rank_hdi_low",
    "rank_hdi_high",
]


def known_posterior():
    """2 chains x 50 draws for four legislators with known summaries.

    L1: 0, 1/94, ..., 1 (95 evenly spaced draws) and five draws at 10: a skewed
        sample whose 94% HDI is [0, 1] (an equal-tailed interval would reach 10).
    L2: -2 +/- 0.5 alternating: mean -2, sd 0.5.
    L3: 3 + 0.01 * k: the most conservative.
    L4: 0.2 everywhere, sd 0.
    """
    l1 = np.concatenate([np.linspace(0.0, 1.0, 95), np.full(5, 10.0)])
    l2 = -2.0 + 0.5 * np.where(np.arange(100) % 2 == 0, 1.0, -1.0)
    l3 = 3.0 + 0.01 * np.arange(100)
    l4 = np.full(100, 0.2)
    draws = np.stack([l1, l2, l3, l4], axis=-1)  # (100, 4)
    xi = draws.reshape(2, 50, 4)  # chain 0 gets the first 50 of each
    ids = ["101", "102", "103", "104"]
    idata = az.from_dict(posterior={"xi": xi}, coords={"legislator": ids}, dims={"xi": ["legislator"]})
    return idata, dict(zip(ids, draws.T))


LEGISLATORS = pd.DataFrame(
    {
        # a different order than the posterior, and an extra legislator not in it
        "legislator_id": ["104", "999", "102", "103", "101"],
        "legislator_name": ["Dee", "Nobody", "Bea", "Cal", "Abe"],
        "party": ["Independent", "Democrat", "Democrat", "Republican", "Republican"],
    }
)


def test_columns_are_exactly_the_specified_ones():
    idata, _ = known_posterior()
    table = rank_legislators(idata, LEGISLATORS)
    assert table.columns.tolist() == RANKINGS_SPEC_COLUMNS
    assert len(table) == 4  # one row per legislator in the posterior


def test_rank_one_is_the_most_conservative_and_names_follow_ids():
    idata, _ = known_posterior()
    table = rank_legislators(idata, LEGISLATORS)
    assert table["legislator_id"].tolist() == ["103", "101", "104", "102"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["name"].tolist() == ["Cal", "Abe", "Dee", "Bea"]
    assert table["party"].tolist() == ["Republican", "Republican", "Independent", "Democrat"]
    assert table["xi_mean"].is_monotonic_decreasing


def test_means_sds_and_94_percent_hdi_match_the_known_draws():
    idata, draws = known_posterior()
    table = rank_legislators(idata, LEGISLATORS).set_index("legislator_id")
    for legislator_id, sample in draws.items():
        assert np.isclose(table.loc[legislator_id, "xi_mean"], sample.mean(), rtol=0, atol=1e-12)
        assert np.isclose(table.loc[legislator_id, "xi_sd"], sample.std(), rtol=0, atol=1e-12)
    assert np.isclose(table.loc["101", "xi_mean"], (95 * 0.5 + 50) / 100)
    assert np.isclose(table.loc["102", "xi_mean"], -2.0) and np.isclose(table.loc["102", "xi_sd"], 0.5)
    assert np.isclose(table.loc["104", "xi_sd"], 0.0, rtol=0, atol=1e-12)
    # the HDI is the narrowest interval holding 94% of the draws, pooled over chains
    assert table.loc["101", ["xi_hdi_low", "xi_hdi_high"]].tolist() == [0.0, 1.0]
    assert np.allclose(table.loc["102", ["xi_hdi_low", "xi_hdi_high"]].tolist(), [-2.5, -1.5])
    assert np.allclose(table.loc["103", ["xi_hdi_low", "xi_hdi_high"]].tolist(), [3.0, 3.94])
    assert np.allclose(table.loc["104", ["xi_hdi_low", "xi_hdi_high"]].tolist(), [0.2, 0.2])


def test_integer_legislator_ids_are_matched_as_strings():
    idata, _ = known_posterior()
    legislators = LEGISLATORS.drop(index=1).assign(legislator_id=lambda f: f["legislator_id"].astype(int))
    table = rank_legislators(idata, legislators)
    assert table["legislator_id"].tolist() == ["103", "101", "104", "102"]
    assert table["name"].tolist() == ["Cal", "Abe", "Dee", "Bea"]


def test_rank_intervals_are_the_94_percent_hdi_of_each_legislators_rank_over_the_draws():
    """Checked against ranks computed here from the draws themselves: rank every draw,
    then the narrowest run of a legislator's sorted ranks that holds 94 of 100 draws."""
    idata, draws = known_posterior()
    table = rank_legislators(idata, LEGISLATORS).set_index("legislator_id")
    ids = list(draws)
    matrix = np.column_stack([draws[i] for i in ids])  # (100 draws, 4)
    ranks = 1 + np.array([[sorted(row, reverse=True).index(v) for v in row] for row in matrix])
    for k, legislator_id in enumerate(ids):
        r = np.sort(ranks[:, k])
        keep = int(np.ceil(0.94 * len(r)))
        widths = r[keep - 1:] - r[: len(r) - keep + 1]
        start = int(np.argmin(widths))
        assert table.loc[legislator_id, ["rank_hdi_low", "rank_hdi_high"]].tolist() == [r[start], r[start + keep - 1]]
    # L3 is first but in the five draws where L1 is at 10 (95 of 100 hold rank 1); L2 is
    # last in every draw; L1 (0 .. 1, and 10) is 1st, 2nd or 3rd beside L4's 0.2.
    assert table.loc["103", ["rank_hdi_low", "rank_hdi_high"]].tolist() == [1, 1]
    assert table.loc["102", ["rank_hdi_low", "rank_hdi_high"]].tolist() == [4, 4]
    assert table.loc["101", ["rank_hdi_low", "rank_hdi_high"]].tolist() == [2, 3]
    assert (table["rank_hdi_low"] <= table["rank"]).all() and (table["rank"] <= table["rank_hdi_high"]).all()
