"""Enforce the canonical roll-call contract (data_contracts/) with Great Expectations.

great_expectations takes 1.5-3 s to import (most of the roll_calls step), so it is
imported inside `validate_roll_calls` only, never when the Dagster definitions load,
and `validate_or_reuse` skips it for rows that already passed: a pass is recorded
under `{root}/cache/contract/`, keyed by the rows' content, the suite, the version of
Great Expectations and the roll_calls code version.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import version

import pandas as pd

from data_contracts import roll_call_schema, roll_call_suite
from irt_pipeline import versions
from irt_pipeline.cache import entry_path
from irt_pipeline.errors import BadInput
from irt_pipeline.files import write_atomic

log = logging.getLogger(__name__)


def canonical_columns(required_only: bool = False) -> list[str]:
    return [
        c["name"]
        for c in roll_call_schema()["columns"]
        if c["required"] or not required_only
    ]


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical column order and types; absent optional columns are added as nulls.

    Required columns are not invented: a frame missing one keeps it missing so that
    validation reports it.
    """
    out = pd.DataFrame(index=frame.index)
    for column in roll_call_schema()["columns"]:
        name = column["name"]
        if name in frame.columns:
            values = frame[name]
        elif column["required"]:
            continue
        else:
            values = pd.Series(pd.NA, index=frame.index)
        if column["type"] == "float64":
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[name] = values.astype("string")
    return out.reset_index(drop=True)


def schema_problems(frame: pd.DataFrame) -> list[str]:
    """The column rules of roll_call_schema.json checked with pandas alone: required
    columns present, non-nullable ones without empty values, allowed values, the
    session key pattern and the unique key. A fast pre-flight (milliseconds, no Great
    Expectations import) for the landing sensor; `validate_roll_calls` stays the gate."""
    from irt_pipeline.partitions import SESSION_KEY

    schema = roll_call_schema()
    problems = []
    for column in schema["columns"]:
        name = column["name"]
        if name not in frame.columns:
            if column["required"]:
                problems.append(f"missing column {name!r}")
            continue
        values = frame[name]
        empty = values.isna()
        if not column.get("blank_allowed"):
            empty |= values.astype("string").str.strip() == ""
        if not column["nullable"] and empty.any():
            problems.append(f"column {name!r} has empty values ({int(empty.sum())} row(s))")
        allowed = column.get("allowed")
        if allowed:
            outside = sorted(set(values[~empty].astype(str)) - set(allowed))
            if outside:
                problems.append(f"column {name!r} has values outside {allowed}: {outside[:5]}")
    if "session" in frame.columns:
        bad = sorted({s for s in frame["session"].dropna().astype(str) if not SESSION_KEY.match(s)})
        if bad:
            problems.append(f"invalid session key(s) {bad[:3]}")
    key = schema["unique"]
    if set(key) <= set(frame.columns):
        repeated = frame.duplicated(key, keep=False)
        if repeated.any():
            first = frame.loc[repeated, key].iloc[0].tolist()
            problems.append(f"duplicate rows for {key} ({int(repeated.sum())} row(s), e.g. {first})")
    return problems


@dataclass
class ContractResult:
    where: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    evaluated: int = 0

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise BadInput(
                self.where,
                "violates the canonical roll-call contract: " + "; ".join(self.failures),
            )


def _describe(result) -> str:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or kwargs.get("column_list")
    details = result.result or {}
    examples = details.get("partial_unexpected_list")
    text = {
        "expect_table_row_count_to_be_between": "the file has no rows",
        "expect_column_to_exist": f"missing column {column!r}",
        "expect_column_values_to_not_be_null": f"column {column!r} has empty values",
        "expect_column_values_to_be_in_set": (
            f"column {column!r} has values outside {sorted(kwargs.get('value_set', []))}"
        ),
        "expect_column_values_to_match_regex": (
            f"column {column!r} has blank values"
            if kwargs.get("regex") == r"\S"
            else f"column {column!r} has values not matching {kwargs.get('regex')!r}"
        ),
        "expect_compound_columns_to_be_unique": f"duplicate rows for {column}",
        "expect_table_columns_to_match_set": "unexpected column set",
    }.get(config.type, config.type)
    count = details.get("unexpected_count")
    if count:
        text += f" ({count} row(s)"
        if examples:
            text += f", e.g. {examples[:3]}"
        text += ")"
    return text


def validate_roll_calls(frame: pd.DataFrame, where: str) -> ContractResult:
    """Validate canonical rows against data_contracts/roll_calls.suite.json."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    spec = roll_call_suite()
    present = set(frame.columns)
    expectations = []
    failures = []
    for item in spec["expectations"]:
        column = item["kwargs"].get("column")
        if item["type"] == "expect_column_to_exist" and column not in present:
            # Reported here: GE would also fail every other expectation on this column.
            failures.append(f"missing column {column!r}")
            continue
        if column is not None and column not in present:
            continue
        columns = item["kwargs"].get("column_list", [])
        if any(c not in present for c in columns):
            continue
        expectations.append(ExpectationConfiguration(**item).to_domain_obj())
    if failures or frame.empty:
        if frame.empty:
            failures.insert(0, "the file has no rows")
        return ContractResult(where, False, failures, len(spec["expectations"]))

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("roll_calls")
        .add_dataframe_asset("partition")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=spec["name"], expectations=expectations)
    outcome = batch.validate(suite)
    failures = [_describe(r) for r in outcome.results if not r.success]
    return ContractResult(where, not failures, failures, len(spec["expectations"]))


def verdict_key(rows_digest: str, frame: pd.DataFrame) -> str:
    """32 hex digits naming what a verdict depends on: the rows (their content digest
    and column types), the suite, Great Expectations' version and the roll_calls code
    version (contract.py is part of it)."""
    return versions.digest(
        {
            "rows": rows_digest,
            "types": {str(name): str(kind) for name, kind in frame.dtypes.items()},
            "suite": roll_call_suite(),
            "great_expectations": version("great_expectations"),
            "code": versions.ROLL_CALLS,
        }
    )[:32]


def passed_before(path, key: str) -> bool:
    """Whether `path` records a pass for `key`. No file, an unreadable one, another key
    or anything but a pass: False, and the rows are validated again (fail closed)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("key") == key and record.get("passed") is True


@dataclass
class Verdict:
    """The contract's verdict on a partition's rows: a pass, validated now or reused."""

    path: object  # UPath of the record
    key: str
    rows_digest: str
    reused: bool
    expectations: int = 0

    @property
    def status(self) -> str:
        return "reused" if self.reused else "validated"

    def record(self) -> None:
        """Record a pass validated now, once the rows are known good (the caller's own
        checks passed too). A pass that cannot be recorded costs the next run a
        validation, nothing else."""
        if self.reused:
            return
        record = {"key": self.key, "passed": True, "rows": self.rows_digest, "expectations": self.expectations}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(record, indent=1))
        except OSError as exc:
            log.warning("contract: the pass of %s was not recorded (%s); the next run validates again", self.path, exc)


def validate_or_reuse(frame: pd.DataFrame, where: str, rows_digest: str, base) -> Verdict:
    """Raise BadInput unless `frame` satisfies the contract, validating only rows that
    have no recorded pass (at `{base}/cache/contract/<key>.json`, base the storage root
    as a UPath); `rows_digest` is the frame's content digest. Only passes are ever
    recorded (`Verdict.record`), so failing rows are validated every time and their
    problems named afresh."""
    key = verdict_key(rows_digest, frame)
    path = entry_path(base, "contract", key, ".json")
    if passed_before(path, key):
        return Verdict(path, key, rows_digest, reused=True)
    result = validate_roll_calls(frame, where)
    result.raise_if_failed()
    return Verdict(path, key, rows_digest, reused=False, expectations=result.evaluated)
