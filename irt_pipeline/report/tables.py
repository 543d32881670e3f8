"""Tables of a report as plain data for its template: every cell's text as shown and
its sort key, so the page's script sorts numbers as numbers and a reader (or a browser
test) reads exactly what was rounded for display."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    """One column: the frame's column `key`, its header `label`, `kind` "text", "number"
    (shown with `digits` decimals), "sig" (`digits` significant digits) or "int", and a
    tooltip `title`."""

    key: str
    label: str
    kind: str = "text"
    digits: int = 3
    title: str = ""


def number(value, digits: int = 3) -> str:
    """`value` with `digits` decimals; "" when missing or not finite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def _cell(value, column: Column) -> dict:
    if column.kind == "text":
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        return {"text": text, "sort": None}
    digits = 0 if column.kind == "int" else column.digits
    text = number(value, digits)
    if text and column.kind == "sig":
        text = f"{float(value):.{digits}g}"
    return {"text": text, "sort": repr(float(value)) if text else ""}


def table(frame: pd.DataFrame, columns: list[Column], table_id: str, caption: str = "", row_key: str | None = None) -> dict:
    """The template's table: id, caption, columns (label, kind, title) and rows (cells of
    text and sort key; `row_key`'s value as the row's data-id). Columns whose key the
    frame lacks are left out."""
    shown = [c for c in columns if c.key in frame.columns]
    rows = []
    for record in frame.to_dict("records"):
        rows.append(
            {
                "id": "" if row_key is None else str(record[row_key]),
                "cells": [_cell(record[c.key], c) for c in shown],
            }
        )
    return {
        "id": table_id,
        "caption": caption,
        "columns": [{"label": c.label, "kind": c.kind, "title": c.title} for c in shown],
        "rows": rows,
    }


def key_values(pairs: dict, table_id: str, key_label: str = "setting", value_label: str = "value") -> dict:
    """A two-column table of a mapping (values shown as given)."""
    frame = pd.DataFrame({"key": [str(k) for k in pairs], "value": [_plain(v) for v in pairs.values()]})
    return table(frame, [Column("key", key_label), Column("value", value_label)], table_id)


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
