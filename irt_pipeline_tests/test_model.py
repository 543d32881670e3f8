"""The hierarchical model, in both of its coordinate systems: the numba kernel computes the
PyMC graph's density, both read the one priors table, the gauge is inert, the anchored
Jacobian is exact, the starts round-trip, and the coordinates follow the data."""

from __future__ import annotations

import kernel_checks
import numpy as np
import pytest
from kernel_checks import assert_kernel_is_graph
from simulated import hierarchical_chamber

from irt_pipeline.stats.models import hierarchical
from irt_pipeline.stats.models.hierarchical import ANCHORED, GAUGE, party_start, start_values
from irt_pipeline.stats.parties import party_groups
from irt_pipeline.stats.starts import item_logits

# Three party groups of five (the anchored design's third mean is a coordinate of its
# own) and an independent.
PARTIES = np.array(
    ["Democrat", "Democrat", "Republican", "Republican", "Republican", "Independent", "Democrat",
     "Republican", "Democrat", "Progressive", "Progressive", "Democrat", "Progressive", "Republican",
     "Progressive", "Progressive"]
)
DESIGNS = pytest.mark.parametrize("design", [GAUGE, ANCHORED], ids=["gauge", "anchored"])
SPEC = hierarchical.SPEC


def small_matrix(seed: int = 0, m: int = 6):
    return kernel_checks.small_matrix(seed, m, parties=PARTIES)


def bound_with(matrix, design):
    return hierarchical.bind(matrix, np.linspace(-1.5, 1.5, matrix.shape[0]), design=design)


def kernel_logp(bound, x: np.ndarray):
    return kernel_checks.kernel_logp(SPEC, bound, x)


@DESIGNS
def test_both_coordinate_designs_compute_the_graph(design):
    """test_kernel_graph.py holds every model's kernel to its graph in the design `bind`
    chooses; here the hierarchical model's two designs, with the cutpoint shear in
    play."""
    matrix = small_matrix()
    bound = bound_with(matrix, design)
    assert np.any(bound.layout.shear != 0)
    rng = np.random.default_rng(1)
    assert_kernel_is_graph(SPEC, matrix, bound, [rng.normal(size=bound.ndim) for _ in range(3)])


def test_the_gauge_is_inert():
    """Moving w by an affine map leaves xi and every model term alone: the density
    changes by the gauge's own density only (so the posterior of xi, mu, sigma, alpha,
    beta, tau is the model's, whatever w's mean and sd do)."""
    matrix = small_matrix(5)
    bound = bound_with(matrix, GAUGE)
    gauge = hierarchical.PRIORS["gauge"]
    w = bound.coordinates["w"]

    def gauge_logp(v):
        return float(np.sum(-0.5 * ((v - gauge.mu) / gauge.sigma) ** 2))

    rng = np.random.default_rng(6)
    for _ in range(3):
        x = rng.normal(size=bound.ndim)
        moved = x.copy()
        moved[w] = 0.7 + 1.9 * x[w]
        np.testing.assert_allclose(bound.layout.reported(moved)["xi"], bound.layout.reported(x)["xi"], atol=1e-12)
        change = kernel_logp(bound, moved)[0] - kernel_logp(bound, x)[0]
        assert change == pytest.approx(gauge_logp(moved[w]) - gauge_logp(x[w]), abs=1e-9)


def test_log_jacobian_matches_numeric_determinant():
    """Anchored coordinates: the density in (z, log s, m) is the model's density on (xi on
    the standardization surface, mu, sigma) times |det d(xi, mu, sigma)/d(z, log s, m)|;
    the graph's closed form (2/n) sd^-(n + 2G - 1) prod_g s_g^(n_g + 1) must equal a
    numerical determinant, with xi measured in orthonormal coordinates of the surface's
    tangent space. Three groups: the third group's mean is a coordinate of its own."""
    matrix = small_matrix(0, m=1)
    layout = bound_with(matrix, ANCHORED).layout
    n, count = layout.n_legislators, layout.n_groups
    assert count == 3
    block = layout.party_block  # z (n), log s (G), m (G - 2)
    rng = np.random.default_rng(4)
    theta = rng.normal(size=layout.ndim)

    def mapped(t):
        out = layout.party_level(t)
        return out["xi"], out["mu_party"], out["sigma_party"]

    xi0, _, _ = mapped(theta)
    basis = np.linalg.svd(np.vstack([np.ones(n), xi0]), full_matrices=True)[2][2:]
    eps = 1e-6
    columns = []
    for i in range(block):
        e = np.zeros(layout.ndim)
        e[i] = eps
        plus, minus = mapped(theta + e), mapped(theta - e)
        diff = [(p - q) / (2 * eps) for p, q in zip(plus, minus)]
        columns.append(np.concatenate([basis @ diff[0], diff[1], diff[2]]))
    numeric = np.log(abs(np.linalg.det(np.array(columns).T)))

    v, _, _ = layout._anchored_v(theta)
    log_s = theta[n : n + count]
    closed = np.log(2.0 / n) - (n + 2 * count - 1) * np.log(v.std()) + ((layout.sizes() + 1) * log_s).sum()
    assert numeric == pytest.approx(closed, abs=1e-6)


@DESIGNS
def test_reported_scale_is_standardized(design):
    matrix = small_matrix()
    bound = bound_with(matrix, design)
    for seed in range(5):
        out = bound.layout.reported(np.random.default_rng(seed).normal(size=bound.ndim))
        assert out["xi"].mean() == pytest.approx(0.0, abs=1e-12)
        assert out["xi"].std() == pytest.approx(1.0)
        assert len(out["mu_party"]) == 3  # Democrats, Republicans, Progressives: no order imposed
        assert np.all(out["sigma_party"] > 0) and out["tau"] > 0
        assert list(out) == list(bound.reported)
        assert all(np.shape(out[name]) == shape for name, shape in bound.reported.items())


@DESIGNS
def test_start_round_trips_and_is_finite(design):
    matrix = small_matrix()
    parties = party_groups(PARTIES)
    groups, count = parties.groups, parties.count
    pca = np.array([-1.2, -0.8, 0.9, 1.1, 0.7, 0.1, -1.0, 1.3, -0.9, 0.2, 0.3, -1.1, 0.1, 0.8, 0.4, 0.0])
    pca = (pca - pca.mean()) / pca.std()
    items = item_logits(matrix.votes, pca)
    bound = hierarchical.bind(matrix, pca, design=design)
    start = start_values(pca, groups, count, items, np.random.default_rng(0))
    x = bound.layout.unconstrained(start)
    value, grad = kernel_logp(bound, x)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    reported = bound.layout.reported(x)
    # The start's ideal points are the PCA scores; the roll calls and tau round-trip, and
    # so does the party level (the anchored map is affine with a positive scale, which
    # standardization undoes).
    np.testing.assert_allclose(reported["xi"], pca, atol=1e-12)
    for name in ("alpha", "beta", "tau", "mu_party", "sigma_party"):
        np.testing.assert_allclose(reported[name], start[name], rtol=1e-10, atol=1e-12)
    assert np.isfinite(kernel_logp(bound, bound.start(np.random.default_rng(1)))[0])
    mu, sigma = party_start(pca, groups, count)
    assert np.all(sigma >= 0.05)
    np.testing.assert_allclose(mu, [pca[groups == g].mean() for g in range(count)])


def test_the_anchored_coordinates_need_two_groups():
    matrix = kernel_checks.small_matrix(0, parties=np.array(["Democrat"] * 6 + ["Independent"] * 3))
    with pytest.raises(ValueError, match="two party groups or more; this chamber has 1"):
        hierarchical.bind(matrix, np.linspace(-1, 1, 9), design=ANCHORED)


def test_the_coordinates_follow_how_much_the_votes_say():
    """Many informative roll calls: gauge (centered); a handful: anchored."""
    many, _ = hierarchical_chamber(40, 400, seed=1, sd=0.4)
    few, _ = hierarchical_chamber(40, 12, seed=1, sd=0.4)
    for matrix, expected in ((many, "gauge"), (few, "anchored")):
        pca = np.linspace(-1.5, 1.5, matrix.shape[0])
        xi = np.where(matrix.legislators["party"] == "Republican", 1.0, -1.0) + 0.1 * pca
        bound = hierarchical.bind(matrix, (xi - xi.mean()) / xi.std())
        assert bound.attrs["coordinates"] == expected


def test_item_logits_recover_simulated_roll_calls():
    rng = np.random.default_rng(5)
    x = rng.normal(size=400)
    x = (x - x.mean()) / x.std()
    alpha, beta = rng.normal(0, 0.5, size=30), rng.normal(0, 1.0, size=30)
    p = 1 / (1 + np.exp(-(np.outer(x, beta) - alpha)))
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    a_hat, b_hat = item_logits(votes, x)
    assert np.corrcoef(b_hat, beta)[0, 1] > 0.95
    assert np.corrcoef(a_hat, alpha)[0, 1] > 0.9
    # Two dimensions: the same regression on (n, 2) scores.
    x2 = np.column_stack([x, rng.normal(size=400)])
    beta2 = rng.normal(0, 1.0, size=(30, 2))
    p2 = 1 / (1 + np.exp(-(x2 @ beta2.T - alpha)))
    a2, b2 = item_logits((rng.uniform(size=p2.shape) < p2).astype(float), x2)
    assert b2.shape == (30, 2)
    assert min(np.corrcoef(b2[:, k], beta2[:, k])[0, 1] for k in range(2)) > 0.9


def test_a_fit_that_diverges_in_the_gauge_coordinates_is_retried_in_the_anchored_ones():
    """The Kansas-like chamber of bench/kansas_like.py, seed 2 (a tight 10-member
    minority the rule reads as pinned by its votes): the gauge coordinates diverge at
    target_accept 0.8; the retry runs in the anchored coordinates, passes every gate and
    recovers the simulated positions."""
    import json

    from simulated import kansas_like_chamber

    from irt_pipeline.stats.pca import pca_scores
    from irt_pipeline.stats.sampling import SamplerSettings, sample

    matrix, truth = kansas_like_chamber(seed=2)
    idata = sample(SPEC, matrix, pca_scores(matrix)["pc1"].to_numpy(), SamplerSettings(seed=2))
    runs = json.loads(idata.attrs["sampling_runs"])
    assert [(r["coordinates"], r["stop"]) for r in runs] == [("gauge", "divergence"), ("anchored", "gates")]
    assert idata.attrs["coordinates"] == "anchored" and idata.attrs["stop"] == "gates"
    xi = idata.posterior["xi"].mean(("chain", "draw")).to_numpy()
    assert np.corrcoef(xi, truth)[0, 1] > 0.97
