"""Reading a source's CSV file with errors that name the file and the problem."""

from __future__ import annotations

import pandas as pd

from irt_pipeline.errors import BadInput


def read_source_csv(path, columns: list[str], what: str, **read_csv) -> pd.DataFrame:
    """The rows of a CSV file at a local path or fsspec URL (s3://...).

    `columns` must all be present and the file must have rows; `what` names the file's
    role in messages ("the Voteview votes file"). Extra keyword arguments go to
    `pandas.read_csv`.
    """
    from upath import UPath

    try:
        with UPath(str(path)).open("r", encoding="utf-8") as handle:
            frame = pd.read_csv(handle, **read_csv)
    except pd.errors.EmptyDataError:
        raise BadInput(path, f"{what} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BadInput(path, f"not a readable CSV file ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BadInput(path, f"{what} lacks column(s) {missing}")
    if frame.empty:
        raise BadInput(path, f"{what} has a header but no rows")
    return frame
