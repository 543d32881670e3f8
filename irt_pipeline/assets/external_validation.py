"""external_validation: the fitted scales against an external score, against each other
and against PCA, and the legislators the methods disagree on (stats/validation.py).

The external score of a partition comes from, in this order:
1. the canonical rows' `external_score` column (Voteview's `nominate_dim1`, DW-NOMINATE
   dimension 1, filled by the Voteview importer);
2. a user-supplied CSV at `{root}/external/{session}_{chamber}.csv` (e.g.
   `irt_data/external/2025-2026_House.csv`) with columns `legislator_id, score`, one row
   per legislator, higher = more conservative (any scale: only correlations are used).
Without either, the checks warn that nothing was compared.

Where the rows also carry `session_score` (Voteview's `nokken_poole_dim1`: NOMINATE
estimated from this Congress alone, the like-for-like comparator of a per-session
estimate), it is correlated too, as the method `session_external`.

Checks (WARN: they never block): `external_r_hierarchical` and `external_r_flat` fail
when Pearson or Spearman r of the model's posterior means with the external score is
below 0.9 (a negative r, a reflected scale, fails too).
"""

import dagster as dg
import pandas as pd

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP, where as _where
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import session_and_chamber, session_chamber_partitions
from irt_pipeline.resources import Storage
from irt_pipeline.stats.models.spec import ModelSpec
from irt_pipeline.stats.validation import (
    DISCREPANCY_SHARE,
    EXTERNAL_R_THRESHOLD,
    correlation,
    external_scores,
    method_correlations,
    rank_discrepancies,
    read_external_csv,
)

EXTERNAL_FOLDER = "external"
WARN = dg.AssetCheckSeverity.WARN


def external_csv(storage: Storage, session: str, chamber: str):
    """`{root}/external/{session}_{chamber}.csv` (UPath)."""
    return storage.base / EXTERNAL_FOLDER / f"{session}_{chamber}.csv"


def load_external(roll_calls: pd.DataFrame, storage: Storage, session: str, chamber: str):
    """(scores by legislator_id, where they came from); (empty, None) when there are none."""
    scores = external_scores(roll_calls)
    if not scores.empty:
        return scores, "roll_calls.external_score"
    path = external_csv(storage, session, chamber)
    if path.exists():
        with path.open("r") as handle:
            return read_external_csv(handle, str(path)), str(path)
    return scores, None


def external_validation_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    """The external validation of the rankings of the models `specs` (the default first),
    each read from its rankings asset."""
    models = [spec.key for spec in specs]
    ins = {f"{spec.key}_rankings": dg.AssetIn(spec.asset("rankings")) for spec in specs}

    @dg.asset(
        name="external_validation",
        ins=ins,
        partitions_def=session_chamber_partitions,
        io_manager_key="json_io",
        group_name=GROUP,
        code_version=versions.EXTERNAL_VALIDATION,
        check_specs=[
            dg.AssetCheckSpec(
                f"external_r_{model}",
                asset="external_validation",
                blocking=False,
                description=f"Pearson and Spearman r of the {model} model's posterior means with the "
                f"external score are at least {EXTERNAL_R_THRESHOLD} (WARN)",
                partitions_def=session_chamber_partitions,
            )
            for model in models
        ],
        description="Pearson and Spearman r between every two of: the models' posterior means ("
        + ", ".join(models) + "), PCA, and the external score (where one exists); and the legislators "
        "whose rank differs between two methods by more than 10% of the chamber.",
    )
    def external_validation(
        context: dg.AssetExecutionContext, storage: Storage, roll_calls: pd.DataFrame, pca_init: pd.DataFrame,
        **rankings: pd.DataFrame,
    ):
        yield from validate(context, storage, roll_calls, pca_init, {key: rankings[f"{key}_rankings"] for key in models})

    return external_validation


def validate(context, storage: Storage, roll_calls: pd.DataFrame, pca_init: pd.DataFrame, rankings: dict):
    """The body of `external_validation`; rankings: model key -> its rankings frame."""
    models = list(rankings)
    session, chamber = session_and_chamber(context)
    try:
        external, source = load_external(roll_calls, storage, session, chamber)
    except BadInput as exc:
        raise dg.Failure(description=f"{_where(context)}: {exc}") from None

    by_id = {key: table.assign(legislator_id=table["legislator_id"].astype(str)).set_index("legislator_id")
             for key, table in rankings.items()}
    info = by_id[models[0]]
    columns = {
        **{key: table["xi_mean"] for key, table in by_id.items()},
        "pca": pca_init.assign(legislator_id=pca_init["legislator_id"].astype(str)).set_index("legislator_id")["pc1"],
    }
    if source is not None:
        columns["external"] = external
    session_external = external_scores(roll_calls, "session_score")
    if not session_external.empty:
        columns["session_external"] = session_external
    scores = pd.DataFrame(columns).reindex(info.index)
    pairs = method_correlations(scores)
    discrepancies = rank_discrepancies(scores)
    discrepancies.insert(1, "name", info.loc[discrepancies["legislator_id"], "name"].to_numpy())
    discrepancies.insert(2, "party", info.loc[discrepancies["legislator_id"], "party"].to_numpy())
    with_external = {
        model: correlation(scores[model], scores["external"]) if source is not None else None for model in models
    }
    with_session = {
        model: correlation(scores[model], scores["session_external"]) for model in models if "session_external" in scores
    }
    result = {
        "external_source": source,
        "external_scored": int(scores["external"].notna().sum()) if source is not None else 0,
        "session_external_scored": int(scores["session_external"].notna().sum()) if with_session else 0,
        "legislators": len(scores),
        "correlations": pairs,
        "discrepancy_share": DISCREPANCY_SHARE,
        "discrepancies": discrepancies.to_dict("records"),
    }
    table = pd.DataFrame(pairs)
    yield dg.Output(
        result,
        metadata={
            "external_source": source or "none",
            "correlations": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".4f")),
            "discrepancies": len(discrepancies),
            "discrepancy_list": dg.MetadataValue.md(
                discrepancies.to_markdown(index=False, floatfmt=".1f") if len(discrepancies) else "none"
            ),
            **{
                f"{model}_{kind}_r_external": round(r[f"{kind}_r"], 4)
                for model, r in with_external.items()
                if r is not None
                for kind in ("pearson", "spearman")
            },
            **{
                f"{model}_{kind}_r_session_external": round(r[f"{kind}_r"], 4)
                for model, r in with_session.items()
                for kind in ("pearson", "spearman")
            },
        },
        data_version=versions.data_version(result),
    )
    for model, r in with_external.items():
        if r is None:
            yield dg.AssetCheckResult(
                check_name=f"external_r_{model}",
                passed=False,
                severity=WARN,
                description="no external score to compare with",
                metadata={
                    "reason": "the rows carry no external_score and there is no "
                    f"{external_csv(storage, session, chamber)} (columns legislator_id, score)"
                },
            )
            continue
        lowest = min(r["pearson_r"], r["spearman_r"])
        yield dg.AssetCheckResult(
            check_name=f"external_r_{model}",
            passed=bool(lowest >= EXTERNAL_R_THRESHOLD),
            severity=WARN,
            metadata={
                "pearson_r": r["pearson_r"],
                "spearman_r": r["spearman_r"],
                "legislators": r["legislators"],
                "threshold": f">= {EXTERNAL_R_THRESHOLD}",
                "source": source,
            },
        )
