"""Both sampler backends give the same posterior for the same model, and the sampler's
record (timings, settings) travels with the draws."""

from __future__ import annotations

import json

import numpy as np
import pytest

from irt_pipeline.stats.sampling import SamplerSettings, sample_hierarchical


def test_kernel_and_pymc_backends_agree(small_senate):
    matrix, pca = small_senate
    means = {}
    for backend in ("kernel", "pymc"):
        settings = SamplerSettings(chains=2, tune=300, draws=300, seed=5, backend=backend)
        idata = sample_hierarchical(matrix, pca, settings)
        xi = idata.posterior["xi"]
        assert xi.shape == (2, 300, matrix.shape[0])
        assert json.loads(idata.attrs["sampler_settings"])["backend"] == backend
        assert idata.attrs["sampling_seconds"] > 0
        means[backend] = xi.mean(("chain", "draw")).values
        sd = xi.std(("chain", "draw")).values
        assert np.all(sd > 0.01)
    assert np.corrcoef(means["kernel"], means["pymc"])[0, 1] > 0.995
    assert np.abs(means["kernel"] - means["pymc"]).max() < 0.15


def test_unknown_backend_is_refused(small_senate):
    matrix, pca = small_senate
    with pytest.raises(ValueError, match="unknown sampler backend 'jax'"):
        sample_hierarchical(matrix, pca, SamplerSettings(backend="jax"))
