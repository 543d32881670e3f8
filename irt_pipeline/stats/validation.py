"""Compare estimated ideal points with known or external ones."""

from __future__ import annotations

import numpy as np
import pandas as pd


def recovery(rankings: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """How well rankings recover true standardized ideal points.

    rankings: legislator_id, xi_mean, xi_hdi_low, xi_hdi_high; truth: legislator_id,
    xi_true (standardized over the whole chamber). The truth is restandardized over the
    legislators that were ranked, the scale the model reports.
    Returns Pearson r and the share of true values inside their 94% HDIs.
    """
    merged = rankings.merge(truth[["legislator_id", "xi_true"]], on="legislator_id")
    true = merged["xi_true"].to_numpy()
    true = (true - true.mean()) / true.std()
    inside = (merged["xi_hdi_low"] <= true) & (true <= merged["xi_hdi_high"])
    return {
        "legislators": len(merged),
        "pearson_r": float(np.corrcoef(merged["xi_mean"], true)[0, 1]),
        "hdi94_coverage": float(inside.mean()),
    }


EXTERNAL_R_THRESHOLD = 0.9  # Pearson and Spearman r with an external score below this warn
DISCREPANCY_SHARE = 0.10  # rank differences above this share of the chamber are listed


def correlation(a, b) -> dict:
    """Pearson and Spearman r of two score vectors over the pairs where both are finite."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < 3:
        return {"pearson_r": float("nan"), "spearman_r": float("nan"), "legislators": int(both.sum())}
    return {
        "pearson_r": float(stats.pearsonr(a[both], b[both])[0]),
        "spearman_r": float(stats.spearmanr(a[both], b[both])[0]),
        "legislators": int(both.sum()),
    }


def method_correlations(scores: pd.DataFrame) -> list[dict]:
    """Pearson and Spearman r for every pair of methods. scores: one row per legislator,
    one column per method (NaN where a method has no score)."""
    methods = list(scores.columns)
    return [
        {"a": a, "b": b, **correlation(scores[a], scores[b])}
        for i, a in enumerate(methods)
        for b in methods[i + 1 :]
    ]


def rank_discrepancies(scores: pd.DataFrame, share: float = DISCREPANCY_SHARE) -> pd.DataFrame:
    """Legislators whose rank differs between two methods by more than `share` of the
    chamber.

    scores: one row per legislator (index legislator_id), one column per method, higher
    = more conservative. Ranks (1 = most conservative) are taken over the legislators
    every method scores, and the chamber is that many legislators. Returns one row per
    flagged legislator: legislator_id, rank_<method> for every method,
    max_rank_difference and `between` (the pair of methods that differ most), largest
    difference first.
    """
    common = scores.dropna()
    ranks = common.rank(ascending=False, method="average")
    methods = list(scores.columns)
    pairs = [(a, b) for i, a in enumerate(methods) for b in methods[i + 1 :]]
    columns = ["legislator_id", *[f"rank_{m}" for m in methods], "max_rank_difference", "between"]
    if not pairs or common.empty:
        return pd.DataFrame(columns=columns)
    gaps = pd.DataFrame({f"{a} vs {b}": (ranks[a] - ranks[b]).abs() for a, b in pairs})
    out = ranks.add_prefix("rank_")
    out["max_rank_difference"] = gaps.max(axis=1)
    out["between"] = gaps.idxmax(axis=1)
    out = out[out["max_rank_difference"] > share * len(common)]
    out = out.sort_values("max_rank_difference", ascending=False, kind="stable")
    return out.rename_axis("legislator_id").reset_index()[columns]


def external_scores(roll_calls: pd.DataFrame, column: str = "external_score") -> pd.Series:
    """An external score per legislator_id (str) from an optional column of canonical
    rows: `external_score` (Voteview's DW-NOMINATE dim 1, a common-space score) or
    `session_score` (Nokken-Poole dim 1, estimated from this session alone), or their
    `_dim2` twins; empty when the rows carry none."""
    if column not in roll_calls.columns:
        return pd.Series(dtype=float)
    rows = roll_calls[["legislator_id", column]].dropna()
    rows = rows.assign(legislator_id=rows["legislator_id"].astype(str))
    return rows.drop_duplicates("legislator_id").set_index("legislator_id")[column].astype(float)


def read_external_csv(handle, where: str) -> pd.Series:
    """External scores from a user-supplied CSV with columns legislator_id, score (one
    row per legislator; higher = more conservative). Raises BadInput naming `where`."""
    from irt_pipeline.errors import BadInput

    try:
        frame = pd.read_csv(handle, dtype={"legislator_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadInput(where, f"not a readable CSV file ({exc})") from None
    missing = [c for c in ("legislator_id", "score") if c not in frame.columns]
    if missing:
        raise BadInput(where, f"the external score file lacks column(s) {missing} (needs legislator_id, score)")
    scores = pd.to_numeric(frame["score"], errors="coerce")
    if scores.isna().any():
        raise BadInput(where, f"{int(scores.isna().sum())} score value(s) are blank or not numbers")
    if frame["legislator_id"].duplicated().any():
        raise BadInput(where, "a legislator_id appears more than once")
    return pd.Series(scores.to_numpy(float), index=frame["legislator_id"].astype(str).to_numpy(), name="score")
