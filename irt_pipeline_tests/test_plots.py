"""The plots shown in asset metadata: valid PNGs, one forest row per legislator in rank
order and party colours, the mixing plot of the legislator asked for, the common
scale's polarization chart and trajectories."""

from __future__ import annotations

import base64
import io

import arviz as az
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from irt_pipeline import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


POLES = ("Republican", "Democrat")  # (conservative, liberal)


def rankings_frame(n_rep: int, n_dem: int, n_ind: int = 1, seed: int = 0) -> pd.DataFrame:
    """A rankings-shaped table (the rankings asset's columns)."""
    rng = np.random.default_rng(seed)
    party = ["Republican"] * n_rep + ["Democrat"] * n_dem + ["Independent"] * n_ind
    n = len(party)
    mean = np.where(np.array(party) == "Republican", 1.0, -1.0) + rng.normal(0, 0.4, n)
    mean[np.array(party) == "Independent"] = 0.0
    sd = rng.uniform(0.05, 0.3, n)
    table = pd.DataFrame(
        {
            "legislator_id": [f"L{i:03d}" for i in range(n)],
            "name": [f"Member {i:03d}" for i in range(n)],
            "party": party,
            "xi_mean": mean,
            "xi_sd": sd,
            "xi_hdi_low": mean - 1.9 * sd,
            "xi_hdi_high": mean + 1.9 * sd,
        }
    )
    table = table.sort_values("xi_mean", ascending=False).reset_index(drop=True)
    table["rank"] = np.arange(1, n + 1)
    return table


def decode_png(data: bytes) -> np.ndarray:
    assert data.startswith(PNG_SIGNATURE)
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def test_forest_plot_has_one_row_per_legislator_ranked_top_down():
    table = rankings_frame(27, 12)
    # shuffled input: the plot orders by rank itself
    fig = plots.forest_plot(table.sample(frac=1, random_state=1), title="Senate demo")
    ax = fig.axes[0]
    ticks = ax.get_yticks()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == len(table) == 40
    # the highest row is rank 1, the lowest the last rank
    by_height = [label for _, label in sorted(zip(ticks, labels), reverse=True)]
    assert by_height == table.sort_values("rank")["name"].tolist()


def test_forest_plot_colours_each_party_and_draws_every_interval():
    table = rankings_frame(30, 14, n_ind=1)
    ax = plots.forest_plot(table).axes[0]
    points = {}
    for container in ax.containers:  # one errorbar per party
        line, _caps, (bars,) = container
        party = container.get_label().split(" (")[0]
        points[party] = (line.get_xdata(), to_hex(line.get_color()), bars.get_segments())
    assert set(points) == {"Republican", "Democrat", "Independent"}
    assert points["Republican"][1] == plots.PARTY_COLORS["Republican"]
    assert points["Democrat"][1] == plots.PARTY_COLORS["Democrat"]
    assert points["Independent"][1] == plots.OTHER_COLOR
    for party, (xs, _color, segments) in points.items():
        rows = table[table["party"] == party]
        assert sorted(xs) == pytest.approx(sorted(rows["xi_mean"]))
        # each horizontal bar spans that legislator's HDI
        spans = sorted((seg[0][0], seg[1][0]) for seg in segments)
        expected = sorted(zip(rows["xi_hdi_low"], rows["xi_hdi_high"]))
        assert np.allclose(spans, expected)


def test_forest_plot_png_is_valid_and_grows_with_the_chamber():
    small = decode_png(plots.png_bytes(plots.forest_plot(rankings_frame(27, 12))))
    house = decode_png(plots.png_bytes(plots.forest_plot(rankings_frame(300, 149))))
    assert small.ndim == 3 and small.shape[2] in (3, 4)
    assert house.shape[0] > 3 * small.shape[0]  # rows stay readable in a 450-member House
    assert house.shape[1] == small.shape[1]
    # not a blank canvas: the party colours are in it
    red = np.array([0xC0, 0x39, 0x2B]) / 255
    assert (np.abs(house[..., :3] - red).max(axis=-1) < 0.02).sum() > 100


def test_mixing_plot_shows_the_asked_legislator_per_chain():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(4, 200, 3))
    draws[:, :, 1] += np.arange(4)[:, None]  # L1: chains stuck at different levels
    idata = az.from_dict(
        posterior={"xi": draws}, coords={"legislator": ["L0", "L1", "L2"]}, dims={"xi": ["legislator"]}
    )
    fig = plots.mixing_plot(idata, "L1", title="worst-mixing ideal point: L1")
    trace_ax, rank_ax = fig.axes
    lines = trace_ax.get_lines()
    assert len(lines) == 4
    for chain, line in enumerate(lines):
        assert np.allclose(line.get_ydata(), draws[chain, :, 1])
    assert trace_ax.get_ylabel() == "xi[L1]"
    # rank histograms: one set of bars per chain; stuck chains put their draws at
    # opposite ends of the pooled ranks, so chain 0's mass sits left of chain 3's
    heights = np.array([p.get_height() for p in rank_ax.patches]).reshape(4, -1)
    assert heights.shape[1] >= 5
    centers = np.array([p.get_x() + p.get_width() / 2 for p in rank_ax.patches]).reshape(4, -1)
    mass_center = (heights * centers).sum(axis=1) / heights.sum(axis=1)
    assert mass_center[0] < mass_center[1] < mass_center[2] < mass_center[3]
    decode_png(plots.png_bytes(fig))


def test_markdown_image_round_trips_the_png():
    png = plots.png_bytes(plots.forest_plot(rankings_frame(5, 4)))
    text = plots.markdown_image(png, "forest plot")
    prefix = "![forest plot](data:image/png;base64,"
    assert text.startswith(prefix) and text.endswith(")")
    assert base64.b64decode(text[len(prefix) : -1]) == png


def common_scale_frames():
    """Party medians, gap and legislator-session rows of a tiny linked chamber."""
    from simulated import drifting_careers, simulated_posteriors

    from irt_pipeline.stats import common_scale as cs

    scale = cs.link_sessions(simulated_posteriors(drifting_careers(n_seats=30, n_sessions=4, seed=2), seed=2))
    return scale, cs.party_medians(scale, POLES), cs.party_gap(scale, *POLES), cs.legislator_sessions(scale), cs.careers(scale)


def test_polarization_plot_draws_each_party_median_per_session_and_the_gap():
    scale, medians, gap, _, _ = common_scale_frames()
    fig = plots.polarization_plot(medians, gap, title="Senate")
    top, bottom = fig.axes
    assert [t.get_text() for t in bottom.get_xticklabels()] == scale.linked
    for party in ("Democrat", "Republican"):
        (line,) = [c[0] for c in top.containers if c.get_label() == f"{party}: median"]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), medians[medians["party"] == party]["median"])
        assert to_hex(line.get_color()) == plots.PARTY_COLORS[party]
    np.testing.assert_allclose(np.asarray(bottom.lines[0].get_ydata(), float), gap["gap_mean"])
    assert decode_png(plots.png_bytes(fig)).shape[1] == 600


def test_trajectories_plot_draws_the_legislators_asked_for_with_names_apart():
    scale, _, _, positions, careers = common_scale_frames()
    from irt_pipeline.stats.common_scale import long_serving

    chosen = long_serving(careers, POLES, per_party=2)
    assert len(chosen) == 4 and careers.set_index("legislator_id").loc[chosen, "sessions"].min() > 1
    ax = plots.trajectories_plot(positions, scale.linked, chosen).axes[0]
    assert len(ax.containers) == 4
    names = sorted(ax.texts, key=lambda t: t.get_position()[1])
    assert len(names) == 4
    heights = np.array([t.get_position()[1] for t in names])
    assert np.all(np.diff(heights) >= 0.04 * np.ptp(ax.get_ylim()))
