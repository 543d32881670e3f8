"""The hierarchical model: the numba kernel computes the PyMC graph's density, the
change of variables is exact, and the sampler's coordinates round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irt_pipeline.stats.kernel import hierarchical_logp_grad
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.model import (
    HierarchicalLayout,
    anchored_from_pca,
    build_hierarchical_model,
    item_logits,
    party_groups,
    start_values,
)

PARTIES = np.array(
    ["Democrat", "Democrat", "Republican", "Republican", "Republican", "Independent",
     "Democrat", "Republican", "Democrat"]
)


def small_matrix(seed: int = 0) -> VoteMatrix:
    rng = np.random.default_rng(seed)
    n, m = len(PARTIES), 6
    votes = rng.integers(0, 2, size=(n, m)).astype(float)
    votes[rng.uniform(size=(n, m)) < 0.2] = np.nan
    legislators = pd.DataFrame(
        {"legislator_id": [f"L{i}" for i in range(n)], "legislator_name": "x", "party": PARTIES}
    )
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"R{j}" for j in range(m)]}), votes)


def kernel_logp(layout: HierarchicalLayout, matrix: VoteMatrix, x: np.ndarray):
    grad = np.empty_like(x)
    value = hierarchical_logp_grad(x, grad, matrix.signed_votes(), layout.groups, layout.centering)
    return value, grad


@pytest.mark.parametrize("centering", [(0.0, 0.0), (1.0, 1.0), (1.0, 0.3)])
def test_kernel_matches_pymc_graph(centering):
    matrix = small_matrix()
    n, m = matrix.shape
    layout = HierarchicalLayout(n, m, party_groups(PARTIES), np.array(centering))
    model = build_hierarchical_model(matrix, centering)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    sizes = {"z": n, "log_spread": 2, "alpha": m, "beta": m}
    assert [v.name for v in model.value_vars] == list(sizes)
    rng = np.random.default_rng(1)
    values = []
    for _ in range(3):
        x = rng.normal(size=layout.ndim)
        point = {name: x[sl] for name, sl in layout.slices().items()}
        value, grad = kernel_logp(layout, matrix, x)
        # value_vars are in layout order, so PyMC's flat gradient lines up with ours.
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-10)
        values.append((value, logp(point)))
    # Equal up to one constant (PyMC rounds log(sqrt(2 pi)) in its own way).
    offsets = [k - p for k, p in values]
    assert np.ptp(offsets) < 1e-9 and abs(offsets[0]) < 1e-5


def test_kernel_gradient_matches_finite_differences():
    matrix = small_matrix(3)
    layout = HierarchicalLayout(*matrix.shape, party_groups(PARTIES), np.array([1.0, 0.4]))
    x = np.random.default_rng(2).normal(size=layout.ndim)
    _, grad = kernel_logp(layout, matrix, x)
    eps = 1e-6
    numeric = np.array(
        [
            (kernel_logp(layout, matrix, x + eps * e)[0] - kernel_logp(layout, matrix, x - eps * e)[0]) / (2 * eps)
            for e in np.eye(layout.ndim)
        ]
    )
    np.testing.assert_allclose(grad, numeric, atol=1e-6)


@pytest.mark.parametrize("centering", [(0.0, 0.0), (1.0, 0.5)])
def test_log_jacobian_matches_numeric_determinant(centering):
    """The density in (z, log s) is the model's density on (xi on the standardization
    surface, mu, sigma) times |det d(xi, mu, sigma)/d(z, log s)|; the graph's
    closed form of that determinant must equal a numerical one, with xi measured in
    orthonormal coordinates of the surface's tangent space."""
    groups = party_groups(PARTIES)
    n = len(groups)
    w = np.array(centering)
    layout = HierarchicalLayout(n, 0, groups, w)
    rng = np.random.default_rng(4)
    theta = rng.normal(size=n + 2)

    def mapped(t):
        out = layout.reported(t)
        return out["xi"], out["mu_party"], out["sigma_party"]

    xi0, _, _ = mapped(theta)
    # Tangent space of {mean 0, sd 1} at xi0: orthogonal to 1 and to xi0.
    basis = np.linalg.svd(np.vstack([np.ones(n), xi0]), full_matrices=True)[2][2:]
    eps = 1e-6
    columns = []
    for e in np.eye(n + 2):
        plus, minus = mapped(theta + eps * e), mapped(theta - eps * e)
        diff = [(p - q) / (2 * eps) for p, q in zip(plus, minus)]
        columns.append(np.concatenate([basis @ diff[0], diff[1], diff[2]]))
    numeric = np.log(abs(np.linalg.det(np.array(columns).T)))

    log_s = theta[n:]
    sd = layout.anchored(theta).std()
    sizes = np.array([(groups == g).sum() for g in (0, 1)])
    closed = np.log(2.0 / n) - (n + 3) * np.log(sd) + ((w * sizes + 1) * log_s).sum()
    assert numeric == pytest.approx(closed, abs=1e-6)


def test_reported_scale_is_standardized_and_ordered():
    matrix = small_matrix()
    layout = HierarchicalLayout(*matrix.shape, party_groups(PARTIES), np.array([1.0, 1.0]))
    for seed in range(5):
        out = layout.reported(np.random.default_rng(seed).normal(size=layout.ndim))
        assert out["xi"].mean() == pytest.approx(0.0, abs=1e-12)
        assert out["xi"].std() == pytest.approx(1.0)
        assert out["mu_party"][0] < out["mu_party"][1]  # Democrats below Republicans
        assert np.all(out["sigma_party"] > 0)


def test_start_round_trips_and_is_finite():
    matrix = small_matrix()
    groups = party_groups(PARTIES)
    pca = np.array([-1.2, -0.8, 0.9, 1.1, 0.7, 0.1, -1.0, 1.3, -0.9])
    pca = (pca - pca.mean()) / pca.std()
    items = item_logits(matrix.votes, pca)
    for centering in [(0.0, 0.0), (1.0, 1.0)]:
        layout = HierarchicalLayout(*matrix.shape, groups, np.array(centering))
        start = start_values(pca, groups, items, np.random.default_rng(0))
        x = layout.unconstrained(start)
        value, grad = kernel_logp(layout, matrix, x)
        assert np.isfinite(value) and np.all(np.isfinite(grad))
        # The start's ideal points are the PCA scores (standardization is affine).
        np.testing.assert_allclose(layout.reported(x)["xi"], pca, atol=1e-12)
    v, spread = anchored_from_pca(pca, groups)
    assert v[groups == 0].mean() == pytest.approx(-1.0)
    assert v[groups == 1].mean() == pytest.approx(1.0)
    assert np.all(spread >= 0.05)


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
