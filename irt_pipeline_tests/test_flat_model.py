"""The flat model (its kernel == its graph: test_kernel_graph.py): a standardized
scale oriented by party, chain by chain; the PCA extremes rank at the ends."""

from __future__ import annotations

import json

import kernel_checks
import numpy as np
import pytest
from simulated import hierarchical_chamber

from irt_pipeline.stats.matrix import VoteMatrix
from irt_pipeline.stats.models import flat
from irt_pipeline.stats.pca import default_weights, orient, pca_scores
from irt_pipeline.stats.rankings import posterior_legislators, rank_legislators
from irt_pipeline.stats.sampling import SamplerSettings, sample

PARTIES = np.array(
    ["Democrat", "Democrat", "Republican", "Republican", "Republican", "Independent",
     "Democrat", "Republican", "Democrat"]
)


def small_matrix(seed: int = 0, m: int = 6):
    return kernel_checks.small_matrix(seed, m, parties=PARTIES)


def kernel_logp(bound, x: np.ndarray):
    return kernel_checks.kernel_logp(flat.SPEC, bound, x)


PCA = np.array([-1.0, -0.5, 0.8, 1.2, 0.3, 0.0, -0.2, 2.0, -1.5])


def test_reported_ideal_points_are_standardized_and_start_around_the_oriented_pca(monkeypatch):
    from irt_pipeline.stats import starts

    matrix = small_matrix()
    bound = flat.bind(matrix, -PCA)  # a reflected PCA gives the same, oriented start
    oriented = (PCA - PCA.mean()) / PCA.std()
    chains = [bound.layout.reported(bound.start(np.random.default_rng(c))) for c in range(4)]
    for out in chains:  # each chain its own over-dispersed start, on the rule's side
        assert out["xi"].mean() == pytest.approx(0.0, abs=1e-12) and out["xi"].std() == pytest.approx(1.0)
        assert default_weights(PARTIES) @ out["xi"] >= 0 and out["tau"] > 0
        assert list(out) == list(bound.reported)
    assert min(np.ptp([c["xi"] for c in chains], axis=0)) > 0.1  # every member's start differs by chain
    monkeypatch.setattr(starts, "START_SPREAD", 0.0)  # without dispersion: the oriented PCA itself
    x = bound.start(np.random.default_rng(0))
    np.testing.assert_allclose(bound.layout.reported(x)["xi"], oriented, atol=1e-12)
    assert np.isfinite(kernel_logp(bound, x)[0])


def test_extreme_legislators_are_the_pca_extremes_among_members_voting_on_half_the_roll_calls():
    matrix = small_matrix(m=10)
    votes = np.where(np.isnan(matrix.votes), 1.0, matrix.votes)  # everyone votes on everything...
    votes[7, :6] = np.nan  # ...but Republican L7 only on 4 of 10 roll calls
    votes[8, :5] = np.nan  # Democrat L8 on exactly half
    matrix = VoteMatrix(matrix.legislators, matrix.roll_calls, votes)
    # L7 has the highest score but too few votes; L3 is the next Republican (the rule's
    # positive side: the party poles). L8 qualifies.
    weights = default_weights(PARTIES)
    assert flat.extreme_legislators(matrix, orient(PCA, weights), weights).tolist() == [3, 8]
    assert flat.extreme_legislators(matrix, orient(-PCA, weights), weights).tolist() == [3, 8]


@pytest.fixture(scope="module")
def small_fit():
    matrix, truth = hierarchical_chamber(24, 40, seed=7, sep=1.0, sd=0.3)
    pca = pca_scores(matrix)["pc1"].to_numpy()
    settings = SamplerSettings(chains=2, tune=200, draws=150, max_draws=150, seed=11)
    return matrix, pca, settings, sample(flat.SPEC, matrix, pca, settings)


def test_reflected_pca_start_gives_the_same_right_side_up_posterior(small_fit):
    matrix, pca, settings, idata = small_fit
    reflected = sample(flat.SPEC, matrix, -pca, settings)
    np.testing.assert_array_equal(reflected.posterior["xi"].values, idata.posterior["xi"].values)
    parties = matrix.legislators["party"].to_numpy()
    xi = idata.posterior["xi"].mean(("chain", "draw")).values
    assert xi[parties == "Republican"].mean() > 0 > xi[parties == "Democrat"].mean()
    assert json.loads(idata.attrs["reflected_draws"]) == {"xi": [0, 0]}
    draws = idata.posterior["xi"]
    np.testing.assert_allclose(draws.mean("legislator"), 0.0, atol=1e-12)
    np.testing.assert_allclose(draws.std("legislator"), 1.0)


def test_the_pca_extremes_rank_at_the_ends(small_fit):
    matrix, _, _, idata = small_fit
    table = rank_legislators(idata, posterior_legislators(idata)).set_index("legislator_id")
    n = len(table)
    assert table.loc[idata.attrs["extreme_conservative"], "rank"] <= 3
    assert table.loc[idata.attrs["extreme_liberal"], "rank"] >= n - 2


def test_a_chain_sampled_in_the_mirror_image_is_put_back_on_the_rules_side(small_fit, monkeypatch):
    """Every draw is folded onto the orientation rule's side (stats/orientation.py):
    a chain that settled in the mirror image comes back as the draws the others have."""
    from irt_pipeline.stats import stopping

    matrix, pca, settings, idata = small_fit
    parties = matrix.legislators["party"].to_numpy()
    real = stopping._first_draws

    def mirrored_chain_1(*args, **kwargs):  # what the sampler would hand over if chain 1 sat in the mirror
        trace = real(*args, **kwargs)
        for name in ("xi", "beta"):
            if name in trace.posterior:
                values = trace.posterior[name].values.copy()
                values[1] *= -1.0
                trace.posterior[name] = trace.posterior[name].copy(data=values)
        return trace

    monkeypatch.setattr(stopping, "_first_draws", mirrored_chain_1)
    folded = sample(flat.SPEC, matrix, pca, settings)
    assert json.loads(folded.attrs["reflected_draws"])["xi"] == [0, folded.posterior.sizes["draw"]]
    for name in ("xi", "beta", "alpha", "tau"):
        np.testing.assert_array_equal(folded.posterior[name].values, idata.posterior[name].values)
    xi = folded.posterior["xi"].values[1].mean(0)
    assert xi[parties == "Republican"].mean() > xi[parties == "Democrat"].mean()


def test_the_flat_prior_is_about_normal_0_1_on_each_member():
    """iid Normal positions standardized are uniform on {mean 0, sd 1}; one member's
    marginal is then (1 - x^2 / (n - 1))^((n - 4) / 2), second moment exactly 1: a
    per-member prior of about Normal(0, 1) strength, checked against standardized
    draws."""
    from few_votes import sphere_marginal_logpdf

    rng = np.random.default_rng(3)
    for n in (12, 40):
        grid = np.linspace(-np.sqrt(n - 1), np.sqrt(n - 1), 20001)
        density = np.exp(sphere_marginal_logpdf(grid, n))
        density /= density.sum()
        assert density @ grid**2 == pytest.approx(1.0, abs=2e-3)
        w = rng.standard_normal((40000, n))
        first = ((w - w.mean(axis=1, keepdims=True)) / w.std(axis=1, keepdims=True))[:, 0]
        for q in (0.9, 0.99):
            x = grid[np.searchsorted(np.cumsum(density), q)]
            assert np.quantile(first, q) == pytest.approx(x, abs=0.03)


@pytest.fixture(scope="module")
def cut_member_fit():
    """The 73rd Senate's first 100 roll calls (real votes), its most conservative
    member on PCA (among those voting on 90% of them) cut down to 5 votes; the flat
    model fitted to it."""
    from conftest import SHARED_VOTEVIEW as shared
    from few_votes import cut_votes

    from irt_pipeline.contract import conform
    from irt_pipeline.sources.voteview import read_voteview
    from irt_pipeline.stats.matrix import build_vote_matrix

    if not (shared / "S073_votes.csv").exists():
        pytest.skip(f"real Voteview files not found at {shared}")
    rows = conform(read_voteview(shared / "S073_votes.csv", shared / "S073_members.csv"))
    first = rows["roll_call_id"].drop_duplicates().iloc[:100]
    matrix, _ = build_vote_matrix(rows[rows["roll_call_id"].isin(first)])
    weights = default_weights(matrix.legislators["party"])
    pca = orient(pca_scores(matrix)["pc1"].to_numpy(), weights)
    share = np.isfinite(matrix.votes).mean(axis=1)
    member = int(np.flatnonzero(share >= 0.9)[np.argmax(pca[share >= 0.9])])
    cut = cut_votes(matrix, [member], 5, seed=1)
    settings = SamplerSettings(chains=2, tune=300, draws=500, max_draws=500, seed=5)
    return cut, member, sample(flat.SPEC, cut, pca_scores(cut)["pc1"].to_numpy(), settings)


def test_a_member_with_few_votes_is_shrunk_as_a_normal_prior_would_shrink_them(cut_member_fit):
    """A member left with 5 real votes sits where those votes and a per-member prior of
    the flat model's own (about Normal(0, 1)) put them, well inside where the votes
    alone, with no shrinkage, would let them run (toward the edge of the scale)."""
    from few_votes import member_posterior, sphere_marginal_logpdf

    cut, member, idata = cut_member_fit
    n, m = cut.shape
    grid = np.linspace(-np.sqrt(n - 1) + 1e-6, np.sqrt(n - 1) - 1e-6, 4001)
    alpha = idata.posterior["alpha"].values.reshape(-1, m)
    beta = idata.posterior["beta"].values.reshape(-1, m)
    own, _ = member_posterior(cut.votes[member], alpha, beta, lambda x: sphere_marginal_logpdf(x, n), grid)
    loose, _ = member_posterior(cut.votes[member], alpha, beta, lambda x: np.zeros_like(x), grid)
    fitted = float(idata.posterior["xi"].mean(("chain", "draw")).values[member])
    assert abs(fitted - own) < 0.25
    assert loose - fitted > 0.5
