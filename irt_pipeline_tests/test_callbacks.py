"""The C callbacks nutpie calls compute what the kernels and layouts compute."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from irt_pipeline.stats import callbacks
from irt_pipeline.stats.flat_sampling import compile_flat_kernel_model
from irt_pipeline.stats.kernel import flat_logp_grad, hierarchical_logp_grad
from irt_pipeline.stats.sampling import compile_kernel_model, prepare


def call_logp(model, x):
    return callbacks.evaluate_logp(model.compiled_logp_func, model.user_data, x)


def call_expand(model, x):
    out = np.full(model.n_expanded, np.nan)
    doubles = ctypes.POINTER(ctypes.c_double)
    status = model.compiled_expand_func.ctypes(
        len(x), model.n_expanded, x.ctypes.data_as(doubles), out.ctypes.data_as(doubles), model.user_data.ctypes.data
    )
    return status, out


def test_hierarchical_callbacks_equal_the_kernel_and_the_layout(small_senate):
    matrix, pca = small_senate
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


def test_flat_callbacks_equal_the_kernel_and_the_layout(small_senate):
    matrix, pca = small_senate
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


def test_wrong_sizes_and_non_finite_points_are_reported_not_sampled(small_senate):
    matrix, pca = small_senate
    model = compile_kernel_model(matrix, pca, seed=1, centering=(1.0, 1.0))
    x = model.initial_point_func(0)
    status, _, _ = call_logp(model, x[:-1])
    assert status == -1
    x[0] = np.inf
    status, _, _ = call_logp(model, x)
    assert status in (3, 4)
    assert callbacks.address(x) == x.ctypes.data


def test_a_start_outside_the_support_is_refused_before_sampling(small_senate):
    matrix, pca = small_senate
    model = compile_kernel_model(matrix, pca, seed=1, centering=(1.0, 1.0))
    bad = model.initial_point_func(0)
    bad[0] = np.nan
    with pytest.raises(ValueError, match="not a valid starting point"):
        callbacks.kernel_model(
            model.compiled_logp_func, model.compiled_expand_func, model.user_data, model.shared_data,
            model.n_dim, model.shapes, {k: list(v) for k, v in model.coords.items()}, model.dims,
            lambda seed: bad,
        )
