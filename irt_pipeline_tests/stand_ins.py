"""A stand-in for the sampler in Dagster tests that need a posterior, not MCMC: iid
draws of every variable a model reports, in the model's own coordinates and dims, with
chain 0 of chosen variables shifted (unconverged) on request."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import arviz as az
import numpy as np

from irt_pipeline.stats.sampling import constant_data

CHAINS, DRAWS = 4, 500


def iid_posterior(spec, matrix, pca, shift: Mapping[str, float] | None = None):
    """InferenceData as `stats.sampling.sample` returns it: xi (and xi_2) around the start, every
    other reported variable iid N(1, 0.1), chain 0 of each variable in `shift` moved by
    its value."""
    rng = np.random.default_rng(0)
    bound = spec.bind(matrix, pca)
    posterior = {name: rng.normal(1.0, 0.1, size=(CHAINS, DRAWS, *shape)) for name, shape in bound.reported.items()}
    starts = np.asarray(pca, float).reshape(len(pca), -1)  # (n,) or (n, 2) for the 2D model
    for k, name in enumerate(("xi", "xi_2")[: starts.shape[1]]):
        posterior[name] = starts[None, None, :, k] + 0.1 * rng.standard_normal((CHAINS, DRAWS, len(starts)))
    for name, by in (shift or {}).items():
        posterior[name][0] += by
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={
            "diverging": np.zeros((CHAINS, DRAWS), bool),
            "energy": rng.standard_normal((CHAINS, DRAWS)),
            "n_steps": np.full((CHAINS, DRAWS), 7),
        },
        coords=dict(bound.coords),
        dims={name: list(dims) for name, dims in bound.dims.items()},
    )
    idata.add_groups(constant_data=constant_data(matrix))
    idata.attrs.update(
        compile_seconds=0.0, sampling_seconds=0.0, model=spec.name, priors="{}", draws_used=DRAWS, stop="gates"
    )
    return idata


def stand_in_sampler(shift_for: Callable[[object, object], Mapping[str, float]]):
    """A replacement for `sample(spec, matrix, pca, settings, progress=None,
    orientation=None)`; shift_for(spec, matrix) says which variables to unsettle."""

    def sample(spec, matrix, pca, settings, progress=None, orientation=None):
        return iid_posterior(spec, matrix, pca, shift_for(spec, matrix))

    return sample
