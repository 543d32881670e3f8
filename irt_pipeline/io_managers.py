"""IO managers on UPathIOManager: one file per (asset, chamber, session) under the
storage root, `<root>/<asset>/<chamber>/<session>.<ext>`, locally or on S3.

Writes go to a temporary name first and are moved into place, so a run that fails
while writing leaves the previous file intact.
"""

from __future__ import annotations

import io
import json
import tempfile
import uuid
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd
from dagster import UPathIOManager


def _replace(path, write) -> None:
    """Write through `write(tmp_path)` then move over `path` (atomic on local disk)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        path.fs.mv(tmp.path, path.path)
    finally:
        if tmp.exists():
            tmp.unlink()


class ParquetIOManager(UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context, obj: pd.DataFrame, path) -> None:
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False)
        _replace(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))

    def load_from_path(self, context, path) -> pd.DataFrame:
        with path.open("rb") as handle:
            return pd.read_parquet(handle)


class NetCDFIOManager(UPathIOManager):
    """ArviZ InferenceData as NetCDF. The writer needs a local file, so remote paths go
    through a local temporary file."""

    extension = ".nc"

    def dump_to_path(self, context, obj, path) -> None:
        write_netcdf(path, obj)

    def load_from_path(self, context, path):
        return load_netcdf(path)


def write_netcdf(path, idata) -> None:
    """InferenceData to a local or remote NetCDF file, atomically (see `_replace`)."""
    with tempfile.TemporaryDirectory() as tmpdir:
        local = Path(tmpdir) / "posterior.nc"
        idata.to_netcdf(str(local))
        _replace(path, lambda tmp: tmp.fs.put_file(str(local), tmp.path))


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
        text = json.dumps(obj, indent=2, sort_keys=True)
        _replace(path, lambda tmp: tmp.write_text(text))

    def load_from_path(self, context, path) -> dict:
        return json.loads(path.read_text())


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
