"""The landing sensor, driven through real ticks (`evaluate_tick`) against a real
DagsterInstance, so partition keys and resources are checked as the daemon would."""

from __future__ import annotations

import json
import os
import shutil

import dagster as dg
import pandas as pd
import pytest
from kansas_fixture import write_biennium
from upath import UPath

from irt_pipeline.definitions import make_definitions
from irt_pipeline.landing import read_partition
from irt_pipeline.partitions import session_partitions
from irt_pipeline.sources.batches import write_batches
from irt_pipeline.watch import Cursor, scan


class Ticker:
    """Evaluates the landing sensor like the daemon: one tick after another, carrying
    the cursor and applying the requested dynamic partitions to the instance."""

    def __init__(self, root, instance):
        self.defs = make_definitions(str(root))
        self.sensor = self.defs.resolve_sensor_def("landing_sensor")
        self.instance = instance
        self.cursor = None
        self.root = root

    def tick(self):
        # `with`: the context opens its own instance from the ref; closing it at once
        # keeps that instance from being finalized later, inside another test.
        with dg.build_sensor_context(
            instance_ref=self.instance.get_ref(),
            definitions=self.defs,
            resources=self.defs.resources,
            cursor=self.cursor,
        ) as context:
            result = self.sensor.evaluate_tick(context)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor
        return result

    def quarantine(self) -> list[dict]:
        return json.loads((self.root / "quarantine" / "landing.json").read_text())["problems"]


def partitions(result) -> list[str]:
    return sorted(str(r.partition_key) for r in result.run_requests)


def added(result) -> list[str]:
    return sorted(k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys)


def copy_pair(shared, landing, congress: int) -> None:
    for kind in ("votes", "members"):
        shutil.copy(shared / f"S{congress}_{kind}.csv", landing / f"S{congress}_{kind}.csv")


@pytest.fixture
def ticker(storage_root, instance):
    return Ticker(storage_root, instance)


def test_sensor_is_registered_and_on_by_default():
    sensor = make_definitions("/tmp/unused-root").resolve_sensor_def("landing_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "irt_chain"


def test_new_session_then_no_change_then_change(ticker, storage_root, shared_voteview):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 117)

    first = ticker.tick()
    assert added(first) == ["117"]
    assert partitions(first) == ["Senate|117"]
    key = first.run_requests[0].run_key
    assert len(key) == 64 and int(key, 16) >= 0
    assert first.run_requests[0].tags["dagster/partition/session"] == "117"
    assert ticker.instance.get_dynamic_partitions("session") == ["117"]

    second = ticker.tick()
    assert second.run_requests == [] and added(second) == []
    assert "no new or changed landing files" in second.skip_message

    # Same bytes, new mtime: re-read, same content hash, no run.
    os.utime(landing / "S117_votes.csv", (1, 1))
    assert ticker.tick().run_requests == []

    # Changed bytes: drop the last roll call.
    votes = pd.read_csv(landing / "S117_votes.csv")
    votes[votes["rollnumber"] < votes["rollnumber"].max()].to_csv(landing / "S117_votes.csv", index=False)
    third = ticker.tick()
    assert partitions(third) == ["Senate|117"] and added(third) == []
    assert third.run_requests[0].run_key not in {key}


def test_only_the_affected_partition_runs(ticker, storage_root, shared_voteview):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 116)
    copy_pair(shared_voteview, landing, 117)
    first = ticker.tick()
    assert partitions(first) == ["Senate|116", "Senate|117"]
    assert added(first) == ["116", "117"]

    members = pd.read_csv(landing / "S116_members.csv")
    members.loc[members.index[-1], "bioname"] = "RENAMED, Member"
    members.to_csv(landing / "S116_members.csv", index=False)
    second = ticker.tick()
    assert partitions(second) == ["Senate|116"]


def test_restored_file_gets_a_fresh_run_key(ticker, storage_root, shared_voteview):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 118)
    original = (landing / "S118_votes.csv").read_bytes()
    a = ticker.tick().run_requests[0].run_key
    votes = pd.read_csv(landing / "S118_votes.csv")
    votes[votes["rollnumber"] > 1].to_csv(landing / "S118_votes.csv", index=False)
    b = ticker.tick().run_requests[0].run_key
    (landing / "S118_votes.csv").write_bytes(original)
    again = ticker.tick()
    assert partitions(again) == ["Senate|118"]
    assert len({a, b, again.run_requests[0].run_key}) == 3


def test_bad_file_is_reported_skipped_and_picked_up_when_fixed(
    ticker, storage_root, shared_voteview, capfd
):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 117)
    copy_pair(shared_voteview, landing, 116)
    good = (landing / "S116_votes.csv").read_bytes()
    votes = pd.read_csv(landing / "S116_votes.csv")
    votes.loc[votes.index[5], "cast_code"] = 42
    votes.to_csv(landing / "S116_votes.csv", index=False)

    first = ticker.tick()
    assert partitions(first) == ["Senate|117"]  # the good session goes ahead
    assert added(first) == ["117"]  # the bad one is not registered
    listing = ticker.quarantine()
    assert len(listing) == 1
    assert listing[0]["files"] == ["S116_members.csv", "S116_votes.csv"]
    assert "S116_votes.csv" in listing[0]["problem"] and "unknown cast_code value(s) [42]" in listing[0]["problem"]
    assert listing[0]["blocks"] == ["Senate|116"]
    log = capfd.readouterr().err
    assert "WARNING - landing: skipping" in log
    assert "landing/S116_votes.csv: unknown cast_code value(s) [42]" in log

    still = ticker.tick()  # unchanged bad file: not re-read, nothing requested
    assert still.run_requests == []
    assert "1 problem(s) listed in quarantine/landing.json" in still.skip_message

    (landing / "S116_votes.csv").write_bytes(good)
    fixed = ticker.tick()
    assert partitions(fixed) == ["Senate|116"] and added(fixed) == ["116"]
    assert ticker.quarantine() == []
    # The landing file was never moved or rewritten by the pipeline.
    assert (landing / "S116_votes.csv").read_bytes() == good


def test_contract_violation_in_parquet_is_quarantined(ticker, storage_root):
    landing = storage_root / "landing"
    rows = pd.DataFrame(
        {
            "session": "2025-2026", "chamber": "House", "roll_call_id": ["1", "1"],
            "legislator_id": ["a", "b"], "legislator_name": ["A", "B"],
            "party": ["Republican", "Democrat"], "vote": ["Yea", "Maybe"],
        }
    )
    rows.to_parquet(landing / "2025-2026_House.parquet", index=False)
    result = ticker.tick()
    assert result.run_requests == [] and added(result) == []
    [entry] = ticker.quarantine()
    assert entry["files"] == ["2025-2026_House.parquet"]
    assert "column 'vote' has values outside" in entry["problem"] and "Maybe" in entry["problem"]


def test_invalid_session_key_is_rejected(ticker, storage_root, capfd):
    landing = storage_root / "landing"
    frame = pd.DataFrame({"session": ["2025|2026"], "chamber": ["House"]})
    for name in ("2025|2026_House.parquet", "117,118_Senate.parquet"):
        frame.to_parquet(landing / name, index=False)
    result = ticker.tick()
    assert result.run_requests == [] and added(result) == []
    problems = {e["files"][0]: e["problem"] for e in ticker.quarantine()}
    assert "invalid session key '2025|2026'" in problems["2025|2026_House.parquet"]
    assert "invalid session key '117,118'" in problems["117,118_Senate.parquet"]
    log = capfd.readouterr().err
    assert "landing: skipping 2025|2026_House.parquet: invalid session key '2025|2026'" in log
    assert ticker.instance.get_dynamic_partitions("session") == []


def test_half_arrived_pair_waits_for_its_partner(ticker, storage_root, shared_voteview):
    landing = storage_root / "landing"
    shutil.copy(shared_voteview / "S117_votes.csv", landing / "S117_votes.csv")
    (landing / ".S117_members.csv.abc.part").write_text("congress,cha")  # download in progress
    first = ticker.tick()
    assert first.run_requests == []
    assert ticker.quarantine()[0]["problem"] == "Voteview votes file without its members file"
    shutil.copy(shared_voteview / "S117_members.csv", landing / "S117_members.csv")
    assert partitions(ticker.tick()) == ["Senate|117"]
    assert ticker.quarantine() == []


def test_batches_retrigger_only_their_partition_and_add_up(ticker, storage_root, shared_voteview, tmp_path):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 117)
    staged = write_batches(
        shared_voteview / "S118_votes.csv", shared_voteview / "S118_members.csv", tmp_path / "staged", 3
    )
    members, batches = staged[0], staged[1:]
    shutil.copy(members, landing / members.name)
    shutil.copy(batches[0], landing / batches[0].name)
    first = ticker.tick()
    assert partitions(first) == ["Senate|117", "Senate|118"]

    keys = set()
    for batch in batches[1:]:
        shutil.copy(batch, landing / batch.name)
        result = ticker.tick()
        assert partitions(result) == ["Senate|118"]
        keys.add(result.run_requests[0].run_key)
    assert len(keys) == 2

    rows, files = read_partition(UPath(str(landing)), "118", "Senate")
    assert [f["file"] for f in files] == ["S118_members.csv"] + [b.name for b in batches]
    full = pd.read_csv(shared_voteview / "S118_votes.csv")
    presidents = set(pd.read_csv(shared_voteview / "S118_members.csv").query("chamber == 'President'")["icpsr"])
    expected = full[(full["cast_code"] != 0) & ~full["icpsr"].isin(presidents)]
    assert len(rows) == len(expected)
    assert rows["roll_call_id"].astype(int).nunique() == expected["rollnumber"].nunique()


def test_kansas_folders_feed_both_chambers_and_special_session_retriggers(ticker, storage_root, tmp_path):
    landing = storage_root / "landing"
    written = write_biennium(tmp_path / "kansas")
    shutil.copytree(written["regular"]["votes"].parent, landing / "88th_2019-2020")
    first = ticker.tick()
    assert added(first) == ["2019-2020"]
    assert partitions(first) == ["House|2019-2020", "Senate|2019-2020"]

    shutil.copytree(written["special"]["votes"].parent, landing / "2020s")
    second = ticker.tick()
    assert added(second) == []
    assert partitions(second) == ["House|2019-2020", "Senate|2019-2020"]
    assert ticker.tick().run_requests == []


def test_kansas_folder_missing_a_file_or_badly_named(ticker, storage_root, tmp_path):
    landing = storage_root / "landing"
    written = write_biennium(tmp_path / "kansas")
    folder = landing / "88th_2019-2020"
    folder.mkdir()
    shutil.copy(written["regular"]["votes"], folder)
    shutil.copy(written["regular"]["rollcalls"], folder)
    (landing / "2019-2021").mkdir()
    shutil.copy(written["regular"]["votes"], landing / "2019-2021" / "x_votes.csv")
    assert ticker.tick().run_requests == []
    problems = {e["files"][0]: e["problem"] for e in ticker.quarantine()}
    assert problems["88th_2019-2020/"] == "Kansas session folder without its _legislators.csv file"
    assert "Kansas bienniums run from an odd year to the next" in problems["2019-2021/"]


def test_unreadable_cursor_starts_over_with_the_same_run_keys(ticker, storage_root, shared_voteview):
    copy_pair(shared_voteview, storage_root / "landing", 117)
    key = ticker.tick().run_requests[0].run_key
    ticker.cursor = "{not json"
    again = ticker.tick()
    assert [r.run_key for r in again.run_requests] == [key]  # Dagster drops it as a duplicate


def test_time_budget_leaves_sources_for_the_next_look(storage_root, shared_voteview):
    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 116)
    copy_pair(shared_voteview, landing, 117)
    ticks = iter(range(100))  # a fake clock: one "second" per reading
    first = scan(UPath(str(landing)), Cursor(), set(), budget_seconds=1.5, clock=lambda: next(ticks))
    assert [r.partition_key for r in first.runs] == ["Senate|116"]
    assert first.pending == ["voteview:S117"]
    second = scan(UPath(str(landing)), first.cursor, {"116"})
    assert [str(r.partition_key) for r in second.runs] == ["Senate|117"]
    assert second.new_sessions == ["117"]
    assert session_partitions.name == "session"


def record_rankings(instance, partition: str, files: list[dict]) -> None:
    """What a finished `irt-pipeline run` leaves in the instance: rankings of the
    partition materialized from `files` (its landing_files metadata)."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="rankings", partition=partition, metadata={"landing_files": dg.MetadataValue.json(files)}
        )
    )


def test_partition_already_materialized_from_these_bytes_requests_no_run(ticker, storage_root, shared_voteview):
    """The UI started after `irt-pipeline import` + `run`: a fresh cursor, but the
    partition's latest rankings name the very files and bytes in landing: no run. A
    partition whose rankings came from other bytes, or that has none, runs."""
    from irt_pipeline.landing import file_digests

    landing = storage_root / "landing"
    copy_pair(shared_voteview, landing, 116)
    copy_pair(shared_voteview, landing, 117)
    copy_pair(shared_voteview, landing, 118)
    ticker.instance.add_dynamic_partitions("session", ["116", "117"])
    done = file_digests(UPath(str(landing)), ["S117_members.csv", "S117_votes.csv"])
    record_rankings(ticker.instance, "Senate|117", done)
    stale = file_digests(UPath(str(landing)), ["S116_members.csv", "S116_votes.csv"])
    stale[1] = {**stale[1], "sha256": "0" * 64}  # computed from an earlier votes file
    record_rankings(ticker.instance, "Senate|116", stale)

    first = ticker.tick()
    assert partitions(first) == ["Senate|116", "Senate|118"]
    assert added(first) == ["118"]
    assert ticker.tick().run_requests == []  # and the cursor remembers all three

    # New bytes for the finished partition: it runs again.
    votes = pd.read_csv(landing / "S117_votes.csv")
    votes[votes["rollnumber"] > 1].to_csv(landing / "S117_votes.csv", index=False)
    assert partitions(ticker.tick()) == ["Senate|117"]


def test_symbolic_links_are_quarantined_with_a_log_line(ticker, storage_root, shared_voteview, tmp_path, capfd):
    landing = storage_root / "landing"
    outside = tmp_path / "outside"
    outside.mkdir()
    copy_pair(shared_voteview, outside, 117)
    (landing / "S117_votes.csv").symlink_to(outside / "S117_votes.csv")
    shutil.copy(shared_voteview / "S117_members.csv", landing / "S117_members.csv")
    result = ticker.tick()
    assert result.run_requests == [] and added(result) == []
    assert result.skip_message == "no new or changed landing files; 2 problem(s) listed in quarantine/landing.json"
    problems = {e["files"][0]: e["problem"] for e in ticker.quarantine()}
    assert problems["S117_votes.csv"].startswith(f"is a symbolic link (to {outside / 'S117_votes.csv'})")
    assert problems["S117_members.csv"] == "Voteview members file without its votes file"
    assert "WARNING - landing: skipping S117_votes.csv: is a symbolic link" in capfd.readouterr().err

    (landing / "S117_votes.csv").unlink()
    shutil.copy(outside / "S117_votes.csv", landing / "S117_votes.csv")  # a copy is read
    assert partitions(ticker.tick()) == ["Senate|117"]
    assert ticker.quarantine() == []
