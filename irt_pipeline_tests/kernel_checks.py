"""What every model's kernel is held to, for any registered spec: the kernel computes
its PyMC graph's density (up to one constant) and gradient, at points in the sampler's
coordinates, in double precision (float64 votes: the reference the sampled
single-precision loop is held to in test_kernel.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix

# Two party groups of five (`stats/parties.py`), a party too small to be one and a member
# with no party: both unaffiliated.
PARTIES = np.array(
    ["Democrat", "Democrat", "Republican", "Republican", "Republican", "Independent",
     "Democrat", "Republican", "Democrat", "Democrat", "Republican", ""]
)
# Start scores for a model of one or two dimensions (pc1, pc2).
SCORES = np.column_stack([
    [-1.0, -0.5, 0.8, 1.2, 0.3, 0.0, -0.2, 2.0, -1.5, -0.9, 0.6, 0.1],
    [0.3, -1.1, 0.4, 0.9, -0.2, 1.5, 0.1, -0.7, 1.2, -0.4, -0.3, 0.8],
])


def small_matrix(seed: int = 0, m: int = 6, parties=PARTIES) -> VoteMatrix:
    """Random votes of the legislators `parties` on m roll calls, 20% missing."""
    rng = np.random.default_rng(seed)
    n = len(parties)
    votes = rng.integers(0, 2, size=(n, m)).astype(float)
    votes[rng.uniform(size=(n, m)) < 0.2] = np.nan
    legislators = pd.DataFrame(
        {"legislator_id": [f"L{i}" for i in range(n)], "legislator_name": "x", "party": parties}
    )
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"R{j}" for j in range(m)]}), votes)


def start_scores(spec, n: int) -> np.ndarray:
    """The start scores `spec.bind` takes for n legislators: (n,) or (n, d)."""
    scores = SCORES[:n, : len(spec.starts)]
    return scores[:, 0] if scores.shape[1] == 1 else scores


def kernel_logp(spec, bound, x: np.ndarray):
    """(log-density, gradient) of the spec's kernel at x, in double precision."""
    grad = np.empty_like(x)
    data = bound.kernel_data
    return spec.logp_grad(x, grad, data.votes.astype(np.float64), data.ints, data.floats), grad


def graph_logp_dlogp(model):
    """(logp, dlogp) point functions of a PyMC model, compiled without C: PyTensor's
    FAST_COMPILE mode runs the graph's ops in Python, which at these sizes (a dozen
    legislators) costs nothing, where its default mode compiles C for every graph. From
    an empty PyTensor cache (a fresh CI machine) the four models' graph tests took 210 s
    in the default mode and 16 s in this one, to the same tolerances."""
    return model.compile_logp(mode="FAST_COMPILE"), model.compile_dlogp(mode="FAST_COMPILE")


def kernel_minus_graph(spec, matrix, bound, points) -> list[float]:
    """Kernel log-density minus the graph's at each point; the gradients must agree."""
    model = spec.graph(matrix, bound)
    assert [v.name for v in model.value_vars] == list(bound.coordinates)
    logp, dlogp = graph_logp_dlogp(model)
    offsets = []
    for x in points:
        point = {name: x[where] for name, where in bound.coordinates.items()}
        value, grad = kernel_logp(spec, bound, x)
        # value_vars are in layout order, so PyMC's flat gradient lines up with the kernel's.
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-10)
        offsets.append(value - logp(point))
    return offsets


def assert_kernel_is_graph(spec, matrix, bound, points) -> None:
    """Equal up to one constant (PyMC rounds log(sqrt(2 pi)) its own way)."""
    offsets = kernel_minus_graph(spec, matrix, bound, points)
    assert np.ptp(offsets) < 1e-9 and abs(offsets[0]) < 1e-5
