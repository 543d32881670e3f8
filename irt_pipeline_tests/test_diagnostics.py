"""The convergence gates and the summary they judge, on synthetic draws (no MCMC), and
the guard that fails closed on anything but a full record of passed gates."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest

from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates, gates_for, verify_gates
from irt_pipeline.stats.models import MODELS

CHAINS, DRAWS = 4, 500
GATED = {"xi": ("xi",), "party": ("mu_party", "sigma_party"), "tau": ("tau",)}
GATES = gates_for(GATED)


def passing_summary(**changes) -> dict:
    summary = {
        "rhat_xi_max": 1.002, "ess_bulk_xi_min": 1500.0, "ess_tail_xi_min": 1200.0, "rhat_party_max": 1.004,
        "ess_bulk_party_min": 900.0, "ess_tail_party_min": 800.0, "rhat_tau_max": 1.001, "ess_bulk_tau_min": 2000.0,
        "ess_tail_tau_min": 1900.0, "divergences": 0, "ebfmi_min": 0.9,
    }
    summary.update(changes)
    return summary


def by_gate(summary, gates=GATES) -> dict:
    return {g["gate"]: g for g in evaluate_gates(summary, gates)}


# --- the gates -------------------------------------------------------------------


def test_every_gated_group_gets_rhat_bulk_and_tail_ess_gates_then_divergences_and_ebfmi():
    assert [(g.name, g.summary_key, g.op, g.threshold) for g in GATES] == [
        ("rhat_xi", "rhat_xi_max", "<", 1.01),
        ("ess_bulk_xi", "ess_bulk_xi_min", ">", 400),
        ("ess_tail_xi", "ess_tail_xi_min", ">", 400),
        ("rhat_party", "rhat_party_max", "<", 1.01),
        ("ess_bulk_party", "ess_bulk_party_min", ">", 400),
        ("ess_tail_party", "ess_tail_party_min", ">", 400),
        ("rhat_tau", "rhat_tau_max", "<", 1.01),
        ("ess_bulk_tau", "ess_bulk_tau_min", ">", 400),
        ("ess_tail_tau", "ess_tail_tau_min", ">", 400),
        ("divergences", "divergences", "==", 0),
        ("ebfmi", "ebfmi_min", ">", 0.3),
    ]


def test_the_models_gate_what_their_users_read():
    assert MODELS["hierarchical"].gated == GATED
    assert MODELS["flat"].gated == {"xi": ("xi",), "tau": ("tau",)}


def test_a_good_summary_passes_every_gate_and_records_values():
    gates = evaluate_gates(passing_summary(), GATES)
    assert all(g["passed"] for g in gates)
    assert [g["value"] for g in gates] == [1.002, 1500.0, 1200.0, 1.004, 900.0, 800.0, 1.001, 2000.0, 1900.0, 0, 0.9]


@pytest.mark.parametrize(
    ("key", "passing", "failing", "gate"),
    [
        ("rhat_xi_max", 1.0099, 1.01, "rhat_xi"),  # strictly below 1.01
        ("ess_bulk_xi_min", 400.5, 400.0, "ess_bulk_xi"),  # strictly above 400
        ("rhat_party_max", 1.0099, 1.01, "rhat_party"),
        ("ess_bulk_party_min", 400.5, 400.0, "ess_bulk_party"),
        ("rhat_tau_max", 1.0099, 1.02, "rhat_tau"),
        ("ess_bulk_tau_min", 401, 399, "ess_bulk_tau"),
        ("ess_tail_xi_min", 400.5, 400.0, "ess_tail_xi"),  # strictly above 400
        ("ess_tail_party_min", 401, 399, "ess_tail_party"),
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


@pytest.mark.parametrize("gate", GATES, ids=lambda g: g.name)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, None, "1.0"])
def test_a_nan_infinite_or_non_numeric_value_fails_its_gate(gate, bad):
    assert by_gate(passing_summary(**{gate.summary_key: bad}))[gate.name]["passed"] is False


def test_a_missing_summary_value_is_an_error_not_a_pass():
    summary = passing_summary()
    del summary["ess_bulk_party_min"]
    with pytest.raises(KeyError):
        evaluate_gates(summary, GATES)


# --- the guard: fail closed --------------------------------------------------------


def stored(**changes) -> dict:
    """A diagnostics record of posterior "P1" whose gates all passed."""
    summary = passing_summary()
    gates = evaluate_gates(summary, GATES)
    record = {**summary, "posterior_id": "P1", "gates": gates, "gates_passed": True}
    record.update(changes)
    return record


def test_a_full_record_of_passed_gates_clears_its_posterior():
    assert verify_gates(stored(), "P1", GATES) == []


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (stored(gates=[], gates_passed=False), "rhat_xi missing"),
        (stored(gates=[], gates_passed=True), "ess_bulk_party missing"),  # an empty list is no pass
        (stored(posterior_id="P2"), "not of the stored posterior"),
        (stored(gates="all good"), "no list of gates"),
        (None, "not a record"),
        ([1, 2], "not a record"),
        (stored(gates_passed=False), "gates_passed is not true"),
    ],
)
def test_the_guard_refuses_what_it_cannot_read_as_passed(record, problem):
    problems = verify_gates(record, "P1", GATES)
    assert any(problem in p for p in problems), problems


def test_the_guard_re_evaluates_stored_values_instead_of_trusting_passed_flags():
    record = stored()
    for g in record["gates"]:
        if g["gate"] == "rhat_party":
            g["value"] = 1.2  # claims passed, but its value does not
        if g["gate"] == "ebfmi":
            g["value"] = "NaN"
    problems = verify_gates(record, "P1", GATES)
    assert problems == ["rhat_party=1.2 (needs < 1.01)", "ebfmi=nan (needs > 0.3)"]
    # A record missing a gate the model now expects (written before a gate was added).
    old = stored(gates=[g for g in stored()["gates"] if g["gate"] != "rhat_tau"])
    assert verify_gates(old, "P1", GATES) == ["rhat_tau missing"]


# --- R-hat and bulk ESS, all parameters at once, against ArviZ's --------------------


def hard_draws(seed: int, chains: int, draws: int) -> np.ndarray:
    """(parameters, chains, draws): iid, strongly autocorrelated, anticorrelated, chains
    apart, repeated values (HMC's rejections), a near-constant, a constant, an odd
    draw count's middle draw."""
    rng = np.random.default_rng(seed)
    out = [rng.normal(size=(chains, draws))]
    for phi in (0.95, 0.5, -0.6):
        x = np.zeros((chains, draws))
        for t in range(1, draws):
            x[:, t] = phi * x[:, t - 1] + rng.normal(size=chains)
        out.append(x)
    out.append(rng.normal(size=(chains, draws)) + np.arange(chains)[:, None])
    out.append(np.round(rng.normal(size=(chains, draws)), 1))
    out.append(np.repeat(rng.normal(size=(chains, (draws + 9) // 10)), 10, axis=1)[:, :draws])
    out.append(1.0 + 1e-12 * rng.normal(size=(chains, draws)))
    out.append(np.full((chains, draws), 2.5))
    return np.stack(out)


@pytest.mark.parametrize("chains,draws", [(4, 500), (4, 750), (3, 11), (4, 9), (2, 1001), (1, 300), (4, 4)])
def test_vectorized_rhat_and_bulk_ess_equal_arviz(chains, draws):
    from irt_pipeline.stats.diagnostics import split_rhat_and_bulk_ess

    values = hard_draws(chains * draws, chains, draws)
    rhat, ess = split_rhat_and_bulk_ess(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_rhat = np.array([az.rhat(v, method="rank") for v in values], dtype=float)
        expected_ess = np.array([az.ess(v, method="bulk") for v in values], dtype=float)
    np.testing.assert_allclose(rhat, expected_rhat, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(ess, expected_ess, rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("chains,draws", [(4, 500), (4, 750), (3, 11), (4, 9), (2, 1001), (1, 300), (4, 4)])
def test_vectorized_tail_ess_equals_arviz(chains, draws):
    from irt_pipeline.stats.diagnostics import tail_ess

    values = hard_draws(chains * draws + 1, chains, draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.array([az.ess(v, method="tail") for v in values], dtype=float)
    np.testing.assert_allclose(tail_ess(values), expected, rtol=1e-9, equal_nan=True)


def test_vectorized_diagnostics_are_nan_for_a_parameter_with_a_non_finite_draw():
    from irt_pipeline.stats.diagnostics import split_rhat_and_bulk_ess, tail_ess

    values = hard_draws(1, 4, 100)
    values[2, 1, 7] = np.nan
    rhat, ess = split_rhat_and_bulk_ess(values)
    tail = tail_ess(values)
    assert np.isnan(rhat[2]) and np.isnan(ess[2]) and np.isnan(tail[2])
    assert np.isfinite(rhat[[0, 1, 3]]).all() and np.isfinite(ess[[0, 1, 3]]).all() and np.isfinite(tail[[0, 1, 3]]).all()


# --- convergence_summary on synthetic draws --------------------------------------


def synthetic_idata(*, xi, mu=None, tau=None, diverging=None, energy=None, n_steps=None, attrs=None):
    rng = np.random.default_rng(0)
    shape = xi.shape[:2]
    posterior = {"xi": xi}
    dims = {"xi": ["legislator"]}
    if mu is not None:
        posterior["mu_party"] = mu
        posterior["sigma_party"] = np.abs(rng.normal(1.0, 0.1, size=mu.shape))
        dims.update(mu_party=["party"], sigma_party=["party"])
    if tau is not None:
        posterior["tau"] = tau
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
    summary = convergence_summary(idata, GATED)
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
    summary = convergence_summary(synthetic_idata(xi=xi, mu=iid(4, 2)), GATED)
    assert summary["rhat_xi_max"] > 1.2
    assert summary["worst_xi"] == "L3"
    assert summary["rhat_party_max"] < 1.01  # the party parameters are summarized separately
    assert by_gate(summary)["rhat_xi"]["passed"] is False


def test_shifted_party_mean_shows_in_the_party_summary_only():
    mu = iid(5, 2)
    mu[2:, :, 1] += 2.0
    summary = convergence_summary(synthetic_idata(xi=iid(6, 4), mu=mu), GATED)
    assert summary["rhat_party_max"] > 1.2
    assert summary["rhat_party_worst"] == "mu_party[Republican]"
    assert summary["rhat_xi_max"] < 1.01
    failing = [n for n, g in by_gate(summary).items() if not g["passed"]]
    assert "rhat_party" in failing and "rhat_xi" not in failing and "ess_bulk_xi" not in failing


def test_a_stuck_scalar_parameter_shows_in_its_own_group():
    tau = np.random.default_rng(13).normal(5.0, 0.1, size=(CHAINS, DRAWS))
    tau[0] += 1.0
    summary = convergence_summary(synthetic_idata(xi=iid(14, 3), mu=iid(15, 2), tau=tau), GATED)
    assert summary["rhat_tau_max"] > 1.2 and summary["rhat_tau_worst"] == "tau"
    assert summary["ess_tail_tau_min"] < summary["ess_tail_xi_min"]
    failing = [n for n, g in by_gate(summary).items() if not g["passed"]]
    assert "rhat_tau" in failing and "rhat_xi" not in failing and "rhat_party" not in failing


def test_autocorrelated_draws_have_low_ess():
    rng = np.random.default_rng(7)
    xi = np.empty((CHAINS, DRAWS, 3))
    xi[:, 0] = rng.normal(size=(CHAINS, 3))
    for t in range(1, DRAWS):  # AR(1), rho = 0.95: ESS about draws * 0.05 / 1.95
        xi[:, t] = 0.95 * xi[:, t - 1] + rng.normal(scale=math.sqrt(1 - 0.95**2), size=(CHAINS, 3))
    summary = convergence_summary(synthetic_idata(xi=xi), GATED)
    assert summary["ess_bulk_xi_min"] < 200
    assert by_gate(summary)["ess_bulk_xi"]["passed"] is False


def test_divergences_are_counted_over_all_chains():
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging[0, 10] = diverging[2, 20] = diverging[2, 21] = True
    summary = convergence_summary(synthetic_idata(xi=iid(8, 3), diverging=diverging), GATED)
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
    summary = convergence_summary(synthetic_idata(xi=iid(9, 3), energy=energy), GATED)
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
    summary = convergence_summary(synthetic_idata(xi=iid(11, 3), energy=rng.normal(size=(CHAINS, DRAWS))), GATED)
    # iid energy: E-BFMI near 2 on every chain
    assert all(1.6 < v < 2.4 for v in summary["ebfmi_per_chain"])
    assert by_gate(summary)["ebfmi"]["passed"] is True


def test_timings_missing_from_attrs_are_nan_and_summary_is_json_ready():
    import json

    summary = convergence_summary(synthetic_idata(xi=iid(12, 2)), GATED)
    assert math.isnan(summary["compile_seconds"]) and math.isnan(summary["sampling_seconds"])
    # No party parameters or tau in this posterior: NaN, so their gates fail.
    assert math.isnan(summary["rhat_party_max"]) and summary["rhat_party_worst"] == "missing"
    assert by_gate(summary)["rhat_tau"]["passed"] is False
    text = json.dumps(summary)  # plain Python types only
    assert json.loads(text)["chains"] == CHAINS


def test_a_party_level_with_no_party_has_nothing_to_judge_and_the_guard_checks_that_claim():
    """A nonpartisan chamber's hierarchical posterior: mu_party and sigma_party of shape
    (0,). Its party gates do not apply (and pass); every other gate is judged as ever; a
    stored record that says a gate does not apply is believed only where its own summary
    lists the group as empty."""
    empty = np.zeros((CHAINS, DRAWS, 0))
    idata = az.from_dict(
        posterior={"xi": iid(7, 5), "mu_party": empty, "sigma_party": empty, "tau": iid(8)},
        sample_stats={"diverging": np.zeros((CHAINS, DRAWS), bool), "energy": iid(9), "n_steps": np.full((CHAINS, DRAWS), 7)},
        coords={"legislator": [f"L{i}" for i in range(5)], "party": []},
        dims={"xi": ["legislator"], "mu_party": ["party"], "sigma_party": ["party"]},
    )
    summary = convergence_summary(idata, GATED)
    assert summary["empty_groups"] == ["party"] and math.isnan(summary["rhat_party_max"])
    gates = by_gate(summary)
    assert {n for n, g in gates.items() if not g["applies"]} == {"rhat_party", "ess_bulk_party", "ess_tail_party"}
    assert all(g["passed"] for g in gates.values())
    from irt_pipeline.stats import stopping

    assert stopping.problems(summary, GATED) == []  # the sampler does not wait for it either
    record = {**summary, "posterior_id": "P1", "gates": list(gates.values()), "gates_passed": True}
    assert verify_gates(record, "P1", GATES) == []
    # the same "does not apply" where the summary has the group's values: judged, and refused
    assert verify_gates({**record, "empty_groups": []}, "P1", GATES) == [
        "rhat_party=nan (needs < 1.01)", "ess_bulk_party=nan (needs > 400)", "ess_tail_party=nan (needs > 400)"]
    # a group with parameters is judged: a stuck xi still fails
    xi = iid(10, 5)
    xi[0] += 3.0
    idata.posterior["xi"] = (("chain", "draw", "legislator"), xi)
    assert by_gate(convergence_summary(idata, GATED))["rhat_xi"]["passed"] is False
