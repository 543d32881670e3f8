"""The convergence gates and the summary they judge, on synthetic draws (no MCMC)."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest

from irt_pipeline.stats.diagnostics import GATES, convergence_summary, evaluate_gates, gates_passed

CHAINS, DRAWS = 4, 500


def passing_summary(**changes) -> dict:
    summary = {"rhat_xi_max": 1.002, "ess_bulk_xi_min": 1500.0, "divergences": 0, "ebfmi_min": 0.9}
    summary.update(changes)
    return summary


def by_gate(summary) -> dict:
    return {g["gate"]: g for g in evaluate_gates(summary)}


# --- the gates -------------------------------------------------------------------


def test_the_four_gates_and_their_thresholds():
    assert [(g.name, g.summary_key, g.op, g.threshold) for g in GATES] == [
        ("rhat_xi", "rhat_xi_max", "<", 1.01),
        ("ess_bulk_xi", "ess_bulk_xi_min", ">", 400),
        ("divergences", "divergences", "==", 0),
        ("ebfmi", "ebfmi_min", ">", 0.3),
    ]


def test_a_good_summary_passes_every_gate_and_records_values():
    gates = evaluate_gates(passing_summary())
    assert [g["gate"] for g in gates] == ["rhat_xi", "ess_bulk_xi", "divergences", "ebfmi"]
    assert all(g["passed"] for g in gates)
    assert [g["value"] for g in gates] == [1.002, 1500.0, 0, 0.9]
    assert gates_passed(passing_summary())


@pytest.mark.parametrize(
    ("key", "passing", "failing", "gate"),
    [
        ("rhat_xi_max", 1.0099, 1.01, "rhat_xi"),  # strictly below 1.01
        ("ess_bulk_xi_min", 400.5, 400.0, "ess_bulk_xi"),  # strictly above 400
        ("divergences", 0, 1, "divergences"),
        ("ebfmi_min", 0.301, 0.3, "ebfmi"),  # strictly above 0.3
    ],
)
def test_each_gate_at_its_boundary(key, passing, failing, gate):
    assert by_gate(passing_summary(**{key: passing}))[gate]["passed"] is True
    failed = by_gate(passing_summary(**{key: failing}))
    assert failed[gate]["passed"] is False
    assert failed[gate]["value"] == failing
    # only that gate fails
    assert [name for name, g in failed.items() if not g["passed"]] == [gate]
    assert not gates_passed(passing_summary(**{key: failing}))


@pytest.mark.parametrize("key", ["rhat_xi_max", "ess_bulk_xi_min", "divergences", "ebfmi_min"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_nan_or_infinite_value_fails_its_gate(key, bad):
    gate = next(g.name for g in GATES if g.summary_key == key)
    assert by_gate(passing_summary(**{key: bad}))[gate]["passed"] is False


def test_a_missing_summary_value_is_an_error_not_a_pass():
    summary = passing_summary()
    del summary["ebfmi_min"]
    with pytest.raises(KeyError):
        evaluate_gates(summary)


# --- convergence_summary on synthetic draws --------------------------------------


def synthetic_idata(*, xi, mu=None, diverging=None, energy=None, n_steps=None, attrs=None):
    rng = np.random.default_rng(0)
    shape = xi.shape[:2]
    posterior = {"xi": xi}
    dims = {"xi": ["legislator"]}
    if mu is not None:
        posterior["mu_party"] = mu
        posterior["sigma_party"] = np.abs(rng.normal(1.0, 0.1, size=mu.shape))
        dims.update(mu_party=["party"], sigma_party=["party"])
    stats = {
        "diverging": np.zeros(shape, dtype=bool) if diverging is None else diverging,
        "energy": rng.normal(size=shape) if energy is None else energy,
        "n_steps": np.full(shape, 7) if n_steps is None else n_steps,
    }
    idata = az.from_dict(
        posterior=posterior,
        sample_stats=stats,
        coords={"legislator": [f"L{i}" for i in range(xi.shape[2])], "party": ["Democrat", "Republican"]},
        dims=dims,
    )
    idata.attrs.update(attrs or {})
    return idata


def iid(seed, *shape):
    return np.random.default_rng(seed).normal(size=(CHAINS, DRAWS, *shape))


def test_iid_draws_pass_rhat_and_ess():
    idata = synthetic_idata(xi=iid(1, 5), mu=iid(2, 2), attrs={"compile_seconds": 1.5, "sampling_seconds": 12.25})
    summary = convergence_summary(idata)
    assert summary["rhat_xi_max"] < 1.01
    assert summary["ess_bulk_xi_min"] > 0.6 * CHAINS * DRAWS  # iid: ESS near the draw count
    assert summary["ess_tail_xi_min"] > 0.6 * CHAINS * DRAWS
    assert summary["rhat_party_max"] < 1.01
    assert summary["ess_bulk_party_min"] > 0.6 * CHAINS * DRAWS
    assert summary["chains"] == CHAINS and summary["draws"] == DRAWS
    assert summary["divergences"] == 0
    assert summary["compile_seconds"] == 1.5 and summary["sampling_seconds"] == 12.25
    assert summary["leapfrog_steps_per_draw"] == 7.0
    assert summary["gradient_evaluations"] == 7 * CHAINS * DRAWS
    gates = by_gate(summary)
    assert gates["rhat_xi"]["passed"] and gates["ess_bulk_xi"]["passed"] and gates["divergences"]["passed"]


def test_chains_with_shifted_means_give_high_rhat_and_name_the_worst_legislator():
    xi = iid(3, 5)
    xi[:, :, 3] += np.array([0.0, 0.0, 0.0, 3.0])[:, None]  # one chain stuck elsewhere for L3
    summary = convergence_summary(synthetic_idata(xi=xi, mu=iid(4, 2)))
    assert summary["rhat_xi_max"] > 1.2
    assert summary["worst_xi"] == "L3"
    assert summary["rhat_party_max"] < 1.01  # the party parameters are summarized separately
    assert by_gate(summary)["rhat_xi"]["passed"] is False


def test_shifted_party_mean_shows_in_the_party_summary_only():
    mu = iid(5, 2)
    mu[2:, :, 1] += 2.0
    summary = convergence_summary(synthetic_idata(xi=iid(6, 4), mu=mu))
    assert summary["rhat_party_max"] > 1.2
    assert summary["rhat_xi_max"] < 1.01


def test_autocorrelated_draws_have_low_ess():
    rng = np.random.default_rng(7)
    xi = np.empty((CHAINS, DRAWS, 3))
    xi[:, 0] = rng.normal(size=(CHAINS, 3))
    for t in range(1, DRAWS):  # AR(1), rho = 0.95: ESS about draws * 0.05 / 1.95
        xi[:, t] = 0.95 * xi[:, t - 1] + rng.normal(scale=math.sqrt(1 - 0.95**2), size=(CHAINS, 3))
    summary = convergence_summary(synthetic_idata(xi=xi))
    assert summary["ess_bulk_xi_min"] < 200
    assert by_gate(summary)["ess_bulk_xi"]["passed"] is False


def test_divergences_are_counted_over_all_chains():
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging[0, 10] = diverging[2, 20] = diverging[2, 21] = True
    summary = convergence_summary(synthetic_idata(xi=iid(8, 3), diverging=diverging))
    assert summary["divergences"] == 3
    assert by_gate(summary)["divergences"]["passed"] is False


def test_ebfmi_per_chain_from_known_energy():
    # E-BFMI = sum over draws of (E_t - E_{t-1})^2 / sum of (E_t - mean E)^2
    n = DRAWS
    t = np.arange(n, dtype=float)
    energy = np.stack(
        [
            np.where(t % 2 == 0, 1.0, -1.0),  # n - 1 jumps of 2, deviations all 1
            t,  # n - 1 jumps of 1; sum of squared deviations n (n^2 - 1) / 12
            np.where(t % 2 == 0, 2.0, -2.0),  # scale-free: as the first
            np.where(t % 4 < 2, 1.0, -1.0),  # a jump of 2 every other draw
        ]
    )
    summary = convergence_summary(synthetic_idata(xi=iid(9, 3), energy=energy))
    expected = [
        4 * (n - 1) / n,
        (n - 1) / (n * (n**2 - 1) / 12),
        4 * (n - 1) / n,
        4 * ((n - 1) // 2) / n,
    ]
    np.testing.assert_allclose(summary["ebfmi_per_chain"], expected, rtol=1e-12)
    assert summary["ebfmi_min"] == pytest.approx(expected[1], rel=1e-12)
    # one bad chain is enough to fail the gate
    assert by_gate(summary)["ebfmi"]["passed"] is False
    assert by_gate(summary)["ebfmi"]["value"] == summary["ebfmi_min"]


def test_ebfmi_passes_when_every_chain_is_above_threshold():
    rng = np.random.default_rng(10)
    summary = convergence_summary(synthetic_idata(xi=iid(11, 3), energy=rng.normal(size=(CHAINS, DRAWS))))
    # iid energy: E-BFMI near 2 on every chain
    assert all(1.6 < v < 2.4 for v in summary["ebfmi_per_chain"])
    assert by_gate(summary)["ebfmi"]["passed"] is True


def test_timings_missing_from_attrs_are_nan_and_summary_is_json_ready():
    import json

    summary = convergence_summary(synthetic_idata(xi=iid(12, 2)))
    assert math.isnan(summary["compile_seconds"]) and math.isnan(summary["sampling_seconds"])
    assert "rhat_party_max" not in summary  # no party parameters in this posterior
    text = json.dumps(summary)  # plain Python types only
    assert json.loads(text)["chains"] == CHAINS
