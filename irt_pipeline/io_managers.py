"""IO managers on UPathIOManager: one file per (asset, chamber, session) under the
storage root, `<root>/<asset>/<chamber>/<session>.<ext>`, locally or on S3.

Writes go to a temporary name first and are moved into place (irt_pipeline.files),
so a run that fails while writing leaves the previous file intact. A stored file that
cannot be read (truncated, emptied, replaced by something else) fails the step that
reads it with a BadInput naming the file and the command that rebuilds it.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd
from dagster import UPathIOManager

from irt_pipeline.errors import BadInput
from irt_pipeline.files import replace_atomic, write_atomic

# The `irt-pipeline run --model` that rebuilds each stored asset (default: hierarchical).
REBUILT_BY_MODEL = {
    "flat_posterior": "flat", "flat_diagnostics": "flat", "flat_rankings": "flat",
    "posterior_predictive": "both", "flat_posterior_predictive": "both",
    "model_comparison": "both", "external_validation": "both",
}


def rebuild_command(asset: str, session: str, chamber: str) -> str:
    """The CLI command that materializes `asset` of a partition again."""
    model = REBUILT_BY_MODEL.get(asset)
    return f"irt-pipeline run --session {session} --chamber {chamber}" + (f" --model {model}" if model else "")


def unreadable(path, asset: str, session: str | None, chamber: str | None, exc: Exception) -> BadInput:
    """The error for a stored output that cannot be read back."""
    detail = f"{type(exc).__name__}: {exc}".strip()[:300]
    how = (
        f"`{rebuild_command(asset, session, chamber)}` (or materialize {asset} for this "
        "partition in the UI)"
        if session and chamber
        else f"materializing {asset} again"
    )
    return BadInput(
        str(path),
        f"the stored {asset} output cannot be read (truncated, empty or not written by this "
        f"pipeline: {detail}); rebuild it with {how}",
    )


def _reading(context, path, load):
    """`load(path)`, with any failure to read reported by `unreadable`."""
    try:
        return load(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader raises its own types
        session, chamber = _partition_of(context)
        asset = context.asset_key.path[-1] if context is not None and context.has_asset_key else path.parent.parent.name
        raise unreadable(path, asset, session, chamber, exc) from None


def _partition_of(context) -> tuple[str | None, str | None]:
    """(session, chamber) of the one partition an input context loads, else (None, None)."""
    from irt_pipeline.partitions import session_chamber_partitions

    try:
        key = session_chamber_partitions.get_partition_key_from_str(str(context.asset_partition_key))
        return key.keys_by_dimension["session"], key.keys_by_dimension["chamber"]
    except Exception:  # noqa: BLE001 - no context, several partitions, another definition
        return None, None


def read_parquet(path) -> pd.DataFrame:
    with path.open("rb") as handle:
        return pd.read_parquet(handle)


class ParquetIOManager(UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context, obj: pd.DataFrame, path) -> None:
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False)
        write_atomic(path, buffer.getvalue())

    def load_from_path(self, context, path) -> pd.DataFrame:
        return _reading(context, path, read_parquet)


class NetCDFIOManager(UPathIOManager):
    """ArviZ InferenceData as NetCDF. The writer needs a local file, so remote paths go
    through a local temporary file."""

    extension = ".nc"

    def dump_to_path(self, context, obj, path) -> None:
        write_netcdf(path, obj)

    def load_from_path(self, context, path):
        return _reading(context, path, load_netcdf)


def write_netcdf(path, idata) -> None:
    """InferenceData to a local or remote NetCDF file, atomically."""
    with tempfile.TemporaryDirectory() as tmpdir:
        local = Path(tmpdir) / "posterior.nc"
        idata.to_netcdf(str(local))
        replace_atomic(path, lambda tmp: tmp.fs.put_file(str(local), tmp.path))


def load_netcdf(path):
    """InferenceData fully in memory from a local or remote NetCDF file."""
    import arviz as az

    with tempfile.TemporaryDirectory() as tmpdir:
        local = Path(tmpdir) / "posterior.nc"
        path.fs.get_file(path.path, str(local))
        idata = az.from_netcdf(str(local))
        for group in idata.groups():
            getattr(idata, group).load()
    return idata


class LazyNetCDFIOManager(NetCDFIOManager):
    """NetCDFIOManager for inputs that span many partitions (a chamber's sessions): each
    partition loads as a zero-argument function returning its InferenceData, so the
    consumer holds one posterior in memory at a time. A missing file is reported as
    missing (FileNotFoundError) when the input is loaded, as the eager manager does."""

    def load_from_path(self, context, path):
        if not path.exists():
            raise FileNotFoundError(str(path))
        return lambda: load_netcdf(path)


class JsonIOManager(UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context, obj: dict, path) -> None:
        write_atomic(path, json.dumps(obj, indent=2, sort_keys=True))

    def load_from_path(self, context, path) -> dict:
        return _reading(context, path, lambda p: json.loads(p.read_text()))


class _RootedIOManager(dg.ConfigurableIOManagerFactory):
    root: str
    io_manager_class: ClassVar[type]

    def create_io_manager(self, context):
        from irt_pipeline.resources import upath

        return self.io_manager_class(base_path=upath(self.root))


class ParquetStore(_RootedIOManager):
    io_manager_class = ParquetIOManager


class NetCDFStore(_RootedIOManager):
    io_manager_class = NetCDFIOManager


class LazyNetCDFStore(_RootedIOManager):
    io_manager_class = LazyNetCDFIOManager


class JsonStore(_RootedIOManager):
    io_manager_class = JsonIOManager


def io_managers(root: str) -> dict:
    return {
        "parquet_io": ParquetStore(root=root),
        "netcdf_io": NetCDFStore(root=root),
        "json_io": JsonStore(root=root),
        "netcdf_lazy_io": LazyNetCDFStore(root=root),
    }
