"""The dynamic model (stats/models/dynamic.py) on small panels: the panel's structure
(who walks, who enters, gaps in service), the numba kernel against the PyMC graph
(log-density and gradient at random points), against finite differences, in single
precision against double, through the C callbacks, the gauge's inertness, the starts,
and the reported values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kernel_checks import graph_logp_dlogp

from irt_pipeline.stats import callbacks
from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models import dynamic
from irt_pipeline.stats.priors import Gamma, HalfNormal, Normal


def session_matrix(ids, parties, m, rng, label) -> VoteMatrix:
    n = len(ids)
    votes = rng.integers(0, 2, size=(n, m)).astype(float)
    votes[rng.uniform(size=(n, m)) < 0.2] = np.nan
    legislators = pd.DataFrame({"legislator_id": ids, "legislator_name": "x", "party": parties})
    return VoteMatrix(legislators, pd.DataFrame({"roll_call_id": [f"{label}-R{j}" for j in range(m)]}), votes)


def small_panel(seed: int = 0):
    """Four sessions: members who stay, leave, come back after a gap, an independent,
    a party too small for its own group, a party with no entrant in some sessions."""
    rng = np.random.default_rng(seed)
    d, r = "Democrat", "Republican"
    sessions = [
        (["A", "B", "C", "D", "E", "F", "G", "H", "I"], [d, d, d, r, r, r, "Independent", d, r]),
        (["A", "B", "D", "E", "F", "J", "K", "H", "I"], [d, d, r, r, r, d, r, d, r]),
        (["A", "B", "C", "D", "E", "J", "K", "L"], [d, d, d, r, r, d, r, "Green"]),  # C back after a gap
        (["A", "D", "E", "J", "K", "M", "N", "I"], [d, r, r, d, r, d, r, r]),
    ]
    matrices = [session_matrix(ids, parties, 5 + t, rng, f"s{t}") for t, (ids, parties) in enumerate(sessions)]
    return matrices, [f"s{t}" for t in range(len(sessions))]


def bound_of(matrices, sessions, noncentered=False):
    scores = [np.linspace(-1.5, 1.5, m.shape[0]) for m in matrices]
    return dynamic.bind(matrices, sessions, scores=scores, time=[0, 1, 2, 4], noncentered=noncentered)


DESIGNS = pytest.mark.parametrize("noncentered", [False, True], ids=["centered", "noncentered"])


def kernel_logp(bound, x, single=False):
    grad = np.empty_like(x)
    data = bound.kernel_data
    votes = data.votes if single else data.votes.astype(np.float64)
    return dynamic.logp_grad(x, grad, votes, data.ints, data.floats), grad


def kernel_minus_graph(matrices, bound, points) -> list[float]:
    """Kernel log-density minus the graph's at each point, relative to its size;
    gradients must agree."""
    model = dynamic.graph(matrices, bound)
    assert [v.name for v in model.value_vars] == list(bound.coordinates)
    logp, dlogp = graph_logp_dlogp(model)
    offsets = []
    for x in points:
        point = {name: np.asarray(x[where]) for name, where in bound.coordinates.items()}
        value, grad = kernel_logp(bound, x)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-10)
        offsets.append((value - logp(point)) / max(1.0, abs(value)))
    return offsets


def test_the_panel_knows_who_walks_who_enters_and_the_gaps():
    matrices, sessions = small_panel()
    panel = dynamic.build_panel(matrices, sessions, time=[0, 1, 2, 4])
    t, n, u, kk, m = panel.shape
    assert (t, n, m) == (4, 34, 5 + 6 + 7 + 8)
    ids = np.array(panel.members)[panel.member]
    assert list(ids[panel.entrant]) == list("ABCDEFGHI") + ["J", "K", "L", "M", "N"]
    # C serves s0 and s2: one step of dt 2; I serves s0, s1 and s3 (time 4): dt 1 then 3
    steps = {(ids[p], panel.session_of_row()[c]): dt for p, c, dt in zip(panel.link_prev, panel.link_cur, panel.link_dt)}
    assert steps[("C", 2)] == 2 and steps[("I", 1)] == 1 and steps[("I", 3)] == 3
    assert len(panel.link_prev) == n - len(panel.entrant)
    careers = dict(zip(panel.members, np.diff(panel.member_offsets)))
    assert {m: c for m, c in careers.items() if c > 1} == {
        "A": 4, "B": 3, "C": 2, "D": 4, "E": 4, "F": 2, "H": 2, "I": 3, "J": 3, "K": 3}
    assert kk == 10
    # Democrats and Republicans have their own groups; the independent and the Green
    # are "other"; a unit exists only where a group has entrants (s0 both, s1 both, s3 one each)
    assert panel.groups == ("Democrat", "Republican")
    assert set(panel.party[panel.group == -1]) == {"Independent", "Green"}
    assert [tuple(x) for x in panel.units] == [(0, 0), (0, 1), (0, 3), (1, 0), (1, 1), (1, 3)]
    assert (panel.entrant_unit == -1).sum() == 2


@DESIGNS
def test_kernel_matches_pymc_graph(noncentered):
    matrices, sessions = small_panel()
    bound = bound_of(matrices, sessions, noncentered)
    assert np.any(bound.layout.shear != 0)
    rng = np.random.default_rng(1)
    offsets = kernel_minus_graph(matrices, bound, [rng.normal(size=bound.ndim) for _ in range(3)])
    assert np.ptp(offsets) < 1e-12 and abs(offsets[0]) < 1e-9


def test_the_priors_table_is_what_both_the_graph_and_the_kernel_read(monkeypatch):
    matrices, sessions = small_panel(2)
    points = [np.random.default_rng(s).normal(size=bound_of(matrices, sessions).ndim) * 0.5 for s in range(3)]
    before = [kernel_logp(bound_of(matrices, sessions), x)[0] for x in points]
    changed = {
        "gauge": Normal(0.2, 1.5), "alpha": Normal(0.5, 3.0), "tau": HalfNormal(1.5),
        "mu_party": Normal(0.2, 1.5), "sigma_party": Gamma(3.0, 5.0), "xi_other": Normal(-0.1, 1.2),
        "omega": Gamma(3.0, 7.0),
    }
    for name, prior in changed.items():  # each entry on its own changes the density
        monkeypatch.setattr(dynamic, "PRIORS", {**dynamic.PRIORS, name: prior})
        assert abs(kernel_logp(bound_of(matrices, sessions), points[0])[0] - before[0]) > 1e-3, name
    monkeypatch.setattr(dynamic, "PRIORS", changed)
    bound = bound_of(matrices, sessions)
    offsets = kernel_minus_graph(matrices, bound, points)
    assert np.ptp(offsets) < 1e-12 and abs(offsets[0]) < 1e-9


@DESIGNS
def test_kernel_gradient_matches_finite_differences(noncentered):
    matrices, sessions = small_panel(3)
    bound = bound_of(matrices, sessions, noncentered)
    rng = np.random.default_rng(2)
    x = bound.start(rng) + rng.normal(0.0, 0.3, bound.ndim)  # moderate gradients
    _, grad = kernel_logp(bound, x)
    eps = 1e-6
    numeric = np.array([
        (kernel_logp(bound, x + eps * e)[0] - kernel_logp(bound, x - eps * e)[0]) / (2 * eps) for e in np.eye(bound.ndim)
    ])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-5)


def test_single_precision_is_the_double_density_up_to_float32_rounding():
    from simulated_panel import panel

    matrices, truth = panel(n_sessions=3, n_seats=60, n_roll_calls=150, seed=4)
    bound = dynamic.bind(matrices, sorted(truth["session"].unique()))
    rng = np.random.default_rng(5)
    for _ in range(2):
        x = bound.start(rng)
        x[bound.coordinates["c"]] += rng.normal(0, 0.1, len(bound.layout.panel.member))
        single, grad_single = kernel_logp(bound, x, single=True)
        double, grad_double = kernel_logp(bound, x)
        assert abs(single - double) < 1e-7 * abs(double)
        np.testing.assert_array_less(np.abs(grad_single - grad_double), 5e-5 * (1 + np.abs(grad_double)))


def gauge_logp(w):
    """The gauge's density at w, up to a constant: w iid PRIORS["gauge"] (a Normal)."""
    gauge = dynamic.PRIORS["gauge"]
    return -0.5 * np.sum(((w - gauge.mu) / gauge.sigma) ** 2)


def test_the_gauge_is_inert():
    """An affine move of w leaves xi and every model term alone: the density changes by
    the gauge's own density only."""
    matrices, sessions = small_panel(5)
    bound = bound_of(matrices, sessions)
    c, panel = bound.coordinates["c"], bound.layout.panel
    rng = np.random.default_rng(6)
    for _ in range(3):
        x = rng.normal(size=bound.ndim)
        w = panel.to_w(x[c])
        moved = x.copy()
        moved[c] = panel.to_c(-0.4 + 2.3 * w)
        np.testing.assert_allclose(bound.layout.reported(moved)["xi"], bound.layout.reported(x)["xi"], atol=1e-12)
        change = kernel_logp(bound, moved)[0] - kernel_logp(bound, x)[0]
        assert change == pytest.approx(gauge_logp(-0.4 + 2.3 * w) - gauge_logp(w), abs=1e-9)


def test_a_sessions_shift_and_stretch_reach_only_the_walk_and_the_entry_level():
    """Roll calls read each session's positions standardized within it: shifting and
    stretching one session's positions (centered coordinates: w = B c directly) leaves
    the gradient of every roll call's coordinates and discrimination scale unchanged,
    and the density changes by exactly the walk's, the entry level's and the gauge's
    change (computed here from the positions, not the kernel)."""
    from scipy import stats as st

    matrices, sessions = small_panel(7)
    bound = bound_of(matrices, sessions)  # centered
    layout, panel, c = bound.layout, bound.layout.panel, bound.coordinates["c"]
    s = layout.slices()
    rows = slice(panel.rows[1], panel.rows[2])
    rng = np.random.default_rng(8)
    x = bound.start(rng)

    def placement_terms(x):
        """log densities that see where sessions sit: gauge, walk, entry level."""
        w = panel.to_w(x[c])
        xi = (w - w.mean()) / w.std()
        omega = np.exp(x[s["omega_log__"]])
        mu, sigma = x[s["mu_party"]], np.exp(x[s["sigma_party_log__"]])
        grouped = panel.entrant_unit >= 0
        unit = panel.entrant_unit[grouped]
        other = dynamic.PRIORS["xi_other"]
        return (
            gauge_logp(w)
            + st.norm.logpdf(xi[panel.link_cur], xi[panel.link_prev], omega * np.sqrt(panel.link_dt)).sum()
            + st.norm.logpdf(xi[panel.entrant[grouped]], mu[unit], sigma[panel.units[unit, 0]]).sum()
            + st.norm.logpdf(xi[panel.entrant[~grouped]], other.mu, other.sigma).sum()
        )

    w = panel.to_w(x[c])
    w[rows] = 0.7 + 1.6 * w[rows]
    moved = x.copy()
    moved[c] = panel.to_c(w)
    (before, grad_before), (after, grad_after) = kernel_logp(bound, x), kernel_logp(bound, moved)
    roll_calls = np.r_[s["a"], s["tau_log__"], s["beta"]]
    np.testing.assert_allclose(grad_after[roll_calls], grad_before[roll_calls], rtol=1e-9, atol=1e-9)
    assert after - before == pytest.approx(placement_terms(moved) - placement_terms(x), abs=1e-8)
    assert abs(after - before) > 1.0  # the move is seen (by the walk and the gauge)


def test_the_position_coordinates_are_each_careers_orthonormal_dct():
    """B is orthogonal (so the gauge and the Jacobian are unchanged) and a member's
    mode 0 is their career mean times sqrt(career length)."""
    matrices, sessions = small_panel(4)
    panel = dynamic.build_panel(matrices, sessions)
    b = dynamic.basis_matrix(panel)
    np.testing.assert_allclose(b.T @ b, np.eye(len(panel.member)), atol=1e-12)
    w = np.random.default_rng(0).normal(size=len(panel.member))
    c = panel.to_c(w)
    np.testing.assert_allclose(panel.to_w(c), w, atol=1e-12)
    q = panel.members.index("A")  # four sessions
    rows = panel.member_rows[panel.member_offsets[q]: panel.member_offsets[q + 1]]
    assert c[panel.member_offsets[q]] == pytest.approx(w[rows].mean() * 2.0)


@DESIGNS
def test_callbacks_and_expand_equal_the_kernel_and_the_layout(noncentered):
    matrices, sessions = small_panel(7)
    bound = bound_of(matrices, sessions, noncentered)
    logp = callbacks.compiled(dynamic.SPEC.logp)
    expand = callbacks.compiled(dynamic.SPEC.expand, expand=True)
    n_expanded = int(sum(np.prod(s, dtype=int) for s in bound.reported.values()))
    meta = bound.kernel_data.meta(bound.ndim, n_expanded)
    x = bound.start(np.random.default_rng(8))
    status, value, grad = callbacks.evaluate_logp(logp, meta, x)
    reference, reference_grad = kernel_logp(bound, x, single=True)
    assert status == 0 and value == pytest.approx(reference, rel=1e-12)
    np.testing.assert_allclose(grad, reference_grad, rtol=1e-12, atol=1e-12)
    status, out = callbacks.evaluate_expand(expand, meta, x, n_expanded)
    reported = bound.layout.reported(x)
    assert status == 0 and list(reported) == list(bound.reported)
    np.testing.assert_allclose(out, np.concatenate([np.ravel(v) for v in reported.values()]), rtol=1e-12, atol=1e-14)
    assert callbacks.evaluate_logp(logp, meta, x[:-1])[0] == callbacks.WRONG_SIZE


def test_start_is_aligned_oriented_and_round_trips():
    """Session scores given with arbitrary sign and scale come back on one scale:
    every session's start agrees with the truth, Republicans above Democrats."""
    from simulated_panel import on_panel_scale, panel

    matrices, truth = panel(n_sessions=4, n_seats=40, n_roll_calls=80, seed=9, still_sd=0.0, mover_share=0.0)
    z = on_panel_scale(truth)
    rows = np.cumsum([0] + [m.shape[0] for m in matrices])
    scrambled = [(-1) ** t * (2.0 + t) * z[rows[t]: rows[t + 1]] + t for t in range(4)]
    aligned = np.concatenate(dynamic.aligned_scores(matrices, scrambled))
    np.testing.assert_allclose(aligned, z, atol=0.2)  # the long mover makes the map imperfect
    assert np.corrcoef(aligned, z)[0, 1] > 0.99
    starts = []
    for noncentered in (False, True):  # the same start in either coordinates
        bound = dynamic.bind(matrices, sorted(truth["session"].unique()), noncentered=noncentered)
        x = bound.start(np.random.default_rng(0))
        value, grad = kernel_logp(bound, x)
        assert np.isfinite(value) and np.all(np.isfinite(grad))
        starts.append(bound.layout.reported(x)["xi"])
    np.testing.assert_allclose(starts[0], starts[1], atol=1e-12)
    out = bound.layout.reported(x)
    assert out["xi"].mean() == pytest.approx(0.0, abs=1e-12) and out["xi"].std() == pytest.approx(1.0)
    assert np.corrcoef(out["xi"], z)[0, 1] > 0.95
    assert all(np.shape(out[name]) == shape for name, shape in bound.reported.items())


def grown(matrices, session: int, share: float, seed: int):
    """The panel with `share` more roll calls in one session (new columns, new ids)."""
    rng = np.random.default_rng(seed)
    matrix = matrices[session]
    extra = max(1, int(round(share * matrix.shape[1])))
    votes = rng.integers(0, 2, size=(matrix.shape[0], extra)).astype(float)
    ids = [f"{r}-new" for r in matrix.roll_calls["roll_call_id"][:extra]]
    bigger = VoteMatrix(
        matrix.legislators, pd.concat([matrix.roll_calls, pd.DataFrame({"roll_call_id": ids})], ignore_index=True),
        np.hstack([matrix.votes, votes]),
    )
    return [bigger if t == session else m for t, m in enumerate(matrices)]


def test_a_warm_start_keeps_every_stored_coordinate_and_starts_the_new_ones():
    from types import SimpleNamespace

    matrices, sessions = small_panel(11)
    time = [0, 1, 2, 4]
    previous = dynamic.bind(matrices, sessions, scores=[np.linspace(-1.5, 1.5, m.shape[0]) for m in matrices], time=time)
    rng = np.random.default_rng(12)
    draws = np.array([previous.start(rng) for _ in range(6)])
    xi = np.array([previous.layout.reported(x)["xi"] for x in draws])
    state = SimpleNamespace(starts=draws, mean=draws.mean(0), sd=draws.std(0) + 0.01, xi_mean=xi.mean(0))
    bigger = grown(matrices, 2, 0.3, seed=13)
    bound, initial_point, (center, scale) = dynamic.warm_bind(previous, state, bigger, sessions, time=time)
    assert bound.ndim == previous.ndim + 2 * 2  # two roll calls more: a and beta
    old, new = dynamic.coordinate_labels(previous), dynamic.coordinate_labels(bound)
    assert set(old) <= set(new) and len(set(new) - set(old)) == 4
    x = initial_point(7)
    where = {label: i for i, label in enumerate(new)}
    # a stored draw, coordinate for coordinate
    matches = [i for i in range(len(draws)) if np.allclose(x[[where[label] for label in old]], draws[i], rtol=0, atol=1e-12)]
    assert len(matches) == 1
    assert np.all(np.isfinite(kernel_logp(bound, x)[0])) and np.all(scale > 0)
    np.testing.assert_allclose(center[[where[label] for label in old]], state.mean, rtol=1e-12, atol=1e-12)
    assert bound.layout.reported(x)["xi"] == pytest.approx(previous.layout.reported(draws[matches[0]])["xi"])
    # stored roll calls keep their shear, so a and beta mean what they meant
    shear = dict(zip(bound.coords["roll_call"], bound.layout.shear))
    assert all(shear[r] == c for r, c in zip(previous.coords["roll_call"], previous.layout.shear))


def relabeled(matrix: VoteMatrix, labels: dict) -> VoteMatrix:
    """The matrix with its party labels replaced (`labels`: old -> new; "" blanks them all)."""
    party = matrix.legislators["party"]
    party = party.map(labels).fillna(party) if isinstance(labels, dict) else party.map(lambda _: labels)
    return VoteMatrix(matrix.legislators.assign(party=party), matrix.roll_calls, matrix.votes)


def test_each_session_keeps_its_own_orientation_rule_and_a_panel_without_one_is_refused():
    """A panel across two eras is oriented by each session's own pair of party poles
    (every session weighs, not only those of the commonest pair); declarations
    (orientation.csv's rows, as a session's partition reads them) decide where they name
    members and turn the whole scale; chains on the wrong side are the ones reflected; a
    nonpartisan panel with no declaration is refused, naming the file to write."""
    from simulated_panel import on_panel_scale, panel

    from irt_pipeline.errors import BadInput
    from irt_pipeline.stats.orientation import orientation

    matrices, truth = panel(n_sessions=4, n_seats=40, n_roll_calls=80, seed=9, still_sd=0.0, mover_share=0.0)
    sessions = sorted(truth["session"].unique())
    rows = np.cumsum([0] + [m.shape[0] for m in matrices])
    z = on_panel_scale(truth)  # Republicans positive, as the Federalists are in DW-NOMINATE's sign
    eras = [relabeled(m, {"Republican": "Federalist", "Democrat": "Democratic-Republican"}) if t < 2 else m
            for t, m in enumerate(matrices)]
    rule = dynamic.panel_rule(eras, sessions)
    assert all(np.any(rule.weights[rows[t]: rows[t + 1]]) for t in range(4))
    assert rule.weights[rule.weights > 0].sum() == pytest.approx(1.0)
    assert rule.weights[rule.weights < 0].sum() == pytest.approx(-1.0)
    assert "Federalist (+) against Democratic-Republican (-) (2 of 4 sessions)" in rule.rule
    bound = dynamic.bind(eras, sessions, orientation=rule)
    start = bound.layout.reported(bound.start(np.random.default_rng(0)))["xi"]
    assert np.corrcoef(start, z)[0, 1] > 0.95
    assert bound.attrs["orientation_rule"] == rule.rule and np.array_equal(bound.orientation, rule.weights)
    draws = np.stack([np.tile(start, (5, 1)), np.tile(-start, (5, 1))])  # (chains, draws, N): chain 1 mirrored
    assert dynamic.reflected_chains(draws, bound.orientation) == [1]

    # a Democrat declared on the positive side in every session turns the scale
    democrat = truth.loc[truth["party"] == "Democrat"].groupby("legislator_id").size().idxmax()
    declared = [{"session": "*", "chamber": "Senate", "legislator_id": democrat, "side": "+"}]
    rules = {s: orientation(m.legislators["legislator_id"], m.legislators["party"], s, "Senate", declared)
             for s, m in zip(sessions, matrices)}
    turned = dynamic.panel_rule(matrices, sessions, rules)
    assert "declared in orientation.csv" in turned.rule and turned.poles is None
    bound = dynamic.bind(matrices, sessions, orientation=turned)
    assert np.corrcoef(bound.layout.reported(bound.start(np.random.default_rng(0)))["xi"], z)[0, 1] < -0.95

    # nonpartisan: refused without a declaration; a declaration in one session orients it
    blank = [relabeled(m, "") for m in matrices]
    with pytest.raises(BadInput, match="orientation.csv") as refused:
        dynamic.panel_rule(blank, sessions, where="chamber=Senate")
    assert refused.value.where == "chamber=Senate"
    one = {s: None for s in sessions}
    one[sessions[1]] = orientation(blank[1].legislators["legislator_id"], blank[1].legislators["party"], sessions[1],
                                   "Senate", [dict(declared[0], session=sessions[1])])
    partial = dynamic.panel_rule(blank, sessions, one)
    assert np.flatnonzero(partial.weights).tolist() == [rows[1] + list(blank[1].legislators["legislator_id"]).index(democrat)]
    assert f"no rule in {sessions[0]}, {sessions[2]}, {sessions[3]}" in partial.rule
