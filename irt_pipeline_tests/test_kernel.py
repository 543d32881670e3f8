"""The likelihood loop in single precision (what the sampler runs) against the same loop
in double precision (the reference that test_model.py and test_flat_model.py hold to the
PyMC graphs): its exp and log1p, the log-likelihood and gradient at House size, and each
model's whole log-density."""

from __future__ import annotations

import numpy as np
import pytest

from irt_pipeline.stats import kernel
from irt_pipeline.stats.jit import njit
from irt_pipeline.stats.models import flat, hierarchical
from irt_pipeline.stats.pca import pca_scores
from simulated import hierarchical_chamber


@njit
def _elementwise32(x):
    exp, log1p = np.empty_like(x), np.empty_like(x)
    for k in range(x.shape[0]):
        exp[k] = kernel.exp_nonpositive32(x[k])
        log1p[k] = kernel.log1p_unit32(exp[k])
    return exp, log1p


def test_single_precision_exp_and_log1p_are_within_a_few_ulp():
    x = np.concatenate([-np.geomspace(1e-6, 86.0, 20_000), [0.0, -0.5, -1.0]]).astype(np.float32)
    exp, log1p = _elementwise32(x)
    reference_exp = np.exp(x.astype(np.float64))
    np.testing.assert_allclose(exp, reference_exp, rtol=5e-7, atol=0)
    np.testing.assert_allclose(log1p, np.log1p(exp.astype(np.float64)), rtol=5e-7, atol=1e-44)
    # clamped below -87, still a normal float32
    clamped = _elementwise32(np.array([-200.0], np.float32))[0][0]
    assert clamped == _elementwise32(np.array([-87.0], np.float32))[0][0] and clamped >= np.finfo(np.float32).tiny


def loglik(votes, xi, alpha, beta):
    grads = [np.zeros_like(xi), np.zeros_like(alpha), np.zeros_like(beta)]
    return kernel.twopl_loglik(votes, xi, alpha, beta, *grads), np.concatenate(grads)


def test_single_precision_likelihood_matches_double_at_house_size():
    """450 x 1,000 votes, parameters as wide as real chambers reach. The partial sums
    are flushed into double precision, so the error stays at float32's ~1e-7 per term
    instead of growing with the chamber."""
    matrix, _ = hierarchical_chamber(450, 1000, seed=3)
    votes = matrix.signed_votes()
    assert votes.dtype == np.float32
    rng = np.random.default_rng(1)
    for _ in range(3):
        xi, alpha, beta = rng.normal(0, 1, 450), rng.normal(0, 2, 1000), rng.normal(0, 1.5, 1000)
        single, grad_single = loglik(votes, xi, alpha, beta)
        double, grad_double = loglik(votes.astype(np.float64), xi, alpha, beta)
        assert abs(single - double) < 1e-7 * abs(double)  # measured ~3e-9
        # measured up to 6e-6 of (1 + |component|)
        np.testing.assert_array_less(np.abs(grad_single - grad_double), 5e-5 * (1 + np.abs(grad_double)))


@pytest.mark.parametrize("spec", [hierarchical, flat], ids=["hierarchical", "flat"])
def test_models_single_precision_density_is_the_double_one_up_to_a_near_constant(spec):
    """The sampler's density is exp(delta(x)) times the double-precision one. Near the
    start, across points as far apart as a posterior's width, delta varies by a few
    1e-3 on 450 x 1,000 votes: a posterior mean moves by at most about that fraction of
    its posterior sd (first order: Cov(f, delta)), far below Monte Carlo error."""
    matrix, _ = hierarchical_chamber(450, 1000, seed=4)
    bound = spec.bind(matrix, pca_scores(matrix)["pc1"].to_numpy())
    data = bound.kernel_data
    rng = np.random.default_rng(5)
    start = bound.start(rng)
    deltas = []
    for scale in (0.0, 0.05, 0.1, 0.2, 0.3):
        x = start + scale * rng.normal(size=bound.ndim)
        grad_single, grad_double = np.empty_like(x), np.empty_like(x)
        single = spec.logp_grad(x, grad_single, data.votes, data.ints, data.floats)
        double = spec.logp_grad(x, grad_double, data.votes.astype(np.float64), data.ints, data.floats)
        deltas.append(single - double)
        np.testing.assert_array_less(np.abs(grad_single - grad_double), 5e-5 * (1 + np.abs(grad_double)))
    assert np.ptp(deltas) < 2e-2  # measured < 5e-3
