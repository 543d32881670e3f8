"""`irt-pipeline rankings`: stored outputs printed as CSV or JSON (nothing is run)."""

from __future__ import annotations

import sys

import pandas as pd

from irt_pipeline.cli import _shared
from irt_pipeline.errors import BadInput
from irt_pipeline.partitions import validate_session_key


def read_rankings(session: str, chamber: str, model: str | None = None) -> pd.DataFrame:
    """The stored rankings of `model` (a registered key; default: the default model)."""
    from irt_pipeline.io_managers import read_parquet, rebuild_command, unreadable

    catalog = _shared.catalog()
    model = model or catalog.default.key
    asset = catalog.models[model].asset("rankings")
    hints = catalog.rebuild_models()
    path = _shared.storage().base / asset / chamber / f"{validate_session_key(session)}.parquet"
    if not path.exists():
        raise BadInput(
            f"session={session} chamber={chamber}",
            f"no {asset} stored at {path} (run `{rebuild_command(asset, session, chamber, hints)}` first)",
        )
    try:
        return read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise unreadable(path, asset, session, chamber, exc, hints) from None


def print_table(table: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print(table.to_json(orient="records", indent=2))


def cmd_rankings(args) -> int:
    print_table(read_rankings(args.session, args.chamber, args.model), args.format)
    return 0


