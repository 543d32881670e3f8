"""IO managers on UPathIOManager: one file per (asset, chamber, session) under the
storage root, `<root>/<asset>/<chamber>/<session>.<ext>`, locally or on S3.

Writes go to a temporary name first and are moved into place (irt_pipeline.files),
so a run that fails while writing leaves the previous file intact. A stored file that
cannot be read (truncated, emptied, replaced by something else) fails the step that
reads it with a BadInput naming the file and the command that rebuilds it (the
`--model` that rebuilds each asset comes from the catalog: `rebuild`, asset -> model).

The vote matrix is stored in long form (parquet, observed cells) and handed to the
assets as a `VoteMatrix` (dense), made once per stored file and process: every step of
a run that reads it shares one.
"""

from __future__ import annotations

import collections
import io
import json
import tempfile
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd
from dagster import UPathIOManager

from irt_pipeline.errors import BadInput
from irt_pipeline.files import as_upath, replace_atomic, write_atomic


def rebuild_command(asset: str, session: str, chamber: str, rebuild: dict | None = None) -> str:
    """The CLI command that materializes `asset` of a partition again; rebuild: asset ->
    the `--model` whose job materializes it (`Catalog.rebuild_models`; default: none)."""
    model = (rebuild or {}).get(asset)
    return f"irt-pipeline run --session {session} --chamber {chamber}" + (f" --model {model}" if model else "")


def unreadable(path, asset: str, session: str | None, chamber: str | None, exc: Exception, rebuild=None) -> BadInput:
    """The error for a stored output that cannot be read back."""
    detail = f"{type(exc).__name__}: {exc}".strip()[:300]
    how = (
        f"`{rebuild_command(asset, session, chamber, rebuild)}` (or materialize {asset} for this "
        "partition in the UI)"
        if session and chamber
        else f"materializing {asset} again"
    )
    return BadInput(
        str(path),
        f"the stored {asset} output cannot be read (truncated, empty or not written by this "
        f"pipeline: {detail}); rebuild it with {how}",
    )


def _reading(manager, context, path, load):
    """`load(path)`, with any failure to read reported by `unreadable`."""
    try:
        return load(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader raises its own types
        session, chamber = _partition_of(context)
        asset = context.asset_key.path[-1] if context is not None and context.has_asset_key else path.parent.parent.name
        raise unreadable(path, asset, session, chamber, exc, getattr(manager, "rebuild", None)) from None


def _partition_of(context) -> tuple[str | None, str | None]:
    """(session, chamber) of the one partition an input context loads, else (None, None)."""
    from irt_pipeline.partitions import split_key

    try:
        return split_key(context.asset_partition_key)
    except Exception:  # noqa: BLE001 - no context, several partitions, another definition
        return None, None


def read_parquet(path) -> pd.DataFrame:
    with path.open("rb") as handle:
        return pd.read_parquet(handle)


class _Rebuilding(UPathIOManager):
    """A UPathIOManager that knows which command rebuilds each asset (for its errors)."""

    def __init__(self, base_path, rebuild: dict | None = None):
        super().__init__(base_path=base_path)
        self.rebuild = dict(rebuild or {})


class ParquetIOManager(_Rebuilding):
    extension = ".parquet"

    def dump_to_path(self, context, obj: pd.DataFrame, path) -> None:
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False)
        write_atomic(path, buffer.getvalue())

    def load_from_path(self, context, path) -> pd.DataFrame:
        return _reading(self, context, path, read_parquet)


_MATRICES: collections.OrderedDict = collections.OrderedDict()  # (path, file version) -> VoteMatrix
KEPT_MATRICES = 4  # a House's dense matrix is ~4 MB


def _vote_matrix(path):
    """The VoteMatrix of a stored long-form file, made once per (path, file version) in a
    process (the version: fsspec's `ukey`, which changes whenever the file is replaced)."""
    from irt_pipeline.stats.matrix import VoteMatrix

    key = (str(path), path.fs.ukey(path.path))
    if key not in _MATRICES:
        matrix = VoteMatrix.from_frame(read_parquet(path))
        matrix.votes.flags.writeable = False  # shared by every step that reads it
        _MATRICES[key] = matrix
        while len(_MATRICES) > KEPT_MATRICES:
            _MATRICES.popitem(last=False)
    return _MATRICES[key]


class VoteMatrixIOManager(ParquetIOManager):
    """A `VoteMatrix` stored in long form (observed cells, `VoteMatrix.to_frame`) and
    loaded dense (`VoteMatrix.from_frame`), once per stored file in a process."""

    def dump_to_path(self, context, obj, path) -> None:
        super().dump_to_path(context, obj.to_frame(), path)

    def load_from_path(self, context, path):
        return _reading(self, context, path, _vote_matrix)


class NetCDFIOManager(_Rebuilding):
    """ArviZ InferenceData as NetCDF. The writer needs a local file, so remote paths go
    through a local temporary file."""

    extension = ".nc"

    def dump_to_path(self, context, obj, path) -> None:
        write_netcdf(path, obj)

    def load_from_path(self, context, path):
        return _reading(self, context, path, load_netcdf)


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


class JsonIOManager(_Rebuilding):
    extension = ".json"

    def dump_to_path(self, context, obj: dict, path) -> None:
        write_atomic(path, json.dumps(obj, indent=2, sort_keys=True))

    def load_from_path(self, context, path) -> dict:
        return _reading(self, context, path, lambda p: json.loads(p.read_text()))


class _RootedIOManager(dg.ConfigurableIOManagerFactory):
    root: str
    rebuild: dict[str, str] = {}  # asset -> the --model that rebuilds it (Catalog.rebuild_models)
    io_manager_class: ClassVar[type]

    def create_io_manager(self, context):
        return self.io_manager_class(base_path=as_upath(self.root), rebuild=self.rebuild)


class ParquetStore(_RootedIOManager):
    io_manager_class = ParquetIOManager


class VoteMatrixStore(_RootedIOManager):
    io_manager_class = VoteMatrixIOManager


class NetCDFStore(_RootedIOManager):
    io_manager_class = NetCDFIOManager


class LazyNetCDFStore(_RootedIOManager):
    io_manager_class = LazyNetCDFIOManager


class JsonStore(_RootedIOManager):
    io_manager_class = JsonIOManager


def io_managers(root: str, rebuild: dict | None = None) -> dict:
    """The IO managers over the storage root; rebuild: asset -> the --model that
    rebuilds it, for the message about an unreadable stored file."""
    stores = {"parquet_io": ParquetStore, "vote_matrix_io": VoteMatrixStore, "netcdf_io": NetCDFStore,
              "json_io": JsonStore, "netcdf_lazy_io": LazyNetCDFStore}
    return {key: store(root=root, rebuild=dict(rebuild or {})) for key, store in stores.items()}
