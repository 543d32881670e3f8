"""The C callbacks nutpie calls compute what the kernels and layouts compute."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.stats import callbacks
from irt_pipeline.stats.flat_sampling import compile_flat_kernel_model
from irt_pipeline.stats.kernel import flat_logp_grad, hierarchical_logp_grad
from irt_pipeline.stats.matrix import build_vote_matrix
from irt_pipeline.stats.pca import pca_scores
from irt_pipeline.stats.sampling import compile_kernel_model, prepare

DOUBLE_P = ctypes.POINTER(ctypes.c_double)


@pytest.fixture(scope="module")
def chamber():
    rows, _ = simulate_chamber(DemoChamber("sim-2021", "Senate", 30, 80, seed=3))
    matrix, _ = build_vote_matrix(rows)
    return matrix, pca_scores(matrix)["pc1"].to_numpy()


def ptr(array):
    return array.ctypes.data_as(DOUBLE_P)


def call_logp(model, x):
    grad, value = np.full_like(x, np.nan), np.full(1, np.nan)
    status = model.compiled_logp_func.ctypes(len(x), ptr(x), ptr(grad), ptr(value), model.user_data.ctypes.data)
    return status, value[0], grad


def call_expand(model, x):
    out = np.full(model.n_expanded, np.nan)
    status = model.compiled_expand_func.ctypes(len(x), model.n_expanded, ptr(x), ptr(out), model.user_data.ctypes.data)
    return status, out


def test_hierarchical_callbacks_equal_the_kernel_and_the_layout(chamber):
    matrix, pca = chamber
    model = compile_kernel_model(matrix, pca, seed=1, centering=(1.0, 0.5))
    layout, _ = prepare(matrix, pca, (1.0, 0.5))
    votes = np.ascontiguousarray(matrix.signed_votes())
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = model.initial_point_func(0) + rng.normal(0, 0.3, layout.ndim)
        status, value, grad = call_logp(model, x)
        expected_grad = np.empty_like(x)
        expected = hierarchical_logp_grad(x, expected_grad, votes, layout.groups, layout.centering)
        assert status == 0
        assert value == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
        status, out = call_expand(model, x)
        assert status == 0
        np.testing.assert_allclose(out, np.concatenate(list(layout.reported(x).values())), rtol=1e-12)


def test_flat_callbacks_equal_the_kernel_and_the_layout(chamber):
    matrix, pca = chamber
    model, layout = compile_flat_kernel_model(matrix, pca, seed=1)
    votes = np.ascontiguousarray(matrix.signed_votes())
    x = model.initial_point_func(0) + np.random.default_rng(1).normal(0, 0.3, layout.ndim)
    status, value, grad = call_logp(model, x)
    expected_grad = np.empty_like(x)
    expected = flat_logp_grad(x, expected_grad, votes, layout.free, np.asarray(layout.anchors),
                              np.array([1.0, -1.0]))
    assert status == 0
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
    status, out = call_expand(model, x)
    reported = layout.reported(x)
    assert status == 0
    np.testing.assert_allclose(out, np.concatenate([reported["xi"], reported["alpha"], reported["beta"]]))
    assert out[layout.anchors[0]] == 1.0 and out[layout.anchors[1]] == -1.0


def test_wrong_sizes_and_non_finite_points_are_reported_not_sampled(chamber):
    matrix, pca = chamber
    model = compile_kernel_model(matrix, pca, seed=1, centering=(1.0, 1.0))
    x = model.initial_point_func(0)
    status, _, _ = call_logp(model, x[:-1])
    assert status == -1
    x[0] = np.inf
    status, _, _ = call_logp(model, x)
    assert status in (3, 4)
    assert callbacks.address(x) == x.ctypes.data
