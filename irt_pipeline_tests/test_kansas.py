"""The Kansas importer on a generated biennium (regular + 2020 special session), the
whole chain to gated rankings through Dagster, plus its bad-input errors and the
`import kansas` CLI."""

from __future__ import annotations

import shutil

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from kansas_fixture import members, write_biennium
from upath import UPath

from irt_pipeline import cli
from irt_pipeline.assets import diagnostics, pca_init, posterior, rankings, roll_calls, vote_matrix
from irt_pipeline.definitions import make_definitions
from irt_pipeline.errors import BadInput
from irt_pipeline.landing import read_partition
from irt_pipeline.partitions import partition_key
from irt_pipeline.resources import Sampler
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import hierarchical
from irt_pipeline.sources.kansas import read_folder, session_from_folder


@pytest.fixture
def biennium(tmp_path):
    return write_biennium(tmp_path / "kansas")


@pytest.mark.parametrize(
    "folder, session",
    [("2020s", "2019-2020"), ("2021s", "2021-2022"), ("91st_2025-2026", "2025-2026"),
     ("2025-2026", "2025-2026"), ("84th_2011-2012", "2011-2012")],
)
def test_session_from_folder(folder, session):
    assert session_from_folder(folder) == session


@pytest.mark.parametrize("folder", ["2024-2025", "2025-2027", "kansas", "2025|2026", "2020S"])
def test_bad_folder_names(folder):
    with pytest.raises(BadInput) as info:
        session_from_folder(folder)
    assert info.value.where == folder


def test_read_folder_maps_categories_chambers_and_parties(biennium):
    raw = pd.read_csv(biennium["regular"]["votes"])
    rows = read_folder(biennium["regular"]["votes"].parent)
    assert set(rows["session"]) == {"2019-2020"}
    assert len(rows) == len(raw)
    expected = {"Yea": "Yea", "Nay": "Nay", "Present and Passing": "Present",
                "Absent and Not Voting": "Absent", "Not Voting": "Not Voting"}
    assert rows["vote"].value_counts().to_dict() == raw["vote"].map(expected).value_counts().to_dict()
    assert set(raw["vote"]) == set(expected)  # the fixture uses all five categories
    assert set(rows.loc[rows["chamber"] == "House", "legislator_id"].str[:4]) == {"rep_"}
    assert set(rows.loc[rows["chamber"] == "Senate", "legislator_id"].str[:4]) == {"sen_"}
    party = rows.drop_duplicates("legislator_id").set_index("legislator_id")["party"]
    independents = [m.slug for m in members() if m.party == ""]
    assert list(party[party == "Independent"].index) == independents
    assert set(party) == {"Republican", "Democrat", "Independent"}
    first = rows.iloc[0]
    assert first["legislator_name"].startswith("Pat ")
    assert first["roll_call_date"] == "2019-01-15"
    assert first["roll_call_description"].startswith("HB ") and "Final Action" in first["roll_call_description"]


def _rewrite(path, change):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    "kind, change, message",
    [
        ("votes", lambda f: f.loc.__setitem__((3, "vote"), "Maybe"), "unknown vote value(s) ['Maybe']"),
        ("votes", lambda f: f.loc.__setitem__((3, "legislator_slug"), "rep_nobody"), "not in the legislators file(s): ['rep_nobody']"),
        ("votes", lambda f: f.loc.__setitem__((3, "chamber"), "Senate"), "cast in one chamber by a legislator of the other"),
        ("votes", lambda f: f.drop(columns="vote", inplace=True), "lacks column(s) ['vote']"),
        ("legislators", lambda f: f.loc.__setitem__((0, "legislator_slug"), "del_adams"), "start with neither 'rep_'"),
        ("rollcalls", lambda f: f.drop(index=0, inplace=True), "not in the rollcalls file(s)"),
    ],
)
def test_bad_kansas_files_name_the_file_and_problem(biennium, kind, change, message):
    path = biennium["regular"][kind]
    if message.startswith("start with neither"):
        # keep the votes consistent so the slug check is the one that fires
        _rewrite(biennium["regular"]["votes"], lambda f: f.replace({"legislator_slug": {"rep_adams_h_1": "del_adams"}}, inplace=True))
    _rewrite(path, change)
    with pytest.raises(BadInput) as info:
        read_folder(path.parent)
    assert info.value.where.endswith(path.name) or path.name in info.value.where
    assert message in info.value.problem


def test_kansas_biennium_materializes_to_gated_rankings_for_both_chambers(biennium, storage_root, instance):
    landing = storage_root / "landing"
    for part in ("regular", "special"):
        folder = biennium[part]["votes"].parent
        shutil.copytree(folder, landing / folder.name)
    instance.add_dynamic_partitions("session", ["2019-2020"])
    defs = make_definitions(str(storage_root), sampler=Sampler(seed=7))
    truth = {m.slug: m.xi for m in members()}
    special_ids = set(pd.read_csv(biennium["special"]["rollcalls"])["vote_id"])
    sizes = {"House": (36, 60), "Senate": (20, 50)}
    for chamber, (n_members, n_regular) in sizes.items():
        result = dg.materialize(
            [roll_calls, vote_matrix, pca_init, posterior, diagnostics, rankings],
            instance=instance,
            partition_key=partition_key("2019-2020", chamber),
            resources=defs.resources,
        )
        assert result.success
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        gates = {g.name: True for g in gates_for(hierarchical.SPEC.gated)}
        assert checks == {"roll_call_contract": True, "vote_matrix_usable": True, **gates}
        rows = result.output_for_node("roll_calls")
        assert set(rows["chamber"]) == {chamber}
        assert rows["roll_call_id"].nunique() == n_regular + 4
        chamber_special = {v for v in special_ids if v in set(rows["roll_call_id"])}
        assert len(chamber_special) == 4  # the special session joined its biennium
        assert rows["legislator_id"].nunique() == n_members
        matrix = result.output_for_node("vote_matrix")
        assert matrix.shape[0] == n_members
        assert chamber_special <= set(matrix.roll_calls["roll_call_id"])  # party-line: kept by the filters
        scores = result.output_for_node("pca_init")
        means = scores.groupby("party")["pc1"].mean()
        assert means["Republican"] > 0 > means["Democrat"]
        r = np.corrcoef(scores["pc1"], scores["legislator_id"].map(truth))[0, 1]
        assert r > 0.9
        ranked = result.output_for_node("rankings")
        assert sorted(ranked["rank"]) == list(range(1, n_members + 1))
        assert np.corrcoef(ranked["xi_mean"], ranked["legislator_id"].map(truth))[0, 1] > 0.9
        stored = UPath(str(storage_root)) / "rankings" / chamber / "2019-2020.parquet"
        assert stored.exists()
    assert {"House", "Senate"} == {p.parent.name for p in (storage_root / "roll_calls").rglob("*.parquet")}


def test_import_kansas_cli_writes_canonical_parquet_per_chamber(biennium, storage_root, monkeypatch, tmp_path):
    monkeypatch.setenv("IRT_PIPELINE_ROOT", str(storage_root))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    for part in ("regular", "special"):
        assert cli.main(["import", "kansas", "--folder", str(biennium[part]["votes"].parent)]) == 0
    landing = storage_root / "landing"
    assert sorted(p.name for p in landing.iterdir()) == [
        "2019-2020_House_2020s.parquet", "2019-2020_House_88th_2019-2020.parquet",
        "2019-2020_Senate_2020s.parquet", "2019-2020_Senate_88th_2019-2020.parquet",
    ]
    rows, files = read_partition(UPath(str(landing)), "2019-2020", "Senate")
    assert len(files) == 2
    direct = pd.concat([read_folder(biennium[p]["votes"].parent) for p in ("regular", "special")])
    assert len(rows) == (direct["chamber"] == "Senate").sum()

    bad = tmp_path / "2024-2025"
    shutil.copytree(biennium["regular"]["votes"].parent, bad)
    assert cli.main(["import", "kansas", "--folder", str(bad)]) == 2
