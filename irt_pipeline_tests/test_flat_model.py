"""The flat model: the numba kernel computes the PyMC graph's density, anchors are the
PCA extremes among legislators who voted on half the roll calls, and a reflected start
or chain comes out right side up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irt_pipeline.stats.flat_model import (
    ANCHOR_VALUES,
    FlatLayout,
    anchored_from_pca,
    build_flat_model,
    choose_anchors,
    orient_chains,
    standardized_xi,
)
from irt_pipeline.stats.flat_sampling import sample_flat
from irt_pipeline.stats.kernel import flat_logp_grad
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.pca import pca_scores
from irt_pipeline.stats.sampling import SamplerSettings
from simulated import hierarchical_chamber

PARTIES = np.array(
    ["Democrat", "Democrat", "Republican", "Republican", "Republican", "Independent",
     "Democrat", "Republican", "Democrat"]
)


def small_matrix(seed: int = 0, m: int = 6) -> VoteMatrix:
    rng = np.random.default_rng(seed)
    n = len(PARTIES)
    votes = rng.integers(0, 2, size=(n, m)).astype(float)
    votes[rng.uniform(size=(n, m)) < 0.2] = np.nan
    legislators = pd.DataFrame(
        {"legislator_id": [f"L{i}" for i in range(n)], "legislator_name": "x", "party": PARTIES}
    )
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"R{j}" for j in range(m)]}), votes)


def kernel_logp(layout: FlatLayout, matrix: VoteMatrix, x: np.ndarray):
    grad = np.empty_like(x)
    value = flat_logp_grad(x, grad, matrix.signed_votes(), layout.free, layout.anchors, ANCHOR_VALUES)
    return value, grad


@pytest.mark.parametrize("anchors", [(2, 0), (7, 8)])
def test_kernel_matches_pymc_graph(anchors):
    matrix = small_matrix()
    layout = FlatLayout(*matrix.shape, np.array(anchors))
    model = build_flat_model(matrix, layout.anchors)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    assert [v.name for v in model.value_vars] == list(layout.slices())
    rng = np.random.default_rng(1)
    offsets = []
    for _ in range(4):
        x = rng.normal(scale=1.5, size=layout.ndim)
        point = {name: x[sl] for name, sl in layout.slices().items()}
        value, grad = kernel_logp(layout, matrix, x)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-10)
        offsets.append(value - logp(point))
    # Equal up to one constant (PyMC rounds log(sqrt(2 pi)) in its own way).
    assert np.ptp(offsets) < 1e-9 and abs(offsets[0]) < 1e-5


def test_kernel_gradient_matches_finite_differences():
    matrix = small_matrix(3)
    layout = FlatLayout(*matrix.shape, np.array([4, 1]))
    x = np.random.default_rng(2).normal(size=layout.ndim)
    _, grad = kernel_logp(layout, matrix, x)
    eps = 1e-6
    numeric = [
        (kernel_logp(layout, matrix, x + eps * e)[0] - kernel_logp(layout, matrix, x - eps * e)[0]) / (2 * eps)
        for e in np.eye(layout.ndim)
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)


def test_layout_holds_the_anchors_at_plus_and_minus_one_and_round_trips():
    matrix = small_matrix()
    layout = FlatLayout(*matrix.shape, np.array([7, 8]))
    start = {"xi": np.linspace(-2, 2, 9), "alpha": np.arange(6.0), "beta": -np.arange(6.0)}
    out = layout.reported(layout.unconstrained(start))
    assert out["xi"][7] == 1.0 and out["xi"][8] == -1.0
    free = np.setdiff1d(np.arange(9), [7, 8])
    np.testing.assert_array_equal(out["xi"][free], start["xi"][free])
    np.testing.assert_array_equal(out["beta"], start["beta"])
    assert layout.ndim == 7 + 12


def test_anchors_are_the_pca_extremes_among_members_voting_on_half_the_roll_calls():
    matrix = small_matrix(m=10)
    votes = matrix.votes.copy()
    votes[:, :] = np.where(np.isnan(votes), 1.0, votes)  # everyone votes on everything...
    votes[7, :6] = np.nan  # ...but Republican L7 only on 4 of 10 roll calls
    votes[8, :5] = np.nan  # Democrat L8 on exactly half
    matrix = VoteMatrix(matrix.legislators, matrix.roll_calls, votes)
    pca = np.array([-1.0, -0.5, 0.8, 1.2, 0.3, 0.0, -0.2, 2.0, -1.5])
    anchors = choose_anchors(matrix, pca)
    # L7 has the highest score but too few votes; L3 is the next Republican. L8 qualifies.
    assert anchors.tolist() == [3, 8]
    # A reflected PCA (positive = liberal) picks the same legislators.
    assert choose_anchors(matrix, -pca).tolist() == [3, 8]
    v = anchored_from_pca(pca, anchors)
    assert v[3] == pytest.approx(1.0) and v[8] == pytest.approx(-1.0)
    assert np.corrcoef(v, pca)[0, 1] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def small_fit():
    matrix, truth = hierarchical_chamber(24, 40, seed=7, sep=1.0, sd=0.3)
    pca = pca_scores(matrix)["pc1"].to_numpy()
    settings = SamplerSettings(chains=2, tune=150, draws=100, seed=11)
    return matrix, pca, settings, sample_flat(matrix, pca, settings)


def test_reflected_pca_start_gives_the_same_right_side_up_posterior(small_fit):
    matrix, pca, settings, idata = small_fit
    reflected = sample_flat(matrix, -pca, settings)
    np.testing.assert_array_equal(reflected.posterior["xi"].values, idata.posterior["xi"].values)
    parties = matrix.legislators["party"].to_numpy()
    xi = idata.posterior["xi"].mean(("chain", "draw")).values
    assert xi[parties == "Republican"].mean() > 0 > xi[parties == "Democrat"].mean()
    assert idata.attrs["reflected_chains"] == ""
    rows = {c: i for i, c in enumerate(idata.posterior["legislator"].values)}
    assert xi[rows[idata.attrs["anchor_conservative"]]] == 1.0
    assert xi[rows[idata.attrs["anchor_liberal"]]] == -1.0


def test_a_reflected_chain_is_flipped_back(small_fit):
    matrix, _, _, idata = small_fit
    parties = matrix.legislators["party"].to_numpy()
    reflected = idata.copy()
    for name in ("xi", "beta"):
        values = reflected.posterior[name].values.copy()
        values[1] *= -1.0  # chain 1 in the mirror-image mode: Democrats on the right
        reflected.posterior[name] = reflected.posterior[name].copy(data=values)
    xi = reflected.posterior["xi"].values[1].mean(0)
    assert xi[parties == "Republican"].mean() < xi[parties == "Democrat"].mean()

    assert orient_chains(reflected, parties) == [1]
    assert reflected.attrs["reflected_chains"] == "1"
    for name in ("xi", "beta", "alpha"):
        np.testing.assert_array_equal(reflected.posterior[name].values, idata.posterior[name].values)
    assert orient_chains(reflected, parties) == []  # now right side up: untouched


def test_standardized_xi_is_mean_zero_sd_one_per_draw_with_the_same_order(small_fit):
    _, _, _, idata = small_fit
    standard = standardized_xi(idata).posterior["xi"]
    np.testing.assert_allclose(standard.mean("legislator"), 0.0, atol=1e-12)
    np.testing.assert_allclose(standard.std("legislator"), 1.0)
    anchored = idata.posterior["xi"]
    assert (np.argsort(standard.values, axis=-1) == np.argsort(anchored.values, axis=-1)).all()
    assert idata.posterior["xi"].std("legislator").values.ravel()[0] != pytest.approx(1.0)
