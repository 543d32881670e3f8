"""sources/voteview.read_voteview: the real 117th Senate files, and bad files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from irt_pipeline.errors import BadInput
from irt_pipeline.sources.voteview import read_voteview

MEMBERS_HEADER = "congress,chamber,icpsr,state_icpsr,district_code,state_abbrev,party_code,occupancy,last_means,bioname,bioguide_id,born,died,nominate_dim1,nominate_dim2"
VOTES_HEADER = "congress,chamber,rollnumber,icpsr,cast_code,prob"


@cache
def _read_s117(folder: str):
    votes = Path(folder) / "S117_votes.csv"
    members = Path(folder) / "S117_members.csv"
    return read_voteview(str(votes), str(members)), pd.read_csv(votes), pd.read_csv(members)


@pytest.fixture
def s117(shared_voteview):
    """(canonical rows, raw votes, raw members) of the real 117th Senate, read once."""
    return _read_s117(str(shared_voteview))


def test_rows_are_the_votes_minus_the_presidents_and_non_members(s117):
    frame, votes, members = s117
    presidents = set(members.loc[members["chamber"] == "President", "icpsr"])
    assert presidents == {99912, 99913}
    assert votes["icpsr"].isin(presidents).sum() == 254  # Biden 252, Trump 2: filed under "Senate"
    expected = votes[~votes["icpsr"].isin(presidents) & (votes["cast_code"] != 0)]
    assert len(frame) == len(expected) == 95152 - 254
    assert not frame["legislator_id"].isin({"99912", "99913"}).any()
    assert frame["legislator_id"].nunique() == members["chamber"].eq("Senate").sum()


def test_canonical_columns_and_keys(s117):
    frame, votes, _ = s117
    assert frame.columns.tolist() == [
        "session",
        "chamber",
        "roll_call_id",
        "legislator_id",
        "legislator_name",
        "party",
        "vote",
        "roll_call_date",
        "roll_call_description",
        "external_score",
        "external_score_dim2",
        "session_score",
        "session_score_dim2",
    ]
    assert set(frame["session"]) == {"117"}  # the Congress number
    assert set(frame["chamber"]) == {"Senate"}
    # ids are plain integers as strings, not "14226.0"
    assert frame["legislator_id"].str.fullmatch(r"\d+").all()
    assert frame["roll_call_id"].str.fullmatch(r"\d+").all()
    assert frame["roll_call_id"].nunique() == votes["rollnumber"].nunique()
    assert not frame.duplicated(["roll_call_id", "legislator_id"]).any()


def test_cast_codes_map_to_vote_categories(s117):
    frame, votes, _ = s117
    merged = frame.merge(
        votes.assign(
            roll_call_id=votes["rollnumber"].astype(str), legislator_id=votes["icpsr"].astype(int).astype(str)
        ),
        on=["roll_call_id", "legislator_id"],
        validate="one_to_one",
    )
    assert len(merged) == len(frame)
    pairs = merged.groupby("cast_code")["vote"].unique().apply(list).to_dict()
    # the 117th Senate uses codes 1, 6, 7 and 9
    assert pairs == {1: ["Yea"], 6: ["Nay"], 7: ["Present"], 9: ["Not Voting"]}
    counts = frame["vote"].value_counts().to_dict()
    assert counts == {"Yea": 55297, "Nay": 35986, "Not Voting": 3610, "Present": 5}


def test_party_names_and_external_score(s117):
    frame, _, members = s117
    senators = members[members["chamber"] == "Senate"]
    per_legislator = frame[~frame["legislator_id"].duplicated()].set_index("legislator_id")
    names = {100: "Democrat", 200: "Republican", 328: "Independent"}
    for row in senators.itertuples():
        got = per_legislator.loc[str(row.icpsr)]
        assert got["party"] == names[row.party_code]
        assert got["legislator_name"] == row.bioname
        assert got["external_score"] == row.nominate_dim1
        assert got["external_score_dim2"] == row.nominate_dim2
        assert got["session_score"] == row.nokken_poole_dim1
        assert got["session_score_dim2"] == row.nokken_poole_dim2
    assert per_legislator.loc["29147", "party"] == "Independent"  # Sanders
    assert per_legislator.loc["29147", "legislator_name"] == "SANDERS, Bernard"
    parties = per_legislator["party"].value_counts().to_dict()
    assert parties == {
        "Republican": int((senators["party_code"] == 200).sum()),
        "Democrat": int((senators["party_code"] == 100).sum()),
        "Independent": 2,
    }
    # every row of one legislator carries the same external score
    assert frame.groupby("legislator_id")["external_score"].nunique().max() == 1


def test_party_codes_are_named_from_voteviews_list(shared_voteview):
    """The 73rd Senate's Farmer-Labor senator (code 537) and every code of the shared
    members files get Voteview's party names, never "Party code N"."""
    from irt_pipeline.sources.voteview import party_names

    frame = read_voteview(str(shared_voteview / "S073_votes.csv"), str(shared_voteview / "S073_members.csv"))
    members = pd.read_csv(shared_voteview / "S073_members.csv").query("chamber == 'Senate'")
    parties = frame.drop_duplicates("legislator_id").set_index("legislator_id")["party"]
    shipstead = str(members.loc[members["party_code"] == 537, "icpsr"].item())
    assert parties[shipstead] == "Farmer-Labor"
    expected = members.set_index(members["icpsr"].astype(str))["party_code"].map({100: "Democrat", 200: "Republican", 537: "Farmer-Labor"})
    pd.testing.assert_series_equal(parties.sort_index(), expected[parties.index].sort_index(), check_names=False)
    names = party_names()
    assert {c: names[c] for c in (100, 200, 328, 370, 112, 537)} == {
        100: "Democrat", 200: "Republican", 328: "Independent", 370: "Progressive",
        112: "Conservative", 537: "Farmer-Labor",
    }
    assert len(names) == 53  # every code of Voteview's list
    for path in shared_voteview.glob("*_members.csv"):
        assert set(pd.read_csv(path)["party_code"]) <= set(names), path.name


def test_session_key_can_be_given(shared_voteview):
    frame = read_voteview(str(shared_voteview / "S117_votes.csv"), str(shared_voteview / "S117_members.csv"), session="117-x")
    assert set(frame["session"]) == {"117-x"}


# --- small hand-written files ----------------------------------------------------


def write(path, header, lines) -> str:
    path.write_text("\n".join([header, *lines]) + "\n")
    return str(path)


def members_file(tmp_path, extra=()) -> str:
    return write(
        tmp_path / "S117_members.csv",
        MEMBERS_HEADER,
        [
            '117,President,99913,99,0,USA,100,0,0,"BIDEN, Joseph",B1,1942,,-0.32,0.28',
            '117,Senate,10,1,0,AA,100,1,1,"DEM, Dora",B2,1950,,-0.4,0.1',
            '117,Senate,20,1,0,AA,200,1,1,"REP, Rex",B3,1950,,0.5,0.1',
            '117,Senate,30,2,0,BB,328,1,1,"IND, Ida",B4,1950,,-0.3,0.1',
            '117,Senate,40,2,0,BB,370,1,1,"OTHER, Otto",B5,1950,,0.0,0.1',
            *extra,
        ],
    )


def test_every_cast_code_and_code_zero_dropped(tmp_path):
    lines = []
    for code in range(10):
        lines.append(f"117,Senate,{code + 1},10.0,{code},100.0")
    lines += ["117,Senate,1,20.0,1,90.0", "117,Senate,1,99913.0,1,90.0", "117,Senate,2,40.0,6,50.0"]
    frame = read_voteview(write(tmp_path / "S117_votes.csv", VOTES_HEADER, lines), members_file(tmp_path))
    dora = frame[frame["legislator_id"] == "10"].set_index("roll_call_id")["vote"].to_dict()
    assert dora == {
        "2": "Yea",
        "3": "Yea",
        "4": "Yea",
        "5": "Nay",
        "6": "Nay",
        "7": "Nay",
        "8": "Present",
        "9": "Present",
        "10": "Not Voting",
    }  # roll call 1 (cast code 0: not a member) is dropped
    assert sorted(frame["legislator_id"].unique()) == ["10", "20", "40"]  # no President
    assert frame.set_index("legislator_id")["party"].to_dict()["40"] == "Progressive"  # Voteview's code 370


def test_empty_votes_file_names_the_file(tmp_path):
    votes = tmp_path / "S117_votes.csv"
    votes.write_text("")
    with pytest.raises(BadInput) as caught:
        read_voteview(str(votes), members_file(tmp_path))
    assert caught.value.where == str(votes)
    assert "the Voteview votes file is empty" in str(caught.value)


def test_votes_file_with_header_only(tmp_path):
    votes = write(tmp_path / "S117_votes.csv", VOTES_HEADER, [])
    with pytest.raises(BadInput, match="votes file has a header but no rows") as caught:
        read_voteview(votes, members_file(tmp_path))
    assert caught.value.where == votes


def test_empty_members_file_names_the_members_file(tmp_path):
    members = tmp_path / "S117_members.csv"
    members.write_text("")
    votes = write(tmp_path / "S117_votes.csv", VOTES_HEADER, ["117,Senate,1,10.0,1,100.0"])
    with pytest.raises(BadInput, match="the Voteview members file is empty") as caught:
        read_voteview(votes, str(members))
    assert caught.value.where == str(members)


def test_missing_column_names_the_file_and_the_column(tmp_path):
    votes = write(tmp_path / "S117_votes.csv", "congress,chamber,rollnumber,icpsr,prob", ["117,Senate,1,10.0,100.0"])
    with pytest.raises(BadInput) as caught:
        read_voteview(votes, members_file(tmp_path))
    assert caught.value.where == votes
    assert "lacks column(s) ['cast_code']" in str(caught.value)

    members = write(tmp_path / "bad_members.csv", "congress,chamber,icpsr,bioname", ['117,Senate,10,"DEM, Dora"'])
    with pytest.raises(BadInput) as caught:
        read_voteview(votes, members)
    assert caught.value.where == members
    assert "members file lacks column(s) ['party_code', 'nominate_dim1']" in str(caught.value)


def test_unknown_cast_code_names_the_file_and_the_code(tmp_path):
    votes = write(
        tmp_path / "S117_votes.csv",
        VOTES_HEADER,
        ["117,Senate,1,10.0,1,100.0", "117,Senate,1,20.0,12,100.0", "117,Senate,2,20.0,-1,100.0"],
    )
    with pytest.raises(BadInput) as caught:
        read_voteview(votes, members_file(tmp_path))
    assert caught.value.where == votes
    assert "unknown cast_code value(s) [-1, 12]" in str(caught.value)


def test_empty_cast_code_is_reported_with_its_line(tmp_path):
    votes = write(tmp_path / "S117_votes.csv", VOTES_HEADER, ["117,Senate,1,10.0,1,100.0", "117,Senate,1,20.0,,100.0"])
    with pytest.raises(BadInput, match=r"S117_votes.csv: line 3 has no cast_code value; a line cut short") as caught:
        read_voteview(votes, members_file(tmp_path))
    assert caught.value.where == votes


def test_icpsr_missing_from_members_names_both_files_and_the_ids(tmp_path):
    votes = write(
        tmp_path / "S117_votes.csv",
        VOTES_HEADER,
        ["117,Senate,1,10.0,1,100.0", "117,Senate,1,55555.0,6,100.0", "117,Senate,2,55555.0,6,100.0"],
    )
    members = members_file(tmp_path)
    with pytest.raises(BadInput) as caught:
        read_voteview(votes, members)
    assert caught.value.where == votes
    message = str(caught.value)
    assert "1 icpsr id(s) not in the members file(s)" in message
    assert members in message and "[55555]" in message
