"""The chamber history page: every linked session of a chamber on the common scale,
from the stored `common_scale` (one row per legislator per session) and `careers` (one
row per legislator) tables. Nothing here knows Dagster.

The polarization chart is drawn from the stored rows: per session and major party the
median of the members' posterior means and the interquartile band, and the gap between
the two medians. (The common scale's own metadata also carries the medians' intervals
over draws; the stored rows keep no draws, so the page does not.)
"""

from __future__ import annotations

import pandas as pd

from irt_pipeline.report import figures
from irt_pipeline.report.page import code_versions, json_script, package_versions, render
from irt_pipeline.report.tables import Column, key_values, table

POSITION = "position on the common scale (+ conservative)"

SECTIONS = [("polarization", "Polarization"), ("trajectory", "One legislator"), ("careers", "Careers"), ("lineage", "Lineage")]
CAREER_COLUMNS = [
    Column("name", "name"),
    Column("party", "party", title="in the last session served"),
    Column("first_session", "first"),
    Column("last_session", "last"),
    Column("sessions", "sessions", "int"),
    Column("position_mean", "position", "number", title="mean over the sessions served, common scale"),
    Column("position_hdi_low", "94% HDI low", "number"),
    Column("position_hdi_high", "94% HDI high", "number"),
    Column("trend_mean", "trend", "number", title="per session: least-squares slope of position on session"),
    Column("trend_hdi_low", "trend low", "number", title="94% HDI of the trend: low end"),
    Column("trend_hdi_high", "trend high", "number", title="94% HDI of the trend: high end"),
]


def session_sequence(common_scale: pd.DataFrame) -> list[str]:
    """The sessions in order: by session_index where the table has it, else as
    stats.common_scale orders session keys."""
    if "session_index" in common_scale.columns:
        order = common_scale.groupby("session")["session_index"].min().sort_values(kind="stable")
        return [str(s) for s in order.index]
    from irt_pipeline.stats.common_scale import session_order

    return [str(s) for s in session_order(common_scale["session"].astype(str).unique())]


def party_medians(common_scale: pd.DataFrame, sessions: list[str], parties) -> pd.DataFrame:
    """Per session and party of `parties` (the chamber's poles, as the common scale
    names them): members, the median and quartiles of their posterior mean positions."""
    rows = []
    frame = common_scale.assign(session=common_scale["session"].astype(str), party=common_scale["party"].astype(str))
    for session in sessions:
        here = frame[frame["session"] == session]
        for party in parties:
            values = here.loc[here["party"] == party, "position_mean"]
            if values.empty:
                continue
            rows.append({
                "session": session, "party": party, "members": len(values), "median": float(values.median()),
                "q25": float(values.quantile(0.25)), "q75": float(values.quantile(0.75)),
            })
    return pd.DataFrame(rows, columns=["session", "party", "members", "median", "q25", "q75"])


def party_gap(medians: pd.DataFrame, high: str, low: str) -> pd.DataFrame:
    """Per session with both parties: median(high) - median(low) (the conservative pole
    minus the liberal one)."""
    wide = medians.pivot(index="session", columns="party", values="median")
    if high not in wide or low not in wide:
        return pd.DataFrame(columns=["session", "gap"])
    gap = (wide[high] - wide[low]).dropna()
    order = [s for s in medians["session"].unique() if s in gap.index]
    return pd.DataFrame({"session": order, "gap": gap.loc[order].to_numpy()})


def legislator_index(common_scale: pd.DataFrame, careers: pd.DataFrame, sessions: list[str]) -> tuple[dict, list[dict]]:
    """({legislator_id: {name, party, rows: [[session, mean, low, high, party], ...]}} in
    session order, the search list [{id, label}]) for the page's legislator search."""
    rank = {s: i for i, s in enumerate(sessions)}
    frame = common_scale.assign(
        legislator_id=common_scale["legislator_id"].astype(str), session=common_scale["session"].astype(str)
    )
    frame = frame.assign(order=frame["session"].map(rank)).sort_values(["legislator_id", "order"], kind="stable")
    data = {}
    for legislator, rows in frame.groupby("legislator_id", sort=False):
        last = rows.iloc[-1]
        data[legislator] = {
            "name": str(last["name"]),
            "party": str(last["party"]),
            "rows": [
                [str(r.session), float(r.position_mean), float(r.position_hdi_low), float(r.position_hdi_high), str(r.party)]
                for r in rows.itertuples()
            ],
        }
    labels, seen = [], {}
    for career in careers.assign(legislator_id=careers["legislator_id"].astype(str)).itertuples():
        if career.legislator_id not in data:
            continue
        label = f"{career.name} ({career.party}, {career.first_session}-{career.last_session})"
        seen[label] = seen.get(label, 0) + 1
        labels.append({"id": career.legislator_id, "label": label})
    for item in labels:  # two legislators of one name, party and span: told apart by id
        if seen[item["label"]] > 1:
            item["label"] = f"{item['label']} [{item['id']}]"
    return data, labels


def chamber_history_report(
    chamber: str, common_scale: pd.DataFrame, careers: pd.DataFrame, scale_info: dict | None = None
) -> str:
    """The HTML page of a chamber across sessions.

    common_scale: one row per legislator per session (session, legislator_id, name,
    party, position_mean, position_sd, position_hdi_low, position_hdi_high;
    session_index used for the order when present). careers: one row per legislator
    (legislator_id, name, party, first_session, last_session, sessions, position_* and
    trend_* where present). scale_info: what the common scale recorded of itself
    (reference_session, left_out {session: reason}, method, poles: the (conservative,
    liberal) party labels of its party chart, none where the sessions' orientation was
    declared), shown when given.
    """
    sessions = session_sequence(common_scale)
    info = scale_info or {}
    poles = tuple(info.get("poles") or ())
    medians = party_medians(common_scale, sessions, poles)
    gaps = party_gap(medians, *poles) if len(poles) == 2 else pd.DataFrame(columns=["session", "gap"])
    data, labels = legislator_index(common_scale, careers, sessions)
    first_id = labels[0]["id"] if labels else next(iter(data))
    first = data[first_id]
    shown = {
        "name": first["name"],
        "session": [r[0] for r in first["rows"]],
        "mean": [r[1] for r in first["rows"]],
        "low": [r[2] for r in first["rows"]],
        "high": [r[3] for r in first["rows"]],
    }
    figs = [
        figures.polarization(medians, sessions, POSITION),
        figures.trajectory(medians, sessions, shown, POSITION),
    ]
    if len(gaps):
        figs.insert(1, figures.gap(gaps, sessions, "gap (common-scale units)", poles))
    left_out = info.get("left_out") or {}
    title = f"{chamber}: every linked session on one scale"
    return render(
        "history.html.jinja", figs, title,
        chamber=chamber, sessions=sessions, with_gap=bool(len(gaps)), sections=SECTIONS,
        summary={
            "sessions": len(sessions), "first": sessions[0], "last": sessions[-1],
            "legislators": int(careers["legislator_id"].nunique()), "reference": info.get("reference_session"),
        },
        left_out=[{"session": s, "reason": r} for s, r in left_out.items()],
        method=info.get("method"),
        medians=table(medians.merge(gaps, on="session", how="left"), [
            Column("session", "session"), Column("party", "party"), Column("members", "members", "int"),
            Column("median", "median", "number"), Column("q25", "lower quartile", "number"),
            Column("q75", "upper quartile", "number"), Column("gap", "party gap", "number"),
        ], "medians"),
        careers=table(careers, CAREER_COLUMNS, "careers-table", row_key="legislator_id"),
        trajectory_first=first_id,
        trajectory_rows=first["rows"],
        trajectory_name=first["name"],
        legislators=labels,
        legislator_data=json_script(data),
        code=key_values(code_versions(), "code-versions", "asset code", "version"),
        packages=key_values(package_versions(), "packages", "package", "version"),
    )
