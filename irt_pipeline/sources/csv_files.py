"""Reading a source's CSV file with errors that name the file, the line and the problem.

Accepted: UTF-8 with or without a byte-order mark, LF or CRLF line ends, blank lines,
columns beyond the ones read. Refused with a BadInput: an empty file, a header
without rows, text that is not UTF-8 (e.g. Latin-1 from a spreadsheet), a missing
column, a line with more fields than the header, and an empty value in a column that
must have one (which is also what a truncated last line looks like).

Line numbers are those of the file (the header is line 1), as an editor shows them,
for files whose quoted fields hold no line breaks (the layouts read here have none).
"""

from __future__ import annotations

import io

import pandas as pd

from irt_pipeline.errors import BadInput

HEADER_BYTES = 1 << 16  # enough for any header line: columns are checked before the rest is read


def lines_where(frame: pd.DataFrame, mask: pd.Series) -> tuple[int, str]:
    """The first file line of the rows of `frame` (read by `read_source_csv`) where `mask`
    holds, and " (N such line(s), e.g. [...])" when there are several (else "")."""
    lines = frame.loc[mask, "_line"].tolist()
    more = f" ({len(lines)} such line(s), e.g. {lines[:5]})" if len(lines) > 1 else ""
    return lines[0], more


def _decode(path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(
            path,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} (a file saved as "
            "Latin-1 or Windows-1252?); save it as UTF-8 and try again",
        ) from None


def read_source_csv(
    path, columns: list[str], what: str, nonempty=(), aliases: dict[str, str] | None = None, **read_csv
) -> pd.DataFrame:
    """The rows of a CSV file at a local path or fsspec URL (s3://...), with a column
    `_line` holding each row's line number in the file. `path` may also be anything
    with `open("rb")` whose `str()` names the file (a UPath, or bytes already read
    into memory: `files.FileBytes`).

    `columns` must all be present and the file must have rows; every column of
    `nonempty` must have a value on every row. `aliases` ({old name: name}) reads a
    column under an earlier name when the file lacks the current one. `what` names the
    file's role in messages ("the Voteview votes file"). Extra keyword arguments go to
    `pandas.read_csv`.
    """
    from upath import UPath

    with (path if hasattr(path, "open") else UPath(str(path))).open("rb") as handle:
        head = handle.read(HEADER_BYTES)
        if not head.strip():
            raise BadInput(path, f"{what} is empty")
        header = _decode(path, head.split(b"\n", 1)[0].rstrip(b"\r"))
        names = [c.strip().strip('"') for c in header.split(",")]
        renames = {old: new for old, new in (aliases or {}).items() if old in names and new not in names}
        names = [renames.get(n, n) for n in names]
        missing = [c for c in columns if c not in names]
        if missing:
            raise BadInput(path, f"{what} lacks column(s) {missing} (its header: {header[:200]!r})")
        text = _decode(path, head + handle.read())
    try:
        frame = pd.read_csv(io.StringIO(text), skip_blank_lines=False, **read_csv)
    except pd.errors.EmptyDataError:
        raise BadInput(path, f"{what} is empty") from None
    except pd.errors.ParserError as exc:
        raise BadInput(path, f"not a readable CSV file ({str(exc).strip()})") from None
    frame = frame.rename(columns=renames)
    frame["_line"] = frame.index + 2
    blank = frame.drop(columns="_line").apply(lambda c: c.isna() | (c.astype(str).str.strip() == "")).all(axis=1)
    frame = frame[~blank]
    if frame.empty:
        raise BadInput(path, f"{what} has a header but no rows")
    for column in nonempty:
        values = frame[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            line, more = lines_where(frame, empty)
            raise BadInput(
                path,
                f"line {line} has no {column} value{more}; a line cut short, e.g. by an "
                "interrupted copy, looks like this",
            )
    return frame
