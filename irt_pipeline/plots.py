"""Pictures of a partition's results, as PNG bytes for asset metadata.

Plain functions of frames and InferenceData: nothing here knows of Dagster. Figures are
built on matplotlib's Agg canvas directly (no pyplot, no global state), so they render
the same in a run worker, a test or a notebook, whatever MPLBACKEND says.

- `forest_plot(rankings)`: every legislator's posterior mean and 94% HDI, one row
  each, most conservative at the top, coloured by party (the orientation rule's poles
  red and blue, `party_color`).
- `mixing_plot(idata, legislator)`: trace and rank plot of one ideal point per chain
  (the worst-mixing one, for the diagnostics page).
- `polarization_plot(medians, gap)`: the chamber's party medians per session on the
  common scale with the members' interquartile bands, and the party gap with its 94%
  interval (stats/common_scale.py's party_medians and party_gap).
- `trajectories_plot(positions, legislator_ids)`: a few legislators' positions per
  session on the common scale, mean and 94% HDI.
- `plane_plot(rankings_2d)`: the two-dimensional model's legislators, dim 1 against
  dim 2, coloured by party, with 94% HDIs on both axes.
- `png_bytes(fig)`, `markdown_image(png, alt)`: PNG bytes, and a markdown image with a
  base64 data URI that the Dagster UI renders inside a `MetadataValue.md`.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CONSERVATIVE_COLOR, LIBERAL_COLOR = "#c0392b", "#2c5aa0"
PARTY_COLORS = {"Republican": CONSERVATIVE_COLOR, "Democrat": LIBERAL_COLOR}
OTHER_COLOR = "#7f7f7f"
DPI = 80


def party_color(party: str, poles=()) -> str:
    """The colour of a party: the partition's conservative pole red and its liberal pole
    blue (poles: (conservative, liberal) labels, as the orientation rule names them),
    else Republicans red and Democrats blue, everyone else grey."""
    if poles and party in poles:
        return CONSERVATIVE_COLOR if party == poles[0] else LIBERAL_COLOR
    return PARTY_COLORS.get(party, OTHER_COLOR)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def rank_labels(table: pd.DataFrame) -> list[str]:
    """The forest plot's row labels: the name, and the rank's 94% interval where the
    table has it ("Warren (rank 98-100)")."""
    names = table["name"].astype(str)
    if "rank_hdi_low" not in table:
        return names.tolist()
    low, high = table["rank_hdi_low"].astype(int), table["rank_hdi_high"].astype(int)
    spans = [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in zip(low, high)]
    return [f"{name} (rank {span})" for name, span in zip(names, spans)]


def forest_plot(rankings: pd.DataFrame, title: str = "", poles=()) -> Figure:
    """One row per legislator (rank 1 at the top): posterior mean and 94% HDI of xi,
    coloured by party; y tick labels are the names.

    rankings: the rankings asset's columns (name, party, xi_mean, xi_hdi_low,
    xi_hdi_high, rank; rank_hdi_low and rank_hdi_high in the labels where present).
    """
    table = rankings.sort_values("rank").reset_index(drop=True)
    n = len(table)
    row_height = 0.16 if n <= 60 else 0.11
    width, height = 8.2, max(3.0, 1.2 + row_height * n)
    fig = _figure(width, height)
    # Fixed margins in inches instead of tight_layout, which would draw the
    # hundreds of tick labels a second time.
    fig.subplots_adjust(left=2.2 / width, right=1 - 0.2 / width, top=1 - 0.45 / height, bottom=0.6 / height)
    ax = fig.add_subplot()
    y = n - 1 - np.arange(n)  # rank 1 at the top
    label_size = 7 if n <= 60 else 4.5
    # One errorbar call per party keeps a 450-member House well under a second.
    for party, rows in table.groupby("party", sort=True):
        idx = rows.index.to_numpy()
        mean = rows["xi_mean"].to_numpy()
        ax.errorbar(
            mean,
            y[idx],
            xerr=np.vstack([mean - rows["xi_hdi_low"].to_numpy(), rows["xi_hdi_high"].to_numpy() - mean]),
            fmt="o",
            markersize=2.5,
            elinewidth=0.8,
            color=party_color(party, poles),
            label=f"{party} ({len(rows)})",
        )
    ax.set_yticks(y, labels=rank_labels(table), fontsize=label_size)
    ax.tick_params(axis="y", length=0, pad=2)
    ax.set_ylim(-1, n)
    ax.axvline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.set_xlabel("ideal point (chamber sd; + conservative), mean and 94% HDI")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.grid(axis="x", color="0.9", linewidth=0.5)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plane_plot(rankings: pd.DataFrame, title: str = "", poles=()) -> Figure:
    """Each legislator at the posterior means of dim 1 (x) and dim 2 (y) with 94% HDIs on
    both axes, coloured by party.

    rankings: the rankings_2d asset's columns (party, xi_mean, xi_hdi_low, xi_hdi_high,
    xi_2_mean, xi_2_hdi_low, xi_2_hdi_high).
    """
    fig = _figure(6.5, 6.0)
    ax = fig.add_subplot()
    for party, rows in rankings.groupby("party", sort=True):
        x, y = rows["xi_mean"].to_numpy(), rows["xi_2_mean"].to_numpy()
        ax.errorbar(
            x,
            y,
            xerr=np.vstack([x - rows["xi_hdi_low"].to_numpy(), rows["xi_hdi_high"].to_numpy() - x]),
            yerr=np.vstack([y - rows["xi_2_hdi_low"].to_numpy(), rows["xi_2_hdi_high"].to_numpy() - y]),
            fmt="o",
            markersize=3,
            elinewidth=0.5,
            alpha=0.8,
            color=party_color(party, poles),
            label=f"{party} ({len(rows)})",
        )
    ax.axvline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.axhline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.set_xlabel("dim 1 (chamber sd; + conservative), mean and 94% HDI")
    ax.set_ylabel("dim 2 (chamber sd), mean and 94% HDI")
    ax.legend(loc="best", fontsize=7, frameon=False)
    ax.grid(color="0.9", linewidth=0.5)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _ranks_per_chain(draws: np.ndarray) -> np.ndarray:
    """Ranks (0-based) of the pooled draws, shaped like `draws` (chains x draws)."""
    flat = draws.ravel()
    ranks = np.empty(flat.size)
    ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    return ranks.reshape(draws.shape)


def mixing_plot(idata, legislator: str, var: str = "xi", title: str = "") -> Figure:
    """Trace (left) and rank histograms (right) of one coordinate of `var` (`legislator`:
its label on var's one dimension), per chain.

    Well-mixed chains overlap in the trace and have flat, similar rank histograms.
    """
    values = idata.posterior[var]
    dim = next(d for d in values.dims if d not in ("chain", "draw"))  # legislator, or legislator_session
    draws = np.asarray(values.sel({dim: legislator}).values, float)
    chains, n_draws = draws.shape
    fig = _figure(9.0, 3.0)
    trace_ax, rank_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    colors = [f"C{c % 10}" for c in range(chains)]
    for c in range(chains):
        trace_ax.plot(np.arange(n_draws), draws[c], color=colors[c], linewidth=0.5, alpha=0.8, label=f"chain {c}")
    trace_ax.set_xlabel("draw")
    trace_ax.set_ylabel(f"{var}[{legislator}]")
    trace_ax.legend(fontsize=6, frameon=False, ncol=min(chains, 4), loc="upper right")

    ranks = _ranks_per_chain(draws)
    bins = np.linspace(0, ranks.size, min(20, max(5, n_draws // 20)) + 1)
    height = 0.8
    for c in range(chains):
        counts, _ = np.histogram(ranks[c], bins=bins)
        scaled = counts / max(counts.max(), 1) * height
        rank_ax.bar(bins[:-1], scaled, width=np.diff(bins), bottom=c, align="edge", color=colors[c], alpha=0.8)
        rank_ax.axhline(c + height * (n_draws / (len(bins) - 1)) / max(counts.max(), 1), color="0.3", linewidth=0.5, linestyle="--")
    rank_ax.set_yticks(np.arange(chains) + height / 2, labels=[f"chain {c}" for c in range(chains)], fontsize=7)
    rank_ax.set_xlabel("rank of draw (all chains)")
    rank_ax.set_title("rank plot (flat = mixed)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _session_axis(ax, sessions: list[str]) -> None:
    ax.set_xticks(np.arange(len(sessions)), labels=sessions, fontsize=7, rotation=45 if len(sessions) > 12 else 0)
    ax.set_xlim(-0.5, len(sessions) - 0.5)
    ax.grid(axis="y", color="0.9", linewidth=0.5)
    ax.set_axisbelow(True)


def polarization_plot(medians: pd.DataFrame, gap: pd.DataFrame, title: str = "", poles=()) -> Figure:
    """Top: per session, each party's median position (line; error bars: 94% HDI of
    the median) and its members' interquartile band. Bottom: the party gap (the
    conservative pole's median - the liberal pole's) with its 94% HDI. x: sessions in
    order, evenly spaced.

    medians: session, session_index, party, median, q25, q75, median_hdi_low,
    median_hdi_high. gap: session, session_index, gap_mean, gap_hdi_low, gap_hdi_high.
    """
    sessions = list(dict.fromkeys(medians.sort_values("session_index")["session"]))
    x_of = {s: i for i, s in enumerate(sessions)}
    fig = _figure(7.5, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    for party, rows in medians.groupby("party", sort=True):
        rows = rows.sort_values("session_index")
        x = rows["session"].map(x_of).to_numpy()
        color = party_color(party, poles)
        top.fill_between(x, rows["q25"], rows["q75"], color=color, alpha=0.18, linewidth=0, label=f"{party}: middle half")
        top.errorbar(
            x, rows["median"],
            yerr=np.vstack([rows["median"] - rows["median_hdi_low"], rows["median_hdi_high"] - rows["median"]]),
            color=color, marker="o", markersize=3.5, linewidth=1.4, elinewidth=0.8, capsize=2, label=f"{party}: median",
        )
    top.set_ylabel("position (common scale; + conservative)", fontsize=8)
    top.legend(fontsize=7, frameon=False, ncol=2, loc="best")
    _session_axis(top, sessions)
    gap = gap.sort_values("session_index")
    x = gap["session"].map(x_of).to_numpy()
    bottom.fill_between(x, gap["gap_hdi_low"], gap["gap_hdi_high"], color="0.6", alpha=0.3, linewidth=0, label="94% HDI")
    bottom.plot(x, gap["gap_mean"], color="0.15", marker="o", markersize=3.5, linewidth=1.4, label=f"{poles[0]} median - {poles[1]} median" if poles else "party gap")
    bottom.set_ylabel("party gap", fontsize=8)
    bottom.set_xlabel("session", fontsize=8)
    bottom.legend(fontsize=7, frameon=False, loc="best")
    _session_axis(bottom, sessions)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def trajectories_plot(
    positions: pd.DataFrame, sessions: list[str], legislator_ids: list[str], title: str = "", poles=()
) -> Figure:
    """Each listed legislator's position per session served (mean, 94% HDI bars),
    coloured by party, labelled at the right end. positions: the common scale's
    per-session rows (session, legislator_id, name, party, position_mean,
    position_hdi_low, position_hdi_high); sessions: the x axis, in order."""
    x_of = {s: i for i, s in enumerate(sessions)}
    fig = _figure(7.5, 4.2)
    fig.subplots_adjust(left=0.1, right=0.78, top=0.9, bottom=0.14)
    ax = fig.add_subplot()
    labels = []
    for k, legislator in enumerate(legislator_ids):
        rows = positions[positions["legislator_id"] == legislator]
        rows = rows.assign(x=rows["session"].map(x_of)).sort_values("x")
        color = party_color(rows["party"].iloc[-1], poles)
        offset = (k - (len(legislator_ids) - 1) / 2) * 0.04  # keep overlapping bars apart
        ax.errorbar(
            rows["x"] + offset, rows["position_mean"],
            yerr=np.vstack([rows["position_mean"] - rows["position_hdi_low"], rows["position_hdi_high"] - rows["position_mean"]]),
            color=color, marker="o", markersize=3, linewidth=1.0, elinewidth=0.6, capsize=1.5, alpha=0.9,
        )
        labels.append((rows["position_mean"].iloc[-1], str(rows["name"].iloc[-1])[:28], color))
    ax.set_ylabel("position (common scale; + conservative)", fontsize=8)
    ax.set_xlabel("session", fontsize=8)
    _session_axis(ax, sessions)
    # names at the right edge, pushed apart where their last positions are close
    low, high = ax.get_ylim()
    gap, placed = 0.045 * (high - low), []
    for y, name, color in sorted(labels):
        y = max(y, placed[-1] + gap) if placed else y
        placed.append(y)
        ax.text(len(sessions) - 0.35, y, name, fontsize=6.5, color=color, va="center", clip_on=False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image embedding the PNG as a base64 data URI."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
