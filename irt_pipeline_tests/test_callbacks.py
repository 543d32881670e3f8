"""The C callbacks nutpie calls compute what the kernels and layouts compute, nutpie's
model carrier still takes them, and the compiled code never outlives its sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from irt_pipeline.stats import callbacks
from irt_pipeline.stats.models import MODELS
from irt_pipeline.stats.sampling import SamplerSettings, compile_kernel, sample

REPO = Path(__file__).resolve().parents[1]


def compiled(spec, bound):
    return compile_kernel(spec, bound, seed=1)


@pytest.mark.parametrize("name", list(MODELS))
def test_callbacks_equal_the_kernel_and_the_layout(small_senate, name):
    matrix, pca = small_senate
    spec = MODELS[name]
    bound = spec.bind(matrix, pca)
    model = compiled(spec, bound)
    kernel = spec.logp_grad
    data = bound.kernel_data
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = model.initial_point_func(0) + rng.normal(0, 0.3, bound.ndim)
        status, value, grad = callbacks.evaluate_logp(model.compiled_logp_func, model.user_data, x)
        expected_grad = np.empty_like(x)
        expected = kernel(x, expected_grad, data.votes, data.ints, data.floats)
        assert status == 0
        assert value == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
        status, out = callbacks.evaluate_expand(model.compiled_expand_func, model.user_data, x, model.n_expanded)
        assert status == 0
        reported = np.concatenate([np.ravel(v) for v in bound.layout.reported(x).values()])
        np.testing.assert_allclose(out, reported, rtol=1e-12, atol=1e-14)


def test_wrong_sizes_and_non_finite_points_are_reported_not_sampled(small_senate):
    matrix, pca = small_senate
    spec = MODELS["hierarchical"]
    model = compiled(spec, spec.bind(matrix, pca))
    x = model.initial_point_func(0)
    status, _, _ = callbacks.evaluate_logp(model.compiled_logp_func, model.user_data, x[:-1])
    assert status == callbacks.WRONG_SIZE
    status, _ = callbacks.evaluate_expand(model.compiled_expand_func, model.user_data, x, model.n_expanded - 1)
    assert status == callbacks.WRONG_SIZE
    x[0] = np.inf
    status, _, _ = callbacks.evaluate_logp(model.compiled_logp_func, model.user_data, x)
    assert status in (callbacks.NOT_FINITE_LOGP, callbacks.NOT_FINITE_GRAD)


def test_a_start_outside_the_support_is_refused_before_sampling(small_senate):
    matrix, pca = small_senate
    spec = MODELS["hierarchical"]
    bound = spec.bind(matrix, pca)
    bad = bound.start(np.random.default_rng(0))
    bad[0] = np.nan
    with pytest.raises(ValueError, match="not a valid starting point"):
        callbacks.kernel_model(
            callbacks.compiled(spec.logp), callbacks.compiled(spec.expand, expand=True), bound.kernel_data,
            bound.ndim, dict(bound.reported), dict(bound.coords), dict(bound.dims), lambda seed: bad,
        )


@pytest.mark.parametrize("name", list(MODELS))
def test_nutpie_carrier_samples_the_callbacks(small_senate, name):
    """The seam to nutpie (its CompiledPyMCModel, not public API): built, sampled, and
    every reported variable comes back with its dims. Run this when raising the pin."""
    matrix, pca = small_senate
    spec = MODELS[name]
    bound = spec.bind(matrix, pca)
    idata = sample(spec, matrix, pca, SamplerSettings(chains=2, tune=60, draws=40, max_draws=40, seed=3))
    post = idata.posterior
    used = idata.attrs["draws_used"]
    assert json.loads(idata.attrs["sampler_settings"])["max_draws"] == 40 * spec.max_draws_factor
    if json.loads(idata.attrs["sampling_runs"])[-1]["stop"] == "cap":  # the model's own cap
        assert used == 40 * spec.max_draws_factor
    assert list(post.data_vars) == list(bound.reported)
    for variable, dims in bound.dims.items():
        assert post[variable].dims == ("chain", "draw", *dims)
        assert post[variable].shape == (2, used, *bound.reported[variable])
    assert np.isfinite(post["xi"].values).all() and post["xi"].values.std() > 0
    assert idata.sample_stats["n_steps"].values.min() >= 1


STALE_PROBE = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pandas as pd
    import irt_pipeline
    assert irt_pipeline.__file__.startswith(sys.argv[1]), irt_pipeline.__file__
    from irt_pipeline.stats import callbacks
    from irt_pipeline.stats.matrix import VoteMatrix
    from irt_pipeline.stats.models import hierarchical
    rng = np.random.default_rng(0)
    n, m = 12, 7
    votes = rng.integers(0, 2, size=(n, m)).astype(float)
    parties = ["Democrat"] * 5 + ["Republican"] * 6 + ["Independent"]
    legislators = pd.DataFrame({"legislator_id": [f"L{i}" for i in range(n)], "legislator_name": "x", "party": parties})
    matrix = VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"R{j}" for j in range(m)]}), votes)
    bound = hierarchical.bind(matrix, np.linspace(-1, 1, n), design=hierarchical.GAUGE)
    logp = callbacks.compiled(hierarchical.SPEC.logp)
    meta = bound.kernel_data.meta(bound.ndim, 1)
    status, value, _ = callbacks.evaluate_logp(logp, meta, np.random.default_rng(1).normal(0.0, 0.5, bound.ndim))
    from irt_pipeline.stats import jit
    print(json.dumps({"value": value, "status": status, "cache_hits": logp.cache_hits, "n": n, "m": m,
                      "cache": jit.cache_dir().name}))
    """
)


def test_an_edited_kernel_source_is_compiled_again_never_loaded_stale(tmp_path):
    """numba's own cache keys a callback by its own file only; the project's keys it by
    every statistics source. Edit the shared kernel file of a copy of the package: the
    callback, whose own file did not change, must follow. (Under numba's own keying the
    third run would load the first run's machine code and print its value.)"""
    package = tmp_path / "pkg"
    shutil.copytree(REPO / "irt_pipeline", package / "irt_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    probe = tmp_path / "probe.py"
    probe.write_text(STALE_PROBE)
    env = {**os.environ, "PYTHONPATH": str(package), "IRT_PIPELINE_KERNEL_CACHE": str(tmp_path / "cache")}

    def run() -> dict:
        out = subprocess.run(
            [sys.executable, str(probe), str(package)], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["status"] == 0, result
        return result

    first, second = run(), run()
    # Compiled once (in a child process), then loaded: every process runs the same
    # machine code, so the value is the same to the last bit.
    assert first["cache_hits"] == 1 and second["cache_hits"] == 1
    assert second["value"] == first["value"] and second["cache"] == first["cache"]
    assert len(list((tmp_path / "cache").iterdir())) == 1
    # Only the model that was asked for is compiled (a partition pays for its own model).
    compiled_files = [p.name for p in (tmp_path / "cache").rglob("*.nbi")]
    assert any(name.startswith("hierarchical.nutpie_logp") for name in compiled_files), compiled_files
    assert not any(name.startswith(("flat.", "two_dimensional.")) for name in compiled_files), compiled_files

    kernel = package / "irt_pipeline" / "stats" / "kernel.py"
    source = kernel.read_text()
    edited = source.replace("LOG_2PI = math.log(2.0 * math.pi)\n", "LOG_2PI = math.log(2.0 * math.pi) + 0.5\n")
    assert edited != source
    kernel.write_text(edited)
    third = run()
    assert third["cache"] != first["cache"]  # a new fingerprint: compiled afresh
    assert len(list((tmp_path / "cache").iterdir())) == 2
    # Every Normal and HalfNormal term of the density (n gauge, mu 2, n ideal points: 11
    # party members and the independent's mixture of Normals, tau, m alphas, m betas; the
    # Gamma of sigma has no 2 pi) loses 0.5 * 0.5.
    n, m = first["n"], first["m"]
    assert third["value"] - first["value"] == pytest.approx(-0.25 * (2 * n + 3 + 2 * m), abs=1e-9)

    # With no child compile (as when it fails, or another process rewrites the cache at
    # that moment) the callback is compiled in the process and saved: that process runs
    # it linked to the callees it compiled itself (the same value to rounding, warned),
    # and every later process loads the code every process runs: the same value to the bit.
    kernel.write_text(source)
    env.update({"IRT_PIPELINE_KERNEL_CHILD": "1", "IRT_PIPELINE_KERNEL_CACHE": str(tmp_path / "cache_no_child")})
    fourth, fifth = run(), run()
    assert fourth["cache_hits"] == 1 and fourth["cache"] == first["cache"]
    assert fourth["value"] == pytest.approx(first["value"], rel=1e-13)
    assert fifth["value"] == first["value"]
