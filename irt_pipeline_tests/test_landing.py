"""Landing discovery (which files feed which partition), the pre-flight schema check,
batches of one session adding up in roll_calls, and each landing file read (and
hashed) once per sensor look and once per roll_calls run."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from kansas_fixture import write_biennium
from read_audit import sha256_of, watching
from upath import UPath

from irt_pipeline.assets import roll_calls
from irt_pipeline.contract import schema_problems
from irt_pipeline.definitions import make_definitions
from irt_pipeline.errors import BadInput
from irt_pipeline.landing import check_source, discover, read_partition
from irt_pipeline.partitions import partition_key
from irt_pipeline.sources.batches import write_batches
from irt_pipeline.watch import Cursor, scan


def test_discover_groups_every_layout():
    files = [
        "S117_votes.csv", "S117_members.csv", "S118_votes_batch1.csv", "S118_votes_batch2.csv",
        "S118_members.csv", "H090_votes.csv", "H090_members.csv",
        "2025-2026_House.parquet", "2025-2026_House_batch2.parquet",
        "91st_2025-2026/91st_2025-2026_votes.csv", "91st_2025-2026/91st_2025-2026_rollcalls.csv",
        "91st_2025-2026/91st_2025-2026_legislators.csv", "91st_2025-2026/notes.txt",
        "2024s/2024s_votes.csv", "2024s/2024s_rollcalls.csv", "2024s/2024s_legislators.csv",
        ".S119_votes.csv.123.part", "91st_2025-2026/.~lock.csv",
    ]
    sources, problems = discover(files)
    assert problems == []
    got = {(s.kind, s.session, s.chambers, s.name): s.files for s in sources}
    assert got[("voteview", "118", ("Senate",), "S118")] == (
        "S118_members.csv", "S118_votes_batch1.csv", "S118_votes_batch2.csv",
    )
    assert got[("voteview", "90", ("House",), "H090")] == ("H090_members.csv", "H090_votes.csv")
    assert ("parquet", "2025-2026", ("House",), "2025-2026_House_batch2.parquet") in got
    assert got[("kansas", "2025-2026", ("House", "Senate"), "91st_2025-2026")] == (
        "91st_2025-2026/91st_2025-2026_legislators.csv", "91st_2025-2026/91st_2025-2026_rollcalls.csv",
        "91st_2025-2026/91st_2025-2026_votes.csv",
    )
    assert ("kansas", "2023-2024", ("House", "Senate"), "2024s") in got  # 2024 special -> 2023-2024
    assert len(sources) == 7


@pytest.mark.parametrize(
    "files, file, problem",
    [
        (["S117_votes.csv"], "S117_votes.csv", "Voteview votes file without its members file"),
        (["votes.csv"], "votes.csv", "file name matches no landing layout"),
        (["a|b_House.parquet"], "a|b_House.parquet", "invalid session key 'a|b'"),
        (["x/y/S117_votes.csv"], "x/y/S117_votes.csv", "too deep"),
        (["misc/data.csv"], "misc/", "folder holds no Kansas"),
        (["2025-2026/k_votes.csv"], "2025-2026/", "without its _rollcalls.csv and _legislators.csv files"),
    ],
)
def test_discover_reports_unusable_files(files, file, problem):
    sources, problems = discover(files)
    assert sources == []
    assert [p.file for p in problems] == [file]
    assert problem in problems[0].problem


def canonical(**overrides) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "session": "117", "chamber": "Senate", "roll_call_id": ["1", "1", "2"],
            "legislator_id": ["a", "b", "a"], "legislator_name": ["A", "B", "A"],
            "party": ["Republican", "Democrat", "Republican"], "vote": ["Yea", "Nay", "Absent"],
        }
    )
    return rows.assign(**overrides)


def test_schema_problems_follow_the_schema_file():
    assert schema_problems(canonical()) == []
    assert schema_problems(canonical().drop(columns="party")) == ["missing column 'party'"]
    assert schema_problems(canonical(chamber=["Senate", "Senat", "Senate"])) == [
        "column 'chamber' has values outside ['House', 'Senate']: ['Senat']"
    ]
    assert schema_problems(canonical(legislator_name=["A", None, "A"])) == [
        "column 'legislator_name' has empty values (1 row(s))"
    ]
    assert schema_problems(canonical(legislator_id=["a", "a", "a"], roll_call_id=["1", "1", "2"])) == [
        "duplicate rows for ['session', 'chamber', 'roll_call_id', 'legislator_id'] (2 row(s), e.g. ['117', 'Senate', '1', 'a'])"
    ]
    assert schema_problems(canonical(session="11 7")) == ["invalid session key(s) ['11 7']"]


def test_check_source_refuses_rows_for_another_partition(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    canonical().to_parquet(landing / "117_House.parquet", index=False)  # rows say Senate
    [source], _ = discover(["117_House.parquet"])
    with pytest.raises(BadInput) as info:
        check_source(UPath(str(landing)), source)
    assert info.value.where == "117_House.parquet"
    assert info.value.problem.startswith(
        "3 of 3 rows are not for session '117' and chamber House, which the file name says "
        "(row 1: session '117', chamber 'Senate')"
    )


def test_parquet_batches_add_up(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    canonical().iloc[:2].to_parquet(landing / "117_Senate.parquet", index=False)
    canonical().iloc[1:].to_parquet(landing / "117_Senate_batch2.parquet", index=False)  # row 1 repeated
    rows, files = read_partition(UPath(str(landing)), "117", "Senate")
    assert [f["file"] for f in files] == ["117_Senate.parquet", "117_Senate_batch2.parquet"]
    assert sorted(zip(rows["roll_call_id"], rows["legislator_id"])) == [("1", "a"), ("1", "b"), ("2", "a")]


def test_roll_calls_reads_every_batch_so_far(storage_root, instance, shared_voteview, tmp_path):
    """The 118th Senate arriving in three batches: after each, roll_calls holds all the
    roll calls so far, and at the end exactly those of the single file."""
    landing = storage_root / "landing"
    staged = write_batches(
        shared_voteview / "S118_votes.csv", shared_voteview / "S118_members.csv", tmp_path / "staged", 3
    )
    shutil.copy(staged[0], landing / staged[0].name)
    instance.add_dynamic_partitions("session", ["118"])
    resources = make_definitions(str(storage_root)).resources
    votes = pd.read_csv(shared_voteview / "S118_votes.csv")
    seen = []
    for batch in staged[1:]:
        shutil.copy(batch, landing / batch.name)
        seen.append(pd.read_csv(batch)["rollnumber"])
        result = dg.materialize(
            [roll_calls], instance=instance, partition_key=partition_key("118", "Senate"), resources=resources
        )
        assert result.success
        rows = result.output_for_node("roll_calls")
        assert set(rows["roll_call_id"].astype(int)) == set(pd.concat(seen))
        files = result.asset_materializations_for_node("roll_calls")[0].metadata["landing_files"].value
        assert [f["file"] for f in files] == [staged[0].name] + [b.name for b in staged[1 : len(seen) + 1]]
    assert rows["roll_call_id"].astype(int).nunique() == votes["rollnumber"].nunique()


def hashed(folder: Path, files: list[str]) -> Counter:
    """The `hashes` count of `watching` when each of `files` is hashed once."""
    return Counter(sha256_of(folder / f) for f in files)


def every_layout(landing: Path, shared: Path) -> list[str]:
    """Voteview CSVs, a Kansas biennium (two folders) and a canonical parquet file in
    `landing`; returns the files, relative to it."""
    for kind in ("votes", "members"):
        shutil.copy(shared / f"S118_{kind}.csv", landing / f"S118_{kind}.csv")
    write_biennium(landing)
    canonical().to_parquet(landing / "117_Senate.parquet", index=False)
    return sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file())


def test_a_sensor_look_reads_and_hashes_each_new_file_once(tmp_path, shared_voteview):
    """One look (watch.scan): every new file of every layout is opened once, and its
    sha256 computed once, from the bytes checked; a look with nothing new opens none; a
    changed file is read again, once, with the rest of its source only."""
    landing = tmp_path / "landing"
    landing.mkdir()
    files = every_layout(landing, shared_voteview)
    with watching(landing) as counts:
        first = scan(UPath(str(landing)), Cursor(), set())
    assert sorted(str(r.partition_key) for r in first.runs) == [
        "House|2019-2020", "Senate|117", "Senate|118", "Senate|2019-2020",
    ], first.log
    assert counts == {"opens": Counter(files), "hashes": hashed(landing, files)}
    assert first.cursor.sources["voteview:S118"]["files"] == {
        f: sha256_of(landing / f) for f in ("S118_members.csv", "S118_votes.csv")
    }

    with watching(landing) as counts:
        assert scan(UPath(str(landing)), first.cursor, {"117", "118", "2019-2020"}).runs == []
    assert counts == {"opens": Counter(), "hashes": Counter()}

    votes = pd.read_csv(landing / "S118_votes.csv")
    votes[votes["rollnumber"] > 1].to_csv(landing / "S118_votes.csv", index=False)
    with watching(landing) as counts:
        third = scan(UPath(str(landing)), first.cursor, {"117", "118", "2019-2020"})
    assert [str(r.partition_key) for r in third.runs] == ["Senate|118"]
    mine = ["S118_members.csv", "S118_votes.csv"]
    assert counts == {"opens": Counter(mine), "hashes": hashed(landing, mine)}


def test_roll_calls_reads_and_hashes_each_landing_file_once(storage_root, instance, shared_voteview):
    """A roll_calls run opens each landing file of its partition once, and no other; the
    sha256 and size it records (`landing_files`) are those of the bytes it read."""
    landing = storage_root / "landing"
    every_layout(landing, shared_voteview)
    instance.add_dynamic_partitions("session", ["118"])
    resources = make_definitions(str(storage_root)).resources
    with watching(landing) as counts:
        result = dg.materialize(
            [roll_calls], instance=instance, partition_key=partition_key("118", "Senate"), resources=resources
        )
    assert result.success
    mine = ["S118_members.csv", "S118_votes.csv"]
    assert counts == {"opens": Counter(mine), "hashes": hashed(landing, mine)}
    files = result.asset_materializations_for_node("roll_calls")[0].metadata["landing_files"].value
    assert files == [
        {"file": f, "sha256": sha256_of(landing / f), "bytes": (landing / f).stat().st_size} for f in mine
    ]


def test_a_file_replaced_while_the_partition_is_read_is_recorded_as_parsed(tmp_path, shared_voteview):
    """The members file is replaced (renamed over, as a copy tool does) while the votes
    file is being opened: the sha256 recorded for it is that of the version whose names
    are in the rows, never one version's rows with the other's digest."""
    landing = tmp_path / "landing"
    landing.mkdir()
    for kind in ("votes", "members"):
        shutil.copy(shared_voteview / f"S118_{kind}.csv", landing / f"S118_{kind}.csv")
    members = pd.read_csv(landing / "S118_members.csv")
    senator = members.loc[members["chamber"] == "Senate"].iloc[0]
    renamed = tmp_path / "S118_members.csv"
    members.assign(bioname=members["bioname"].where(members["icpsr"] != senator["icpsr"], "RENAMED, Senator")).to_csv(
        renamed, index=False
    )
    before, after = sha256_of(landing / "S118_members.csv"), sha256_of(renamed)

    def replace_members(rel: str) -> None:
        if rel == "S118_votes.csv" and renamed.exists():
            os.replace(renamed, landing / "S118_members.csv")

    with watching(landing, on_open=replace_members):
        rows, files = read_partition(UPath(str(landing)), "118", "Senate")
    assert not renamed.exists()  # it was replaced during the read
    [name] = set(rows.loc[rows["legislator_id"] == str(int(senator["icpsr"])), "legislator_name"])
    recorded = {f["file"]: f["sha256"] for f in files}["S118_members.csv"]
    assert (name, recorded) in {(senator["bioname"], before), ("RENAMED, Senator", after)}
