"""pca_scores: imputation, standardization, orientation and recovery of a 1-D scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.pca import default_weights, orient, pca_scores, second_dimension_lean


def make_matrix(votes, parties) -> VoteMatrix:
    n, m = np.shape(votes)
    legislators = pd.DataFrame(
        {
            "legislator_id": [f"L{i:03d}" for i in range(n)],
            "legislator_name": [f"Member {i}" for i in range(n)],
            "party": list(parties),
        }
    )
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"RC{j}" for j in range(m)]}), np.asarray(votes, float))


def raw_first_component(filled: np.ndarray) -> np.ndarray:
    """First left singular vector times its singular value, columns standardized,
    with whatever sign the SVD returns."""
    centered = filled - filled.mean(axis=0)
    sd = centered.std(axis=0)
    u, s, _ = np.linalg.svd(centered / np.where(sd > 0, sd, 1.0), full_matrices=False)
    return u[:, 0] * s[0]


def standardize(x):
    return (x - x.mean()) / x.std()


def simulate(n=80, m=150, n_rep=48, seed=11, missing=0.1):
    rng = np.random.default_rng(seed)
    party = np.array(["Republican"] * n_rep + ["Democrat"] * (n - n_rep))
    xi = np.where(party == "Republican", rng.normal(1.0, 0.5, n), rng.normal(-1.0, 0.4, n))
    alpha = rng.normal(0.0, 1.0, m)
    beta = rng.normal(0.0, 1.5, m)
    p = 1 / (1 + np.exp(-(np.outer(xi, beta) - alpha)))
    votes = (rng.uniform(size=(n, m)) < p).astype(float)
    votes[rng.uniform(size=(n, m)) < missing] = np.nan
    return votes, party, xi


def test_missing_cells_are_imputed_with_the_legislators_mean():
    votes = np.array(
        [
            [1.0, 1.0, np.nan, 0.0],
            [1.0, np.nan, 1.0, 1.0],
            [0.0, 0.0, 1.0, np.nan],
            [0.0, 1.0, 0.0, 1.0],
            [np.nan, 0.0, 0.0, 1.0],
        ]
    )
    parties = ["Democrat", "Democrat", "Republican", "Republican", "Republican"]
    row_mean = np.nanmean(votes, axis=1, keepdims=True)
    by_legislator = np.where(np.isfinite(votes), votes, row_mean)
    by_roll_call = np.where(np.isfinite(votes), votes, np.nanmean(votes, axis=0))
    expected = orient(standardize(raw_first_component(by_legislator)), default_weights(parties))
    other = orient(standardize(raw_first_component(by_roll_call)), default_weights(parties))
    assert not np.allclose(expected, other, atol=1e-3)  # the two imputations differ here

    matrix = make_matrix(votes, parties)
    scores = pca_scores(matrix)
    np.testing.assert_allclose(scores["pc1"].to_numpy(), expected, atol=1e-10)
    # the matrix itself is left as it was: imputation is for PCA only
    np.testing.assert_array_equal(matrix.votes, votes)
    assert np.isnan(matrix.votes).sum() == 4


def test_scores_are_standardized_and_keep_legislator_order_and_columns():
    votes, party, _ = simulate(n=30, m=60, n_rep=16, seed=3)
    matrix = make_matrix(votes, party)
    scores = pca_scores(matrix)
    assert scores.columns.tolist() == ["legislator_id", "legislator_name", "party", "pc1", "pc2"]
    assert scores["legislator_id"].tolist() == matrix.legislators["legislator_id"].tolist()
    assert scores["party"].tolist() == list(party)
    assert abs(scores["pc1"].mean()) < 1e-12
    assert abs(scores["pc1"].std(ddof=0) - 1.0) < 1e-12
    assert 0.0 < scores.attrs["explained_variance"] < 1.0
    # pc2: standardized, uncorrelated with pc1, oriented by the second-dimension rule
    assert abs(scores["pc2"].mean()) < 1e-12 and abs(scores["pc2"].std(ddof=0) - 1.0) < 1e-12
    assert abs(np.mean(scores["pc1"] * scores["pc2"])) < 1e-10
    assert second_dimension_lean(scores["pc1"], scores["pc2"], default_weights(party)) >= 0
    assert 0.0 < scores.attrs["explained_variance_pc2"] <= scores.attrs["explained_variance"]


def test_republicans_are_placed_above_democrats_when_the_raw_sign_is_reversed():
    votes, party, xi = simulate(n=40, m=80, n_rep=22, seed=5)
    filled = np.where(np.isfinite(votes), votes, np.nanmean(votes, axis=1, keepdims=True))
    raw = standardize(raw_first_component(filled))
    # Label the parties so that the raw component puts Republicans below Democrats:
    # the side the raw component places low gets the Republican label.
    low_side = raw < np.median(raw)
    reversed_party = np.where(low_side, "Republican", "Democrat")
    assert raw[reversed_party == "Republican"].mean() < raw[reversed_party == "Democrat"].mean()
    scores = pca_scores(make_matrix(votes, reversed_party))["pc1"].to_numpy()
    np.testing.assert_allclose(scores, -raw, atol=1e-10)
    assert scores[reversed_party == "Republican"].mean() > scores[reversed_party == "Democrat"].mean()

    # the same votes labelled the other way round are not flipped
    same_party = np.where(low_side, "Democrat", "Republican")
    scores = pca_scores(make_matrix(votes, same_party))["pc1"].to_numpy()
    np.testing.assert_allclose(scores, raw, atol=1e-10)


def test_orient_flips_only_when_republicans_are_below():
    parties = np.array(["Democrat", "Republican", "Independent", "Republican"])
    np.testing.assert_array_equal(orient(np.array([1.0, -1.0, 5.0, -2.0]), default_weights(parties)), [-1.0, 1.0, -5.0, 2.0])
    np.testing.assert_array_equal(orient(np.array([-1.0, 1.0, 5.0, 2.0]), default_weights(parties)), [-1.0, 1.0, 5.0, 2.0])


def test_recovers_a_simulated_one_dimensional_ordering():
    votes, party, xi = simulate(n=80, m=150, n_rep=48, seed=11, missing=0.1)
    scores = pca_scores(make_matrix(votes, party))["pc1"].to_numpy()
    r = np.corrcoef(scores, xi)[0, 1]
    assert r > 0.95  # positive: oriented with the truth, not only correlated
    # within each party, too: not just the party split
    for name in ("Republican", "Democrat"):
        inside = party == name
        assert np.corrcoef(scores[inside], xi[inside])[0, 1] > 0.8
