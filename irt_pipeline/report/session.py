"""The report of one (session, chamber): a self-contained HTML page from plain inputs.

`session_report` takes the stored outputs as plain values (the rankings table, the
diagnostics record, `fit_summary` of the posterior, the landing files with their
sha256) and, where they exist, the party level (`party_posteriors`), the
two-dimensional rankings with the dimensionality verdict, and the external validation
record; each optional piece is shown only when given. `party_posteriors` and
`fit_summary` read an InferenceData. Nothing here knows Dagster.
"""

from __future__ import annotations

import json

import pandas as pd

from irt_pipeline.report import figures
from irt_pipeline.report.page import code_versions, package_versions, render
from irt_pipeline.report.tables import Column, key_values, number, table
from irt_pipeline.stats.diagnostics import NOTHING_TO_JUDGE

HDI_PROB = 0.94
POSITION = "position (sd of the chamber, + conservative)"

RANKING_COLUMNS = [
    Column("rank", "rank", "int", title="1 = most conservative"),
    Column("rank_hdi_low", "rank from", "int", title="94% HDI of the rank: from"),
    Column("rank_hdi_high", "rank to", "int", title="94% HDI of the rank: to"),
    Column("name", "name"),
    Column("party", "party"),
    Column("xi_mean", "position", "number", title="posterior mean, sd of the chamber, + conservative"),
    Column("xi_hdi_low", "94% HDI low", "number"),
    Column("xi_hdi_high", "94% HDI high", "number"),
    Column("xi_sd", "sd", "number", title="posterior sd"),
]
PARTY_COLUMNS = [
    Column("party", "party"),
    Column("members", "members", "int"),
    Column("mu_mean", "party mean", "number"),
    Column("mu_hdi_low", "94% HDI low", "number"),
    Column("mu_hdi_high", "94% HDI high", "number"),
    Column("sigma_mean", "party sd", "number", title="spread of the party's members around its mean"),
    Column("sigma_hdi_low", "sd: 94% HDI low", "number"),
    Column("sigma_hdi_high", "sd: 94% HDI high", "number"),
]
PLANE_COLUMNS = [
    Column("rank", "rank on dim 1", "int"),
    Column("name", "name"),
    Column("party", "party"),
    Column("xi_mean", "dim 1", "number"),
    Column("xi_hdi_low", "dim 1 low", "number", title="94% HDI of dim 1: low end"),
    Column("xi_hdi_high", "dim 1 high", "number", title="94% HDI of dim 1: high end"),
    Column("xi_2_mean", "dim 2", "number"),
    Column("xi_2_hdi_low", "dim 2 low", "number", title="94% HDI of dim 2: low end"),
    Column("xi_2_hdi_high", "dim 2 high", "number", title="94% HDI of dim 2: high end"),
]
# How external_validation names its methods, for a reader.
METHOD_NAMES = {
    "hierarchical": "this model (hierarchical)",
    "flat": "flat model",
    "pca": "PCA (first component)",
    "external": "external score",
    "session_external": "Nokken-Poole dim 1 (this session alone)",
}


def party_posteriors(idata) -> pd.DataFrame | None:
    """Per party of the posterior's party level (coordinate `party`): posterior mean and
    94% HDI of its mean `mu_party` and spread `sigma_party` (sd of the chamber). None
    for a model without a party level (no mu_party)."""
    import arviz as az

    post = idata.posterior
    if "mu_party" not in post or "sigma_party" not in post:
        return None
    hdi = az.hdi(idata, var_names=["mu_party", "sigma_party"], hdi_prob=HDI_PROB)
    rows = []
    for party in post["mu_party"]["party"].values:
        row = {"party": str(party)}
        for name, short in (("mu_party", "mu"), ("sigma_party", "sigma")):
            draws = post[name].sel(party=party)
            row[f"{short}_mean"] = float(draws.mean())
            row[f"{short}_sd"] = float(draws.std())
            row[f"{short}_hdi_low"] = float(hdi[name].sel(party=party, hdi="lower"))
            row[f"{short}_hdi_high"] = float(hdi[name].sel(party=party, hdi="higher"))
        rows.append(row)
    return pd.DataFrame(rows)


def _json_attr(attrs, name: str):
    value = attrs.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def fit_summary(idata) -> dict:
    """What a posterior records of its fit (idata.attrs), as plain values: model,
    xi_scale, posterior_id, draws_used (kept per chain), chains, stop, sampling_seconds,
    orientation (the rule that set the sign), sampler_settings (dict), priors (dict); None
    where not recorded."""
    attrs = idata.attrs

    def plain(name):
        value = attrs.get(name)
        return value.item() if hasattr(value, "item") else value

    return {
        "model": plain("model"),
        "xi_scale": plain("xi_scale"),
        "posterior_id": plain("posterior_id"),
        "draws_used": plain("draws_used"),
        "chains": int(idata.posterior.sizes["chain"]),
        "stop": plain("stop"),
        "sampling_seconds": plain("sampling_seconds"),
        "orientation": plain("orientation_rule"),
        "sampler_settings": _json_attr(attrs, "sampler_settings"),
        "priors": _json_attr(attrs, "priors"),
    }


def scale_advice(verdict: dict | None, session: str, chamber: str) -> tuple[str, str]:
    """(verdict word, the sentence saying which scale to read): "1D" / "2D" /
    "undetermined" from a dimensionality record (`stats/dimensionality.py`), or its absence."""
    if not verdict:
        return "undetermined", (
            "Whether a second dimension matters is undetermined: no dimensionality verdict of these fits is "
            f"stored (`irt-pipeline run --session {session} --chamber {chamber} --model 2d` computes it). "
            "Read the one-dimensional ranking."
        )
    matters = verdict.get("second_dimension_matters")
    if not isinstance(matters, bool):
        reasons = "; ".join(verdict.get("reasons") or []) or "no reason recorded"
        return "undetermined", (
            f"Whether a second dimension matters is undetermined here ({reasons}). Read the one-dimensional "
            "ranking, and do not take it as shown that one dimension is enough."
        )
    gain = verdict.get("oos_gain")
    figures_text = (
        f"votes classified correctly out of sample (PSIS-LOO): "
        f"{number(100 * float(verdict.get('share_correct_oos_2d', 'nan')), 1)}% by the plane against "
        f"{number(100 * float(verdict.get('share_correct_oos_1d', 'nan')), 1)}%"
        + (f", a gain of {number(100 * gain, 2)} points" if isinstance(gain, (int, float)) else "")
        + f"; elpd_diff {number(verdict.get('elpd_diff'), 1)} (standard error {number(verdict.get('se'), 1)})"
    )
    if matters:
        return "2D", (
            f"The second dimension matters here ({figures_text}; rule: {verdict.get('rule', '')}): the "
            "one-dimensional ranking leaves out a division of this chamber that predicts held-out votes. Read "
            "the plane beside the ranking: dim 1, the direction the parties differ along, and dim 2 for the "
            "division across it."
        )
    return "1D", (
        f"One dimension is enough here ({figures_text}; the rule for a second dimension, "
        f"{verdict.get('rule', '')}, is not met): read the one-dimensional ranking; the plane is shown for "
        "completeness."
    )


def _gate_rows(diagnostics: dict) -> list[dict]:
    return [
        {
            "gate": g.get("gate"),
            "description": g.get("description", ""),
            "value": g.get("value"),
            "threshold": f"{g.get('op')} {g.get('threshold'):g}" if isinstance(g.get("threshold"), (int, float)) else "",
            "result": (f"pass ({NOTHING_TO_JUDGE})" if g.get("applies") is False else "pass") if g.get("passed") else "FAIL",
        }
        for g in diagnostics.get("gates", [])
    ]


def _group_rows(diagnostics: dict) -> pd.DataFrame:
    rows = []
    for group, variables in (diagnostics.get("gate_groups") or {}).items():
        rows.append({
            "group": group, "variables": ", ".join(variables),
            "rhat": diagnostics.get(f"rhat_{group}_max"), "where": diagnostics.get(f"rhat_{group}_worst"),
            "ess_bulk": diagnostics.get(f"ess_bulk_{group}_min"), "ess_tail": diagnostics.get(f"ess_tail_{group}_min"),
        })
    return pd.DataFrame(rows, columns=["group", "variables", "rhat", "where", "ess_bulk", "ess_tail"])


def _external_section(external: dict) -> dict:
    pairs = pd.DataFrame(external.get("correlations", []), columns=["a", "b", "pearson_r", "spearman_r", "legislators"])
    pairs["a"] = pairs["a"].map(lambda m: METHOD_NAMES.get(m, m))
    pairs["b"] = pairs["b"].map(lambda m: METHOD_NAMES.get(m, m))
    correlations = table(pairs, [
        Column("a", "method"), Column("b", "against"), Column("pearson_r", "Pearson r", "number"),
        Column("spearman_r", "Spearman r", "number"), Column("legislators", "legislators", "int"),
    ], "external-correlations")
    disc = pd.DataFrame(external.get("discrepancies", []))
    columns = [Column("name", "name"), Column("party", "party")]
    columns += [Column(c, f"rank: {METHOD_NAMES.get(c[5:], c[5:])}", "number", 1) for c in disc.columns if c.startswith("rank_")]
    columns += [Column("max_rank_difference", "largest difference", "number", 1), Column("between", "between")]
    share = external.get("discrepancy_share")
    return {
        "source": external.get("external_source") or "none",
        "scored": external.get("external_scored", 0),
        "legislators": external.get("legislators"),
        "correlations": correlations,
        "discrepancies": table(disc, columns, "external-discrepancies") if len(disc) else None,
        "share": f"{100 * share:.0f}%" if isinstance(share, (int, float)) else "",
    }


def session_report(
    session: str,
    chamber: str,
    rankings: pd.DataFrame,
    diagnostics: dict,
    fit: dict,
    landing_files: list[dict] | None,
    *,
    party: pd.DataFrame | None = None,
    rankings_2d: pd.DataFrame | None = None,
    dimensionality: dict | None = None,
    external: dict | None = None,
    notes: list[str] = (),
) -> str:
    """The HTML page of one partition.

    rankings: the rankings table (legislator_id, name, party, xi_mean, xi_sd,
    xi_hdi_low, xi_hdi_high, rank; rank_hdi_low / rank_hdi_high shown when present).
    diagnostics: the diagnostics record (gates: [{gate, value, op, threshold, passed}],
    gate_groups, divergences, ebfmi_per_chain, ...). fit: `fit_summary`. landing_files:
    [{file, sha256, bytes}] or None when not recorded. party: `party_posteriors`.
    rankings_2d (with `dimensionality`, the verdict record): the plane. external: the
    external_validation record. notes: sentences shown at the top (e.g. what was left
    out and why).
    """
    title = f"{chamber}, session {session}: ideal points"
    figs = [figures.forest(rankings, f"{chamber} {session}: posterior mean and 94% HDI, rank 1 at the top", POSITION)]
    sections = [("ranking", "Ranking"), ("forest", "Forest plot")]
    party_section = None
    if party is not None and len(party):
        members = rankings["party"].astype(str).value_counts()
        party = party.assign(members=party["party"].map(members).fillna(0).astype(int))
        party_section = table(party, PARTY_COLUMNS, "party-posteriors")
        figs.append(figures.parties(party, rankings, POSITION))
        sections.append(("parties", "Parties"))
    plane_section = None
    if rankings_2d is not None:
        word, advice = scale_advice(dimensionality, session, chamber)
        verdict_rows = {}
        if dimensionality:
            verdict_rows = {
                "verdict": dimensionality.get("verdict"),
                **({"why undetermined": "; ".join(dimensionality["reasons"])} if dimensionality.get("reasons") else {}),
                "votes classified correctly out of sample, 1D": dimensionality.get("share_correct_oos_1d"),
                "votes classified correctly out of sample, 2D": dimensionality.get("share_correct_oos_2d"),
                "out-of-sample gain": dimensionality.get("oos_gain"),
                "elpd_diff (2D minus 1D)": dimensionality.get("elpd_diff"),
                "its standard error": dimensionality.get("se"),
                "votes classified correctly in sample, 1D": dimensionality.get("share_correct_1d"),
                "votes classified correctly in sample, 2D": dimensionality.get("share_correct_2d"),
                "rule": dimensionality.get("rule"),
            }
        plane_section = {
            "verdict": word,
            "advice": advice,
            "figures": key_values(verdict_rows, "dimensionality", "figure", "value") if verdict_rows else None,
            "table": table(rankings_2d.sort_values("rank"), PLANE_COLUMNS, "plane-table"),
        }
        figs.append(figures.plane(rankings_2d, f"{chamber} {session}: two dimensions, posterior means and 94% HDIs"))
        sections.append(("plane", "Two dimensions"))
    external_section = _external_section(external) if external else None
    if external_section:
        sections.append(("external", "External scores"))
    sections += [("gates", "Convergence gates"), ("lineage", "Lineage")]

    gates = table(pd.DataFrame(_gate_rows(diagnostics)), [
        Column("gate", "gate"), Column("description", "what it measures"), Column("value", "value", "sig", 5),
        Column("threshold", "threshold"), Column("result", "result"),
    ], "gate-table")
    groups = table(_group_rows(diagnostics), [
        Column("group", "group"), Column("variables", "variables"), Column("rhat", "max R-hat", "sig", 5),
        Column("where", "where"), Column("ess_bulk", "min bulk ESS", "number", 0),
        Column("ess_tail", "min tail ESS", "number", 0),
    ], "gate-groups")
    sampling = {
        "chains": fit.get("chains"),
        "draws kept per chain": fit.get("draws_used"),
        "draws kept in all": (fit["chains"] * fit["draws_used"]) if fit.get("chains") and fit.get("draws_used") else None,
        "why sampling stopped": fit.get("stop"),
        "divergences": diagnostics.get("divergences"),
        "E-BFMI per chain": ", ".join(number(v, 3) for v in diagnostics.get("ebfmi_per_chain", [])),
        "sampling seconds": fit.get("sampling_seconds"),
    }
    files = pd.DataFrame(landing_files or [], columns=["file", "bytes", "sha256"])
    lineage = {
        "files": table(files, [Column("file", "landing file"), Column("bytes", "bytes", "int"), Column("sha256", "sha256")],
                       "landing-files") if landing_files else None,
        "fit": key_values({
            "model": fit.get("model"), "scale": fit.get("xi_scale"), "orientation": fit.get("orientation"),
            "posterior id": fit.get("posterior_id"),
            "chains": fit.get("chains"), "draws kept per chain": fit.get("draws_used"),
        }, "fit"),
        "sampler": key_values(fit.get("sampler_settings") or {}, "sampler-settings") if fit.get("sampler_settings") else None,
        "priors": key_values(fit.get("priors") or {}, "priors", "parameter", "prior") if fit.get("priors") else None,
        "code": key_values(code_versions(), "code-versions", "asset code", "version"),
        "packages": key_values(package_versions(), "packages", "package", "version"),
    }
    parties_count = rankings["party"].astype(str).value_counts()
    return render(
        "session.html.jinja", figs, title,
        session=session, chamber=chamber, sections=sections, notes=list(notes),
        summary={
            "legislators": len(rankings),
            "parties": ", ".join(f"{p} {n}" for p, n in parties_count.items()),
            "model": fit.get("model"),
            "orientation": fit.get("orientation"),
            "draws": sampling["draws kept in all"],
        },
        ranking=table(rankings.sort_values("rank"), RANKING_COLUMNS, "ranking-table", row_key="legislator_id"),
        with_rank_interval={"rank_hdi_low", "rank_hdi_high"} <= set(rankings.columns),
        party=party_section, plane=plane_section, external=external_section,
        gates=gates, groups=groups, sampling=key_values(sampling, "sampling", "sampling", "value"),
        gates_passed=bool(diagnostics.get("gates_passed")), lineage=lineage,
    )
