"""Both models recover simulated truths, PSIS-LOO prefers the model that generated the
data, the chunked LOO is ArviZ's, and the posterior predictive checks report known fits."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irt_pipeline.stats.loo import (
    aligned_draws,
    compare_models,
    elpd_from_table,
    loo_table,
    pareto_k_summary,
    psis_loo,
    relative_efficiency,
    thinned_draws,
    vote_log_likelihood,
)
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.pca import pca_scores
from irt_pipeline.stats.ppc import posterior_predictive_checks
from irt_pipeline.stats.models import MODELS
from irt_pipeline.stats.sampling import SamplerSettings, sample
from simulated import flat_chamber, hierarchical_chamber

SETTINGS = SamplerSettings(chains=2, tune=300, draws=200, max_draws=200, seed=3)


def fit_both(matrix: VoteMatrix):
    """The two one-dimensional models (the party prior against the flat one)."""
    pca = pca_scores(matrix)["pc1"].to_numpy()
    return {name: sample(MODELS[name], matrix, pca, SETTINGS) for name in ("hierarchical", "flat")}


def posterior_mean_r(idata, truth) -> float:
    return float(np.corrcoef(idata.posterior["xi"].mean(("chain", "draw")).values, truth)[0, 1])


# Tight, well separated parties and few roll calls (40): the party prior pools each
# legislator's few votes with the party's.
@pytest.fixture(scope="module")
def party_data():
    matrix, truth = hierarchical_chamber(60, 40, seed=0)
    return matrix, truth, fit_both(matrix)


# The flat model's own story (see simulated.py): positions with no party structure,
# party labels that only loosely follow them.
@pytest.fixture(scope="module")
def flat_data():
    matrix, truth = flat_chamber(30, 300, seed=2)
    return matrix, truth, fit_both(matrix)


def test_loo_prefers_the_party_prior_where_parties_carry_the_positions(party_data):
    matrix, _, fits = party_data
    loos = {name: psis_loo(idata, matrix) for name, idata in fits.items()}
    table = compare_models(loos)
    assert table.index[0] == "hierarchical"
    other = table.iloc[1]
    assert other["elpd_diff"] > 2 * other["dse"] > 0
    assert loos["hierarchical"]["n_data_points"] == matrix.n_observed
    assert loos["hierarchical"]["n_samples"] == SETTINGS.chains * SETTINGS.draws


def test_a_stored_loo_table_compares_as_the_loo_it_was_made_from(party_data, tmp_path):
    """LOO is computed once per posterior and stored (parquet, the totals in its
    metadata); read back, in another vote order, it compares exactly as the ELPDData it
    came from, and a table over other votes is refused."""
    matrix, _, fits = party_data
    loos = {name: psis_loo(idata, matrix) for name, idata in fits.items()}
    stored = {}
    for name, elpd in loos.items():
        loo_table(elpd, matrix).to_parquet(tmp_path / f"{name}.parquet", index=False)
        stored[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    assert stored["flat"].attrs["elpd_loo"] == pytest.approx(float(loos["flat"]["elpd_loo"]), rel=1e-15)
    shuffled = stored["flat"].sample(frac=1.0, random_state=0).__finalize__(stored["flat"])
    direct = compare_models(loos)
    read = compare_models({
        "hierarchical": elpd_from_table(stored["hierarchical"]),
        "flat": elpd_from_table(shuffled, votes=stored["hierarchical"]),
    })
    pd.testing.assert_frame_equal(read[["elpd_loo", "p_loo", "elpd_diff", "se", "dse"]],
                                  direct[["elpd_loo", "p_loo", "elpd_diff", "se", "dse"]], rtol=1e-12)
    with pytest.raises(ValueError, match="not over the same votes"):
        elpd_from_table(stored["flat"].iloc[:-1].__finalize__(stored["flat"]), votes=stored["hierarchical"])


def test_the_party_prior_costs_little_where_parties_carry_nothing(flat_data):
    """Both models share the roll-call priors and the scale; on data without party
    structure the party level learns wide, overlapping parties and predicts about as
    well as the flat prior."""
    matrix, _, fits = flat_data
    table = compare_models({name: psis_loo(idata, matrix) for name, idata in fits.items()})
    other = table.iloc[1]
    # Which model is ahead here is a coin toss: with these settings and seeds 3-10 the
    # flat prior led by 2.3 to 6.6 (4 seeds) and the party prior by 0.6 to 2.4 (4), dse
    # 2.6-3.0; with 2,000 draws instead of 400 the spread was the same (-3.5 to +4.1,
    # dse 1.4-1.5): it is the pointwise LOO's, not the draws'. 2 dse + 1 (6.4 here) was
    # exceeded once in those runs and once in a full test run (7.84). The bound, either
    # way, is 4 dse (about 11); a prior that does not fit costs more: the flat prior on
    # the party chamber above falls 30-33 behind (5.2-5.4 dse, seeds 3-5).
    assert other["elpd_diff"] < 4 * other["dse"], table


def test_hierarchical_model_recovers_its_simulated_truth():
    matrix, truth = hierarchical_chamber(60, 300, seed=101, sd=0.5)
    pca = pca_scores(matrix)["pc1"].to_numpy()
    assert posterior_mean_r(sample(MODELS["hierarchical"], matrix, pca, SETTINGS), truth) >= 0.98


def test_flat_model_recovers_its_simulated_truth():
    matrix, truth = flat_chamber(40, 600, seed=102)
    pca = pca_scores(matrix)["pc1"].to_numpy()
    idata = sample(MODELS["flat"], matrix, pca, SETTINGS)
    assert posterior_mean_r(idata, truth) >= 0.98
    inside = [
        low <= t <= high
        for t, low, high in zip(truth, *az.hdi(idata, var_names=["xi"], hdi_prob=0.94)["xi"].values.T)
    ]
    assert 0.8 <= np.mean(inside) <= 1.0


@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
def test_chunked_loo_equals_arviz_on_the_whole_log_likelihood(party_data):
    matrix, _, fits = party_data
    idata = fits["flat"]
    chunked = psis_loo(idata, matrix, max_draws=None, chunk_votes=97)

    xi, alpha, beta = aligned_draws(idata, matrix, max_draws=None)
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    ll = vote_log_likelihood(xi, alpha, beta, rows, cols, matrix.votes[rows, cols])
    whole = idata.copy()
    whole.add_groups(log_likelihood=xr.Dataset({"y": (("chain", "draw", "vote"), ll)}))
    reference = az.loo(whole, pointwise=True)

    np.testing.assert_allclose(chunked["loo_i"].values, reference["loo_i"].values, rtol=1e-12)
    np.testing.assert_allclose(chunked["pareto_k"].values, reference["pareto_k"].values, rtol=1e-12)
    for key in ("elpd_loo", "se", "p_loo"):
        assert chunked[key] == pytest.approx(reference[key], rel=1e-10)
    assert chunked["warning"] == reference["warning"]


def test_vote_log_likelihood_is_the_bernoulli_logit_log_probability():
    xi = np.array([[[0.5, -2.0]]])  # 1 chain, 1 draw, 2 legislators
    alpha, beta = np.array([[[0.3]]]), np.array([[[1.5]]])
    ll = vote_log_likelihood(xi, alpha, beta, np.array([0, 1]), np.array([0, 0]), np.array([1.0, 0.0]))
    p = 1 / (1 + np.exp(-(1.5 * np.array([0.5, -2.0]) - 0.3)))
    np.testing.assert_allclose(ll[0, 0], [np.log(p[0]), np.log(1 - p[1])], rtol=1e-13)


def test_thinning_keeps_evenly_spaced_draws_within_each_chain():
    kept = thinned_draws(1000, 4, 2000)
    assert len(kept) == 500 and kept[0] == 0 and kept[-1] == 999
    assert np.ptp(np.diff(kept)) <= 1
    assert thinned_draws(100, 4, 2000).tolist() == list(range(100))


def test_pareto_k_summary_counts_the_bands_and_names_the_worst_votes():
    matrix = VoteMatrix(
        pd.DataFrame({"legislator_id": ["A", "B"], "legislator_name": "x", "party": ["Democrat", "Republican"]}),
        pd.DataFrame({"roll_call_id": ["R1", "R2", "R3"]}),
        np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 1.0]]),
    )
    # observed votes in row-major order: A-R1, A-R3, B-R1, B-R2, B-R3
    elpd = {"loo_i": np.zeros(5), "pareto_k": np.array([0.1, 1.3, 0.75, 0.2, 0.69]), "good_k": 0.7,
            **dict.fromkeys(["elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning", "scale"], 0)}
    summary = pareto_k_summary(loo_table(elpd, matrix), top=2)
    assert (summary["k_above_good"], summary["k_above_1"], summary["votes"]) == (2, 1, 5)
    assert summary["k_max"] == 1.3
    assert [(w["legislator_id"], w["roll_call_id"]) for w in summary["worst"]] == [("A", "R3"), ("B", "R1")]


def hand_built():
    """Three legislators, two roll calls, P(Yea) known exactly: xi = (1, -1, 0),
    beta = (2, -2), alpha = 0 in every draw."""
    matrix = VoteMatrix(
        pd.DataFrame({"legislator_id": ["A", "B", "C"], "legislator_name": "x", "party": ["Republican", "Democrat", "Democrat"]}),
        pd.DataFrame({"roll_call_id": ["R1", "R2"]}),
        # P(Yea): A (0.88, 0.12), B (0.12, 0.88), C (0.5, 0.5) -> predicted Yea, Nay / Nay, Yea / Yea, Yea
        np.array([[1.0, 1.0], [0.0, 1.0], [0.0, np.nan]]),
    )
    shape = (2, 3)
    idata = az.from_dict(
        posterior={
            "xi": np.broadcast_to([1.0, -1.0, 0.0], (*shape, 3)),
            "alpha": np.zeros((*shape, 2)),
            "beta": np.broadcast_to([2.0, -2.0], (*shape, 2)),
        },
        coords={"legislator": ["A", "B", "C"], "roll_call": ["R1", "R2"]},
        dims={"xi": ["legislator"], "alpha": ["roll_call"], "beta": ["roll_call"]},
    )
    return matrix, idata


def test_ppc_classification_on_a_hand_built_posterior():
    matrix, idata = hand_built()
    summary, legislators, roll_calls = posterior_predictive_checks(idata, matrix)
    # Correct: A-R1, B-R1, B-R2; wrong: A-R2 (predicted Nay), C-R1 (P = 0.5 -> Yea).
    assert summary["votes"] == 5 and summary["share_correct"] == pytest.approx(3 / 5)
    # Majority side per roll call: R1 1 Yea of 3 (1 error), R2 2 Yeas of 2 (0 errors).
    assert summary["share_correct_majority"] == pytest.approx(4 / 5)
    assert summary["apre"] == pytest.approx((1 - 2) / 1)
    assert summary["yea_rate_observed"] == pytest.approx(3 / 5)
    assert legislators["share_correct"].tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert roll_calls["share_correct"].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert legislators["yeas"].tolist() == [2, 1, 0] and roll_calls["votes"].tolist() == [3, 2]


def test_ppc_of_the_generating_model_is_calibrated_and_a_shifted_one_is_not(party_data):
    matrix, _, fits = party_data
    idata = fits["hierarchical"]
    summary, legislators, roll_calls = posterior_predictive_checks(idata, matrix, seed=1)
    assert 0.05 < summary["yea_rate_p_value"] < 0.95
    assert summary["share_correct"] > summary["share_correct_majority"] + 0.05 and summary["apre"] > 0.15
    assert len(legislators) == matrix.shape[0] and len(roll_calls) == matrix.shape[1]
    extreme = ((legislators["yea_p_value"] < 0.01) | (legislators["yea_p_value"] > 0.99)).mean()
    assert extreme < 0.1

    shifted = idata.copy()
    shifted.posterior["alpha"] = shifted.posterior["alpha"] + 2.0  # far fewer Yeas predicted
    bad, _, _ = posterior_predictive_checks(shifted, matrix, seed=1)
    assert bad["yea_rate_p_value"] == 0.0
    assert bad["yea_rate_replicated_mean"] < summary["yea_rate_observed"] - 0.1


def test_loo_of_a_vote_predicted_with_certainty_is_its_exact_value_not_nan():
    """PSIS returns NaN for a vote whose log-likelihood is ~1e-100 in every draw (a
    party-line vote under a huge discrimination, as on the 116th Senate); its LOO value
    is then the plain importance-sampling estimate, ~0, and the totals stay finite."""
    rng = np.random.default_rng(0)
    chains, draws = 2, 500
    xi = np.stack([rng.normal(-1.0, 0.1, (chains, draws)), rng.normal(1.0, 0.1, (chains, draws))], axis=-1)
    alpha = rng.normal(0.0, 0.3, (chains, draws, 2))
    beta = np.stack([rng.normal(1.0, 0.3, (chains, draws)), rng.normal(300.0, 10.0, (chains, draws))], axis=-1)
    votes = np.array([[1.0, 0.0], [0.0, 1.0]])  # roll call 1: Nay on the left, Yea on the right
    matrix = VoteMatrix(
        pd.DataFrame({"legislator_id": ["L", "R"], "legislator_name": "x", "party": ["Democrat", "Republican"]}),
        pd.DataFrame({"roll_call_id": ["r0", "r1"]}),
        votes,
    )
    idata = az.from_dict(
        posterior={"xi": xi, "alpha": alpha, "beta": beta},
        coords={"legislator": ["L", "R"], "roll_call": ["r0", "r1"]},
        dims={"xi": ["legislator"], "alpha": ["roll_call"], "beta": ["roll_call"]},
    )
    rows, cols = np.nonzero(np.isfinite(votes))
    ll = vote_log_likelihood(xi, alpha, beta, rows, cols, votes[rows, cols])
    certain = cols == 1
    assert np.all(ll[..., certain] > -1e-60)  # all but certain in every draw
    plain = az.loo(
        az.InferenceData(log_likelihood=xr.Dataset({"y": (("chain", "draw", "vote"), ll)})),
        pointwise=True, reff=relative_efficiency(xi, alpha, beta),
    )
    assert np.isnan(plain["loo_i"].values[certain]).all()  # what PSIS alone gives

    result = psis_loo(idata, matrix, max_draws=None)
    loo_i = result["loo_i"].values
    assert np.isfinite(result["elpd_loo"]) and np.isfinite(result["p_loo"])
    assert np.all(loo_i[certain] <= 0) and np.all(loo_i[certain] > -1e-60)
    np.testing.assert_allclose(loo_i[~certain], plain["loo_i"].values[~certain], rtol=1e-12)
