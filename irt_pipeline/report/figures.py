"""The report's interactive pictures (Bokeh, no Dagster). Each figure has a `name` the
page template places it by (`roots.<name>`); every point of a legislator carries the
name, party and interval the hover tool shows. Positions on the x axis, + conservative.
"""

from __future__ import annotations

import pandas as pd

PARTY_COLORS = {"Democrat": "#2166ac", "Republican": "#b2182b", "Independent": "#555555"}
# Any other party, in order of appearance (colour-blind-safe hues, distinct from the
# Democrats' and Republicans').
OTHER_COLORS = ("#1b7837", "#762a83", "#e08214", "#35978f", "#8c510a", "#c51b7d")
# Forest plot: pixels per legislator. A 10 px name fits with 4 px between rows; a
# 440-member House is 6,160 px tall, read in a scrolling panel of the page (the PNG in
# the Dagster UI squeezed it into one screen).
ROW_PX = 14
LABEL_FONT = "10px"
# Tools that never take the mouse wheel: the page scrolls through a tall plot.
TOOLS = "xpan,box_zoom,reset,save"


def party_colors(parties) -> dict[str, str]:
    """A colour per party: fixed for Democrats, Republicans and Independents, then
    OTHER_COLORS in order of first appearance."""
    colors, others = {}, iter(OTHER_COLORS * 10)
    for party in dict.fromkeys(str(p) for p in parties):
        colors[party] = PARTY_COLORS.get(party) or next(others)
    return colors


def _party_order(parties) -> list[str]:
    """Democrats, Republicans, then the rest by name."""
    present = set(map(str, parties))
    return [p for p in PARTY_COLORS if p in present] + sorted(present - set(PARTY_COLORS))


def forest(rankings: pd.DataFrame, title: str, x_label: str):
    """Every legislator's posterior mean and 94% HDI, one row each in rank order (rank 1
    at the top), coloured by party; names on the axis and on hover. rankings: the
    rankings table (name, party, xi_mean, xi_hdi_low, xi_hdi_high, rank; rank_hdi_low /
    rank_hdi_high shown on hover when present)."""
    from bokeh.models import ColumnDataSource, HoverTool, LinearAxis, Span
    from bokeh.plotting import figure

    table = rankings.sort_values("rank", kind="stable").reset_index(drop=True)
    table["label"] = [f"{r}. {n} ({p[:1]})" for r, n, p in zip(table["rank"], table["name"], table["party"].astype(str))]
    height = ROW_PX * len(table) + 110
    plot = figure(
        name="forest", title=title, y_range=list(reversed(table["label"])), height=height,
        sizing_mode="stretch_width", tools=TOOLS, toolbar_location="above", x_axis_label=x_label,
    )
    plot.add_layout(LinearAxis(axis_label=x_label), "above")
    plot.yaxis.major_label_text_font_size = LABEL_FONT
    plot.ygrid.grid_line_color = None
    plot.add_layout(Span(location=0, dimension="height", line_color="#999999", line_dash="dashed"))
    colors = party_colors(table["party"])
    points = []
    with_rank_interval = {"rank_hdi_low", "rank_hdi_high"} <= set(table.columns)
    for party in _party_order(table["party"]):
        rows = table[table["party"].astype(str) == party]
        source = ColumnDataSource(
            {
                "label": rows["label"], "name": rows["name"], "party": rows["party"].astype(str),
                "mean": rows["xi_mean"], "low": rows["xi_hdi_low"], "high": rows["xi_hdi_high"], "rank": rows["rank"],
                **({"rank_low": rows["rank_hdi_low"], "rank_high": rows["rank_hdi_high"]} if with_rank_interval else {}),
            }
        )
        plot.segment("low", "label", "high", "label", source=source, color=colors[party], line_width=2, alpha=0.6)
        points.append(plot.scatter("mean", "label", source=source, color=colors[party], size=6, legend_label=party))
    tooltips = [("", "@name (@party)"), ("position", "@mean{0.000}"), ("94% HDI", "@low{0.000} to @high{0.000}"), ("rank", "@rank")]
    if with_rank_interval:
        tooltips.append(("rank, 94% HDI", "@rank_low to @rank_high"))
    plot.add_tools(HoverTool(renderers=points, tooltips=tooltips))
    plot.legend.location = "top_left"
    plot.legend.click_policy = "hide"
    return plot


def parties(party_table: pd.DataFrame, rankings: pd.DataFrame, x_label: str):
    """The party level of the posterior: per party its mean (94% HDI, thick) and the
    spread of its members around it (mean +- the party sd, thin), over its members'
    posterior means (dots). party_table: party_posteriors' table."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure
    from bokeh.transform import jitter

    order = [p for p in _party_order(party_table["party"])]
    colors = party_colors(rankings["party"])
    plot = figure(
        name="parties", y_range=list(reversed(order)), height=90 * len(order) + 110, sizing_mode="stretch_width",
        tools=TOOLS, toolbar_location="above", x_axis_label=x_label, title="party means and spreads",
    )
    members = rankings[rankings["party"].astype(str).isin(order)]
    dots = plot.scatter(
        "xi_mean", jitter("party", width=0.5, range=plot.y_range), size=4, alpha=0.45,
        color="#888888", source=ColumnDataSource({
            "xi_mean": members["xi_mean"], "party": members["party"].astype(str), "name": members["name"],
        }),
    )
    rows = party_table.set_index("party").loc[order].reset_index()
    source = ColumnDataSource(
        {
            "party": rows["party"], "mu": rows["mu_mean"], "mu_low": rows["mu_hdi_low"], "mu_high": rows["mu_hdi_high"],
            "sigma": rows["sigma_mean"], "spread_low": rows["mu_mean"] - rows["sigma_mean"],
            "spread_high": rows["mu_mean"] + rows["sigma_mean"], "color": [colors.get(p, "#555555") for p in rows["party"]],
        }
    )
    plot.segment("spread_low", "party", "spread_high", "party", source=source, color="color", line_width=3, alpha=0.45,
                 legend_label="party mean +- party sd (where its members sit)")
    plot.segment("mu_low", "party", "mu_high", "party", source=source, color="color", line_width=9,
                 legend_label="party mean, 94% HDI")
    means = plot.scatter("mu", "party", source=source, color="black", size=7, marker="diamond")
    plot.add_tools(HoverTool(renderers=[means], tooltips=[
        ("", "@party"), ("mean", "@mu{0.000} (94% HDI @mu_low{0.000} to @mu_high{0.000})"), ("sd", "@sigma{0.000}")]))
    plot.add_tools(HoverTool(renderers=[dots], tooltips=[("", "@name (@party)"), ("position", "@xi_mean{0.000}")]))
    plot.legend.location = "top_right"  # over the conservative end of the liberal row: empty
    return plot


def plane(rankings_2d: pd.DataFrame, title: str):
    """The two-dimensional model's plane: dim 1 against dim 2, each legislator's
    posterior mean with its 94% HDI on both axes, coloured by party."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    plot = figure(
        name="plane", title=title, height=640, width=820, tools=TOOLS + ",wheel_zoom",
        toolbar_location="above", x_axis_label="dim 1 (the direction the parties differ along; + conservative)",
        y_axis_label="dim 2 (the division across it)", match_aspect=True,
    )
    colors = party_colors(rankings_2d["party"])
    points = []
    for party in _party_order(rankings_2d["party"]):
        rows = rankings_2d[rankings_2d["party"].astype(str) == party]
        source = ColumnDataSource({
            "name": rows["name"], "party": rows["party"].astype(str), "x": rows["xi_mean"], "y": rows["xi_2_mean"],
            "x_low": rows["xi_hdi_low"], "x_high": rows["xi_hdi_high"],
            "y_low": rows["xi_2_hdi_low"], "y_high": rows["xi_2_hdi_high"],
        })
        plot.segment("x_low", "y", "x_high", "y", source=source, color=colors[party], alpha=0.25)
        plot.segment("x", "y_low", "x", "y_high", source=source, color=colors[party], alpha=0.25)
        points.append(plot.scatter("x", "y", source=source, color=colors[party], size=7, legend_label=party))
    plot.add_tools(HoverTool(renderers=points, tooltips=[
        ("", "@name (@party)"), ("dim 1", "@x{0.000} (@x_low{0.000} to @x_high{0.000})"),
        ("dim 2", "@y{0.000} (@y_low{0.000} to @y_high{0.000})")]))
    plot.legend.location = "top_left"
    plot.legend.click_policy = "hide"
    return plot


def polarization(medians: pd.DataFrame, sessions: list[str], y_label: str):
    """Per session and party: the median of the members' posterior means, with the
    interquartile band. medians: history.party_medians' table."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    plot = figure(
        name="polarization", x_range=sessions, height=420, sizing_mode="stretch_width", tools=TOOLS,
        toolbar_location="above", x_axis_label="session", y_axis_label=y_label,
        title="party medians on the common scale, with the middle half of each party (interquartile band)",
    )
    colors = party_colors(medians["party"])
    lines = []
    for party in _party_order(medians["party"]):
        rows = medians[medians["party"] == party]
        source = ColumnDataSource({k: rows[k] for k in ("session", "party", "members", "median", "q25", "q75")})
        plot.varea("session", "q25", "q75", source=source, color=colors[party], alpha=0.18)
        plot.line("session", "median", source=source, color=colors[party], line_width=2, legend_label=party)
        lines.append(plot.scatter("session", "median", source=source, color=colors[party], size=7))
    plot.add_tools(HoverTool(renderers=lines, tooltips=[
        ("", "@party, session @session"), ("median", "@median{0.000}"), ("middle half", "@q25{0.000} to @q75{0.000}"),
        ("members", "@members")]))
    plot.legend.location = "top_left"
    return plot


def gap(gaps: pd.DataFrame, sessions: list[str], y_label: str, poles):
    """Per session: the distance between the two poles' medians (poles: (conservative,
    liberal) labels)."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    plot = figure(
        name="gap", x_range=sessions, height=260, sizing_mode="stretch_width", tools=TOOLS, toolbar_location="above",
        x_axis_label="session", y_axis_label=y_label, title=f"party gap: {poles[0]} median minus {poles[1]} median",
    )
    source = ColumnDataSource({"session": gaps["session"], "gap": gaps["gap"]})
    plot.line("session", "gap", source=source, color="#333333", line_width=2)
    dots = plot.scatter("session", "gap", source=source, color="#333333", size=7)
    plot.add_tools(HoverTool(renderers=[dots], tooltips=[("session", "@session"), ("gap", "@gap{0.000}")]))
    return plot


def trajectory(medians: pd.DataFrame, sessions: list[str], first: dict, y_label: str):
    """One legislator's position per session (posterior mean and 94% HDI) over the party
    medians; `first` the trajectory shown before a search: {name, session, mean, low,
    high}. The page's script replaces the data of the source named
    "trajectory_source" and the title when a reader picks another legislator."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    plot = figure(
        name="trajectory", x_range=sessions, height=420, sizing_mode="stretch_width", tools=TOOLS,
        toolbar_location="above", x_axis_label="session", y_axis_label=y_label, title=first["name"],
    )
    colors = party_colors(medians["party"])
    for party in _party_order(medians["party"]):
        rows = medians[medians["party"] == party]
        plot.line(rows["session"].tolist(), rows["median"].tolist(), color=colors[party], alpha=0.35, line_width=2,
                  line_dash="dashed", legend_label=f"{party} median")
    source = ColumnDataSource({k: first[k] for k in ("session", "mean", "low", "high")}, name="trajectory_source")
    plot.segment("session", "low", "session", "high", source=source, color="black", line_width=2)
    plot.line("session", "mean", source=source, color="black", line_width=2)
    dots = plot.scatter("session", "mean", source=source, color="black", size=8)
    plot.add_tools(HoverTool(renderers=[dots], tooltips=[
        ("session", "@session"), ("position", "@mean{0.000}"), ("94% HDI", "@low{0.000} to @high{0.000}")]))
    plot.legend.location = "top_left"
    return plot

