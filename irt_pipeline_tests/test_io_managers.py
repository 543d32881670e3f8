"""The parquet, NetCDF and JSON IO managers: layout `<root>/<asset>/<chamber>/<session>.<ext>`,
round trips through Dagster, and failed writes that leave the previous file intact."""

from __future__ import annotations

import json

import arviz as az
import dagster as dg
import numpy as np
import pandas as pd
import pytest
from upath import UPath

from irt_pipeline.files import replace_atomic
from irt_pipeline.io_managers import io_managers
from irt_pipeline.partitions import partition_key, session_chamber_partitions

SESSION = "117"


def payloads(session: str, chamber: str, scale: float = 1.0):
    frame = pd.DataFrame(
        {
            "legislator_id": ["100", "200", "300"],
            "name": [f"{chamber} A", f"{chamber} B", "C"],
            "xi_mean": np.array([-1.25, 0.5, 2.0]) * scale,
            "rank": np.array([3, 2, 1], dtype="int64"),
        }
    )
    draws = np.random.default_rng(len(chamber)).normal(size=(2, 5, 3)) * scale
    idata = az.from_dict(
        posterior={"xi": draws}, coords={"legislator": ["100", "200", "300"]}, dims={"xi": ["legislator"]}
    )
    idata.attrs["posterior_id"] = f"{session}-{chamber}-{scale}"
    report = {"session": session, "chamber": chamber, "gates": [{"gate": "rhat_xi", "value": 1.001 * scale}]}
    return frame, idata, report


def make_assets(scale: float = 1.0, bad: str | None = None):
    """Three stored assets, one per IO manager, and one that loads all three.

    bad: the IO manager whose object cannot be written ("parquet", "netcdf", "json").
    """

    def current(context):
        keys = context.partition_key.keys_by_dimension
        return payloads(keys["session"], keys["chamber"], scale)

    @dg.asset(partitions_def=session_chamber_partitions, io_manager_key="parquet_io")
    def table(context) -> pd.DataFrame:
        frame = current(context)[0]
        if bad == "parquet":  # pyarrow cannot convert a column mixing ints and strings
            frame = frame.assign(name=[1, "two", 3.0])
        return frame

    @dg.asset(partitions_def=session_chamber_partitions, io_manager_key="netcdf_io")
    def draws(context):
        idata = current(context)[1]
        if bad == "netcdf":  # NetCDF attributes cannot hold a dict
            idata.posterior.attrs["unwritable"] = {"a": 1}
        return idata

    @dg.asset(partitions_def=session_chamber_partitions, io_manager_key="json_io")
    def report(context) -> dict:
        value = current(context)[2]
        if bad == "json":  # a set is not JSON
            value = {**value, "unwritable": {1, 2}}
        return value

    @dg.asset(partitions_def=session_chamber_partitions, io_manager_key="json_io")
    def loaded(context, table: pd.DataFrame, draws, report: dict) -> dict:
        """What the IO managers handed back, as plain values."""
        return {
            "table": table.to_dict(orient="list"),
            "table_dtypes": {c: str(t) for c, t in table.dtypes.items()},
            "xi": draws.posterior["xi"].values.tolist(),
            "legislators": [str(v) for v in draws.posterior["legislator"].values],
            "posterior_id": draws.attrs["posterior_id"],
            "report": report,
        }

    return [table, draws, report, loaded]


def snapshot(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def sessions(instance):
    instance.add_dynamic_partitions("session", [SESSION])
    return instance


def test_layout_and_round_trip_for_each_partition(tmp_path, sessions):
    root = tmp_path / "store"
    for chamber in ("House", "Senate"):
        result = dg.materialize(
            make_assets(),
            instance=sessions,
            partition_key=partition_key(SESSION, chamber),
            resources=io_managers(str(root)),
        )
        assert result.success

    assert sorted(snapshot(root)) == sorted(
        f"{asset}/{chamber}/{SESSION}.{ext}"
        for asset, ext in [("table", "parquet"), ("draws", "nc"), ("report", "json"), ("loaded", "json")]
        for chamber in ("House", "Senate")
    )  # and no temporary files left behind

    for chamber in ("House", "Senate"):
        frame, idata, report = payloads(SESSION, chamber)
        # the files themselves hold the values
        pd.testing.assert_frame_equal(pd.read_parquet(root / "table" / chamber / f"{SESSION}.parquet"), frame)
        stored = az.from_netcdf(str(root / "draws" / chamber / f"{SESSION}.nc"))
        np.testing.assert_array_equal(stored.posterior["xi"].values, idata.posterior["xi"].values)
        assert stored.attrs["posterior_id"] == f"{SESSION}-{chamber}-1.0"
        assert json.loads((root / "report" / chamber / f"{SESSION}.json").read_text()) == report

        # and the downstream asset got the same values back through the IO managers
        loaded = json.loads((root / "loaded" / chamber / f"{SESSION}.json").read_text())
        assert loaded["table"] == frame.to_dict(orient="list")
        assert loaded["table_dtypes"] == {"legislator_id": "str", "name": "str", "xi_mean": "float64", "rank": "int64"}
        assert loaded["xi"] == idata.posterior["xi"].values.tolist()
        assert loaded["legislators"] == ["100", "200", "300"]
        assert loaded["posterior_id"] == f"{SESSION}-{chamber}-1.0"
        assert loaded["report"] == report

    # House and Senate hold different data
    house = pd.read_parquet(root / "table" / "House" / f"{SESSION}.parquet")
    assert house["name"].tolist()[:2] == ["House A", "House B"]


def test_materialization_metadata_records_the_path(tmp_path, sessions):
    root = tmp_path / "store"
    result = dg.materialize(
        make_assets()[:1], instance=sessions, partition_key=partition_key(SESSION, "Senate"), resources=io_managers(str(root))
    )
    (event,) = result.get_asset_materialization_events()
    path = event.event_specific_data.materialization.metadata["path"].value
    assert path == str(root / "table" / "Senate" / f"{SESSION}.parquet")


def test_overwriting_replaces_the_content(tmp_path, sessions):
    root = tmp_path / "store"
    key = partition_key(SESSION, "Senate")
    assets = make_assets()[:3]
    dg.materialize(assets, instance=sessions, partition_key=key, resources=io_managers(str(root)))
    dg.materialize(make_assets(scale=2.0)[:3], instance=sessions, partition_key=key, resources=io_managers(str(root)))
    frame = pd.read_parquet(root / "table" / "Senate" / f"{SESSION}.parquet")
    assert frame["xi_mean"].tolist() == [-2.5, 1.0, 4.0]
    assert json.loads((root / "report" / "Senate" / f"{SESSION}.json").read_text())["gates"][0]["value"] == 2.002
    assert len(snapshot(root)) == 3


@pytest.mark.parametrize(
    ("bad", "asset", "ext", "cause"),
    [
        ("parquet", "table", "parquet", "Could not convert 'two'"),
        ("netcdf", "draws", "nc", "Invalid value for attr 'unwritable'"),
        ("json", "report", "json", "Object of type set is not JSON serializable"),
    ],
)
def test_a_failing_write_leaves_the_previous_file_intact(tmp_path, sessions, bad, asset, ext, cause):
    root = tmp_path / "store"
    key = partition_key(SESSION, "Senate")
    good = dg.materialize(make_assets()[:3], instance=sessions, partition_key=key, resources=io_managers(str(root)))
    assert good.success
    before = snapshot(root)
    assert f"{asset}/Senate/{SESSION}.{ext}" in before

    (failing,) = [a for a in make_assets(scale=3.0, bad=bad) if a.key.path[-1] == asset]
    result = dg.materialize(
        [failing], instance=sessions, partition_key=key, resources=io_managers(str(root)), raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.event_specific_data.error
    # it failed inside the IO manager's dump, for the reason planted
    assert error.cls_name == "DagsterExecutionHandleOutputError"
    assert cause in error.cause.message
    assert snapshot(root) == before  # same files, same bytes, no temporary leftovers


def test_replace_failing_mid_write_keeps_the_old_file_and_cleans_up(tmp_path):
    target = UPath(tmp_path) / "rankings" / "Senate" / "117.parquet"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"previous good output")

    def half_then_fail(tmp):
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomic(target, half_then_fail)
    assert target.read_bytes() == b"previous good output"
    assert sorted(p.name for p in target.parent.iterdir()) == ["117.parquet"]

    replace_atomic(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["117.parquet"]


def test_a_relative_storage_root_is_read_against_where_it_was_given(tmp_path, monkeypatch):
    """`make_definitions(root="r")`, like IRT_PIPELINE_ROOT=r, means the folder r of the
    working directory at that moment, held as an absolute path (a process that later runs
    elsewhere reads the same files); a URL is kept as it is."""
    from irt_pipeline.definitions import make_definitions

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IRT_PIPELINE_ROOT", "from_env")
    assert make_definitions(root="r").resources["storage"].root == str(tmp_path / "r")
    assert make_definitions().resources["storage"].root == str(tmp_path / "from_env")
    assert make_definitions(root="s3://bucket/prefix").resources["storage"].root == "s3://bucket/prefix"
