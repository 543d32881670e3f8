"""Every registered model (and the toy model of test_catalog.py): its numba kernel
computes its PyMC graph's density and gradient, both read the model's one priors table
by name, the gradient matches finite differences, and a prior of another family is
refused. (The C callbacks made from the kernels: test_callbacks.py.)"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
import toy_model
from kernel_checks import assert_kernel_is_graph, kernel_logp, small_matrix, start_scores

from irt_pipeline.stats.models import MODELS
from irt_pipeline.stats.priors import Normal

SPECS = pytest.mark.parametrize("spec", [*MODELS.values(), toy_model.SPEC], ids=[*MODELS, "toy"])


def bound_of(spec, seed: int = 0):
    matrix = small_matrix(seed)
    return matrix, spec.bind(matrix, start_scores(spec, matrix.shape[0]))


def points(bound, seeds=(1, 2, 3)):
    # At scale 1: at larger scales a few points put the 2D model's tau_2 near e^3, where
    # PyMC's dlogp of its graph returns NaN (the kernel matches finite differences there).
    return [np.random.default_rng(s).normal(size=bound.ndim) for s in seeds]


@SPECS
def test_kernel_matches_pymc_graph(spec):
    matrix, bound = bound_of(spec)
    assert_kernel_is_graph(spec, matrix, bound, points(bound))


def changed(prior):
    """Every parameter of a prior moved (scales up, locations shifted)."""
    values = {f.name: getattr(prior, f.name) for f in dataclasses.fields(prior)}
    return type(prior)(**{name: (v + 0.3 if name == "mu" else v * 1.3) for name, v in values.items()})


@SPECS
def test_the_priors_table_is_what_both_the_graph_and_the_kernel_read(spec, monkeypatch):
    """One edit of the table changes the kernel's density and the graph's alike."""
    matrix, bound = bound_of(spec, seed=2)
    xs = points(bound)
    before = [kernel_logp(spec, bound, x)[0] for x in xs]
    module = sys.modules[spec.module]
    monkeypatch.setattr(module, "PRIORS", {name: changed(prior) for name, prior in module.PRIORS.items()})
    matrix, bound = bound_of(spec, seed=2)
    assert all(abs(kernel_logp(spec, bound, x)[0] - b) > 1e-3 for x, b in zip(xs, before))
    assert_kernel_is_graph(spec, matrix, bound, xs)


@SPECS
def test_the_kernel_refuses_a_prior_family_it_does_not_implement(spec, monkeypatch):
    module = sys.modules[spec.module]
    name, prior = next((n, p) for n, p in module.PRIORS.items() if not isinstance(p, Normal))
    monkeypatch.setattr(module, "PRIORS", {**module.PRIORS, name: Normal(0.0, 1.0)})
    with pytest.raises(TypeError, match=f"prior '{name}' is Normal.*implements {type(prior).__name__}"):
        bound_of(spec)


@SPECS
def test_kernel_gradient_matches_finite_differences(spec):
    _, bound = bound_of(spec, seed=3)
    x = points(bound, seeds=(4,))[0]
    _, grad = kernel_logp(spec, bound, x)
    eps = 1e-6
    numeric = [
        (kernel_logp(spec, bound, x + eps * e)[0] - kernel_logp(spec, bound, x - eps * e)[0]) / (2 * eps)
        for e in np.eye(bound.ndim)
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)
