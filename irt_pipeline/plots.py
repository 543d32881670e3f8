"""Pictures of a partition's results, as PNG bytes for asset metadata.

Plain functions of frames and InferenceData: nothing here knows of Dagster. Figures are
built on matplotlib's Agg canvas directly (no pyplot, no global state), so they render
the same in a run worker, a test or a notebook, whatever MPLBACKEND says.

- `forest_plot(rankings)`: every legislator's posterior mean and 94% HDI, one row
  each, most conservative at the top, coloured by party.
- `mixing_plot(idata, legislator)`: trace and rank plot of one ideal point per chain
  (the worst-mixing one, for the diagnostics page).
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

PARTY_COLORS = {"Republican": "#c0392b", "Democrat": "#2c5aa0"}
OTHER_COLOR = "#7f7f7f"
DPI = 80


def party_color(party: str) -> str:
    return PARTY_COLORS.get(party, OTHER_COLOR)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def forest_plot(rankings: pd.DataFrame, title: str = "") -> Figure:
    """One row per legislator (rank 1 at the top): posterior mean and 94% HDI of xi,
    coloured by party; y tick labels are the names.

    rankings: the rankings asset's columns (name, party, xi_mean, xi_hdi_low,
    xi_hdi_high, rank).
    """
    table = rankings.sort_values("rank").reset_index(drop=True)
    n = len(table)
    row_height = 0.16 if n <= 60 else 0.11
    width, height = 7.5, max(3.0, 1.2 + row_height * n)
    fig = _figure(width, height)
    # Fixed margins in inches instead of tight_layout, which would draw the
    # hundreds of tick labels a second time.
    fig.subplots_adjust(left=1.5 / width, right=1 - 0.2 / width, top=1 - 0.45 / height, bottom=0.6 / height)
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
            color=party_color(party),
            label=f"{party} ({len(rows)})",
        )
    ax.set_yticks(y, labels=table["name"].astype(str).tolist(), fontsize=label_size)
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


def _ranks_per_chain(draws: np.ndarray) -> np.ndarray:
    """Ranks (0-based) of the pooled draws, shaped like `draws` (chains x draws)."""
    flat = draws.ravel()
    ranks = np.empty(flat.size)
    ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    return ranks.reshape(draws.shape)


def mixing_plot(idata, legislator: str, var: str = "xi", title: str = "") -> Figure:
    """Trace (left) and rank histograms (right) of one coordinate of `var`, per chain.

    Well-mixed chains overlap in the trace and have flat, similar rank histograms.
    """
    draws = np.asarray(idata.posterior[var].sel(legislator=legislator).values, float)
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


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image embedding the PNG as a base64 data URI."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
