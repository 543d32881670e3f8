"""The storage root on S3: moto's server on 127.0.0.1, s3fs pointed at it through
AWS_ENDPOINT_URL. The landing sensor watches s3://bucket/prefix/landing/, the chain
reads its landing files there, and parquet and NetCDF round-trip through the
project's IO managers."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("moto.server")

from services import S3_CREDENTIALS, start_s3_server
from test_sensor import Ticker, added, partitions

from irt_pipeline.assets import pca_init, roll_calls, vote_matrix
from irt_pipeline.definitions import make_definitions
from irt_pipeline.io_managers import NetCDFStore, ParquetStore
from irt_pipeline.partitions import partition_key, session_chamber_partitions

BUCKET = "irt-test"
ROOT = f"s3://{BUCKET}/prefix"


@pytest.fixture
def s3(monkeypatch):
    """An s3fs filesystem on a fresh local moto server with an empty bucket."""
    import s3fs

    server, endpoint = start_s3_server()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.mkdir(BUCKET)
    yield fs
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_sensor_and_chain_on_s3(s3, instance, shared_voteview):
    landing = f"{BUCKET}/prefix/landing"
    for kind in ("votes", "members"):
        s3.put_file(str(shared_voteview / f"S117_{kind}.csv"), f"{landing}/S117_{kind}.csv")

    ticker = Ticker(ROOT, instance)
    first = ticker.tick()
    assert added(first) == ["117"] and partitions(first) == ["Senate|117"]
    assert ticker.tick().run_requests == []

    # A bad batch on S3 is listed in the quarantine on S3 and blocks only its partition.
    s3.pipe_file(f"{landing}/S117_votes_batch2.csv", b"congress,chamber,rollnumber,icpsr,cast_code\n117,Senate,1,99999,1\n")
    blocked = ticker.tick()
    assert blocked.run_requests == []
    [entry] = json.loads(s3.cat_file(f"{BUCKET}/prefix/quarantine/landing.json"))["problems"]
    assert "S117_votes_batch2.csv" in entry["problem"] and "not in the members file(s)" in entry["problem"]
    assert entry["blocks"] == ["Senate|117"]

    s3.rm_file(f"{landing}/S117_votes_batch2.csv")
    assert ticker.tick().run_requests == []  # back to the bytes of the run already requested
    assert json.loads(s3.cat_file(f"{BUCKET}/prefix/quarantine/landing.json"))["problems"] == []

    votes = pd.read_csv(shared_voteview / "S117_votes.csv")
    s3.pipe_file(f"{landing}/S117_votes.csv", votes[votes["rollnumber"] > 1].to_csv(index=False).encode())
    changed = ticker.tick()
    assert partitions(changed) == ["Senate|117"]
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key

    # The chain reads the S3 landing files and stores its parquet outputs on S3.
    defs = make_definitions(ROOT)
    result = dg.materialize(
        [roll_calls, vote_matrix, pca_init],
        instance=instance,
        partition_key=partition_key("117", "Senate"),
        resources=defs.resources,
    )
    assert result.success
    assert result.output_for_node("roll_calls")["roll_call_id"].nunique() == votes["rollnumber"].nunique() - 1
    stored = pd.read_parquet(s3.open(f"{BUCKET}/prefix/pca_init/Senate/117.parquet"))
    pd.testing.assert_frame_equal(stored, result.output_for_node("pca_init"), check_like=True)


def _contexts(asset: str, key: str, instance):
    output = dg.build_output_context(
        asset_key=asset, partition_key=key, asset_partitions_def=session_chamber_partitions,
        instance=instance,
    )
    return output, dg.build_input_context(
        asset_key=asset, partition_key=key, asset_partitions_def=session_chamber_partitions,
        upstream_output=output, instance=instance,
    )


def test_parquet_and_netcdf_round_trip_through_io_managers_on_s3(s3, instance):
    import arviz as az

    instance.add_dynamic_partitions("session", ["117"])
    key = str(partition_key("117", "Senate"))
    frame = pd.DataFrame({"legislator_id": ["a", "b"], "pc1": [-1.0, 1.0]})
    parquet = ParquetStore(root=ROOT).create_io_manager(None)
    out, inp = _contexts("pca_init", key, instance)
    parquet.handle_output(out, frame)
    assert s3.exists(f"{BUCKET}/prefix/pca_init/Senate/117.parquet")
    pd.testing.assert_frame_equal(parquet.load_input(inp), frame)

    rng = np.random.default_rng(0)
    idata = az.from_dict(posterior={"xi": rng.normal(size=(2, 5, 3))})
    netcdf = NetCDFStore(root=ROOT).create_io_manager(None)
    out, inp = _contexts("posterior", key, instance)
    netcdf.handle_output(out, idata)
    assert s3.exists(f"{BUCKET}/prefix/posterior/Senate/117.nc")
    assert not [p for p in s3.find(f"{BUCKET}/prefix") if p.endswith(".tmp")]
    back = netcdf.load_input(inp)
    np.testing.assert_array_equal(back.posterior["xi"].values, idata.posterior["xi"].values)
