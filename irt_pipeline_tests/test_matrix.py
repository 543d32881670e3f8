"""build_vote_matrix: vote coding, the two filters, the manifest, the long-form round
trip and the bad-input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irt_pipeline.errors import BadInput
from irt_pipeline.stats.matrix import VoteMatrix, build_vote_matrix

WHERE = "partition session=117 chamber=Senate"


def canonical(cells, parties, session="117", chamber="Senate") -> pd.DataFrame:
    """Canonical rows from {(legislator_id, roll_call_id): vote} and {legislator_id: party}."""
    return pd.DataFrame(
        [
            {
                "session": session,
                "chamber": chamber,
                "roll_call_id": rc,
                "legislator_id": leg,
                "legislator_name": f"Name {leg}",
                "party": parties[leg],
                "vote": vote,
            }
            for (leg, rc), vote in cells.items()
        ]
    )


def party_line_chamber(n_dem=20, n_rep=20, n_roll_calls=30):
    """Legislators D00.., R00.. and party-line roll calls pl00.. (Democrats Yea)."""
    parties = {f"D{i:02d}": "Democrat" for i in range(n_dem)}
    parties.update({f"R{i:02d}": "Republican" for i in range(n_rep)})
    cells = {}
    for j in range(n_roll_calls):
        for leg, party in parties.items():
            cells[(leg, f"pl{j:02d}")] = "Yea" if party == "Democrat" else "Nay"
    return cells, parties


# --- coding ----------------------------------------------------------------------


def test_yea_is_one_nay_is_zero_and_every_other_category_is_missing():
    parties = {"b": "Republican", "a": "Democrat", "c": "Republican"}
    cells = {
        ("b", "r1"): "Nay",
        ("b", "r2"): "Not Voting",
        ("b", "r3"): "Yea",
        ("a", "r1"): "Yea",
        ("a", "r2"): "Nay",
        ("a", "r3"): "Present",
        ("c", "r2"): "Yea",
        ("c", "r3"): "Absent",
        # ("c", "r1") has no row at all
    }
    matrix, manifest = build_vote_matrix(
        canonical(cells, parties), min_minority_share=0.0, min_votes=1, where=WHERE
    )
    # Rows sorted by legislator id, columns in order of first appearance.
    assert matrix.legislators["legislator_id"].tolist() == ["a", "b", "c"]
    assert matrix.legislators["party"].tolist() == ["Democrat", "Republican", "Republican"]
    assert matrix.legislators["legislator_name"].tolist() == ["Name a", "Name b", "Name c"]
    assert matrix.roll_calls["roll_call_id"].tolist() == ["r1", "r2", "r3"]
    expected = np.array(
        [
            [1.0, 0.0, np.nan],  # a: Yea, Nay, Present
            [0.0, np.nan, 1.0],  # b: Nay, Not Voting, Yea
            [np.nan, 1.0, np.nan],  # c: no row, Yea, Absent
        ]
    )
    np.testing.assert_array_equal(matrix.votes, expected)
    assert matrix.votes.dtype == np.float64
    assert matrix.n_observed == 5
    assert manifest["yea_nay_votes_before"] == 5


def test_signed_votes_are_plus_one_minus_one_and_zero_for_missing():
    matrix = VoteMatrix(
        pd.DataFrame(
            {"legislator_id": ["a", "b"], "legislator_name": ["A", "B"], "party": ["Democrat", "Republican"]}
        ),
        pd.DataFrame({"roll_call_id": ["r1", "r2", "r3"]}),
        np.array([[1.0, 0.0, np.nan], [np.nan, 1.0, 0.0]]),
    )
    np.testing.assert_array_equal(matrix.signed_votes(), [[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    assert matrix.signed_votes().dtype == np.float32 and matrix.signed_votes().flags["C_CONTIGUOUS"]
    # the matrix itself is not changed
    assert np.isnan(matrix.votes[0, 2])


# --- the minority filter ---------------------------------------------------------


def boundary_chamber():
    """41 legislators (21 R, 20 D), 30 party-line roll calls plus lopsided ones:

    at_share_nv:    1 Nay, 39 Yea, 1 Not Voting  -> minority 1/40 = 2.5%   (kept)
    at_share_pr:    1 Nay, 39 Yea, 1 Present     -> minority 1/40 = 2.5%   (kept: Present is not cast)
    yea_minority:   1 Yea, 39 Nay, 1 Absent      -> minority 1/40 = 2.5%   (kept)
    under_share:    1 Nay, 40 Yea                -> minority 1/41 = 2.44%  (dropped)
    unanimous:      41 Yea                       -> 0%                     (dropped)
    """
    cells, parties = party_line_chamber(n_dem=20, n_rep=21)
    legs = list(parties)
    specials = {
        "at_share_nv": ("Yea", {legs[0]: "Nay", legs[1]: "Not Voting"}),
        "at_share_pr": ("Yea", {legs[0]: "Nay", legs[1]: "Present"}),
        "yea_minority": ("Nay", {legs[0]: "Yea", legs[1]: "Absent"}),
        "under_share": ("Yea", {legs[0]: "Nay"}),
        "unanimous": ("Yea", {}),
    }
    for rc, (default, exceptions) in specials.items():
        for leg in legs:
            cells[(leg, rc)] = exceptions.get(leg, default)
    return canonical(cells, parties)


def test_minority_filter_keeps_exactly_two_and_a_half_percent_and_drops_less():
    matrix, manifest = build_vote_matrix(boundary_chamber(), where=WHERE)
    kept = matrix.roll_calls["roll_call_id"].tolist()
    assert kept == [f"pl{j:02d}" for j in range(30)] + ["at_share_nv", "at_share_pr", "yea_minority"]
    assert manifest["roll_calls_before"] == 35
    assert manifest["roll_calls_dropped_lopsided"] == 2
    assert manifest["roll_calls_after"] == 33
    assert manifest["min_minority_share"] == 0.025


def test_minority_threshold_is_configurable():
    stricter, manifest = build_vote_matrix(boundary_chamber(), min_minority_share=0.03, where=WHERE)
    assert stricter.roll_calls["roll_call_id"].tolist() == [f"pl{j:02d}" for j in range(30)]
    assert manifest["roll_calls_dropped_lopsided"] == 5
    assert manifest["min_minority_share"] == 0.03

    looser, manifest = build_vote_matrix(boundary_chamber(), min_minority_share=0.024, where=WHERE)
    assert "under_share" in looser.roll_calls["roll_call_id"].tolist()
    assert "unanimous" not in looser.roll_calls["roll_call_id"].tolist()
    assert manifest["roll_calls_dropped_lopsided"] == 1


def test_roll_call_with_no_yea_or_nay_is_dropped_even_without_a_minority_threshold():
    cells, parties = party_line_chamber()
    for leg in parties:
        cells[(leg, "nobody_voted")] = "Not Voting"
    matrix, manifest = build_vote_matrix(canonical(cells, parties), min_minority_share=0.0, where=WHERE)
    assert "nobody_voted" not in matrix.roll_calls["roll_call_id"].tolist()
    assert manifest["roll_calls_dropped_lopsided"] == 1
    assert not np.isnan(matrix.votes).all(axis=0).any()


# --- the min-votes filter, after the minority filter -----------------------------


def few_votes_chamber():
    """20 D + 20 R on 30 party-line roll calls, one lopsided roll call 'lop' (1 Nay of 40
    cast besides the newcomers), and three newcomers:

    N_after:  votes on pl00..pl18 and 'lop': 20 Yea/Nay before filtering, 19 after
    N_exact:  votes on pl00..pl19: exactly 20 after filtering
    N_present: 20 Yea/Nay plus 5 'Present'
    """
    cells, parties = party_line_chamber()
    for leg, party in parties.items():
        cells[(leg, "lop")] = "Nay" if leg == "D00" else "Yea"
    parties.update({"N_after": "Republican", "N_exact": "Democrat", "N_present": "Republican"})
    for j in range(19):
        cells[("N_after", f"pl{j:02d}")] = "Nay"
    cells[("N_after", "lop")] = "Yea"
    for j in range(20):
        cells[("N_exact", f"pl{j:02d}")] = "Yea"
    for j in range(20):
        cells[("N_present", f"pl{j:02d}")] = "Nay"
    for j in range(20, 25):
        cells[("N_present", f"pl{j:02d}")] = "Present"
    return canonical(cells, parties)


def test_min_votes_counts_yea_nay_left_after_the_minority_filter():
    frame = few_votes_chamber()
    matrix, manifest = build_vote_matrix(frame, where=WHERE)
    ids = matrix.legislators["legislator_id"].tolist()
    assert "N_after" not in ids  # 20 votes before, 19 after dropping 'lop'
    assert "N_exact" in ids and "N_present" in ids  # exactly 20 is enough
    assert "lop" not in matrix.roll_calls["roll_call_id"].tolist()
    assert manifest["dropped_legislator_ids"] == ["N_after"]
    assert manifest["legislators_dropped_few_votes"] == 1
    assert manifest["min_votes"] == 20

    # counts before/after each filter
    assert manifest["legislators_before"] == 43
    assert manifest["legislators_after"] == 42
    assert manifest["roll_calls_before"] == 31
    assert manifest["roll_calls_after"] == 30
    yea_nay_before = 40 * 31 + 20 + 20 + 20
    assert manifest["yea_nay_votes_before"] == yea_nay_before
    # minus 'lop' (40 + N_after's vote), minus N_after's remaining 19
    assert manifest["yea_nay_votes_after"] == yea_nay_before - 41 - 19
    assert manifest["yea_nay_votes_after"] == matrix.n_observed
    assert matrix.shape == (42, 30)

    # N_exact's row: Yea on the first 20 roll calls, missing on the rest
    row = matrix.votes[ids.index("N_exact")]
    np.testing.assert_array_equal(row[:20], np.ones(20))
    assert np.isnan(row[20:]).all()


def test_min_votes_is_configurable():
    matrix, manifest = build_vote_matrix(few_votes_chamber(), min_votes=19, where=WHERE)
    assert "N_after" in matrix.legislators["legislator_id"].tolist()
    assert manifest["legislators_dropped_few_votes"] == 0
    assert manifest["dropped_legislator_ids"] == []

    matrix, manifest = build_vote_matrix(few_votes_chamber(), min_votes=21, where=WHERE)
    assert sorted(manifest["dropped_legislator_ids"]) == ["N_after", "N_exact", "N_present"]
    assert matrix.shape == (40, 30)


def test_legislator_without_any_yea_or_nay_is_dropped_even_with_min_votes_zero():
    cells, parties = party_line_chamber()
    parties["ghost"] = "Democrat"
    for j in range(30):
        cells[("ghost", f"pl{j:02d}")] = "Not Voting"
    matrix, manifest = build_vote_matrix(canonical(cells, parties), min_votes=0, where=WHERE)
    assert "ghost" not in matrix.legislators["legislator_id"].tolist()
    assert manifest["dropped_legislator_ids"] == ["ghost"]
    assert np.isfinite(matrix.votes).any(axis=1).all()
    # what is stored (observed cells) describes the same matrix
    assert VoteMatrix.from_frame(matrix.to_frame()).shape == matrix.shape


def test_roll_call_left_without_votes_by_the_legislator_filter_is_dropped():
    # 'late' is voted on only by two members who are later dropped for too few votes:
    # the stored matrix must not keep an all-missing column.
    cells, parties = party_line_chamber()
    parties.update({"X1": "Democrat", "X2": "Republican"})
    for j in range(5):
        cells[("X1", f"pl{j:02d}")] = "Yea"
        cells[("X2", f"pl{j:02d}")] = "Nay"
    cells[("X1", "late")] = "Yea"
    cells[("X2", "late")] = "Nay"
    matrix, manifest = build_vote_matrix(canonical(cells, parties), where=WHERE)
    assert sorted(manifest["dropped_legislator_ids"]) == ["X1", "X2"]
    assert "late" not in matrix.roll_calls["roll_call_id"].tolist()
    assert manifest["roll_calls_after"] == 30 == matrix.shape[1]
    assert manifest["roll_calls_before"] - manifest["roll_calls_after"] == (
        manifest["roll_calls_dropped_lopsided"] + manifest["roll_calls_dropped_no_votes_left"]
    )
    assert manifest["roll_calls_dropped_no_votes_left"] == 1
    assert np.isfinite(matrix.votes).any(axis=0).all()
    assert VoteMatrix.from_frame(matrix.to_frame()).shape == matrix.shape == (40, 30)


# --- long form round trip --------------------------------------------------------


def test_to_frame_holds_observed_cells_only_in_row_major_order():
    parties = {"a": "Democrat", "b": "Republican"}
    cells = {("a", "r1"): "Yea", ("a", "r2"): "Present", ("b", "r1"): "Nay", ("b", "r2"): "Yea"}
    matrix, _ = build_vote_matrix(canonical(cells, parties), min_minority_share=0.0, min_votes=1)
    frame = matrix.to_frame()
    assert frame.columns.tolist() == ["legislator_id", "legislator_name", "party", "roll_call_id", "vote"]
    assert frame[["legislator_id", "roll_call_id"]].values.tolist() == [["a", "r1"], ["b", "r1"], ["b", "r2"]]
    assert frame["vote"].tolist() == [1, 0, 1]
    assert frame["vote"].dtype == np.int8
    assert frame["party"].tolist() == ["Democrat", "Republican", "Republican"]


def test_from_frame_restores_the_matrix_built_from_canonical_rows():
    rng = np.random.default_rng(7)
    cells, parties = party_line_chamber(n_dem=8, n_rep=9, n_roll_calls=25)
    # scattered absences and cross-party votes
    for key in list(cells):
        u = rng.uniform()
        if u < 0.15:
            cells[key] = "Not Voting"
        elif u < 0.3:
            cells[key] = "Yea" if cells[key] == "Nay" else "Nay"
    # the first legislator in matrix order misses the first roll calls, so the long
    # form meets the roll calls in a different order than the matrix columns
    for j in range(3):
        cells[("D00", f"pl{j:02d}")] = "Absent"
    matrix, _ = build_vote_matrix(canonical(cells, parties), min_votes=10)
    back = VoteMatrix.from_frame(matrix.to_frame())

    pd.testing.assert_frame_equal(back.legislators, matrix.legislators)
    assert sorted(back.roll_calls["roll_call_id"]) == sorted(matrix.roll_calls["roll_call_id"])
    # the same cells under the same labels
    order = pd.Index(back.roll_calls["roll_call_id"]).get_indexer(matrix.roll_calls["roll_call_id"])
    np.testing.assert_array_equal(back.votes[:, order], matrix.votes)
    assert back.n_observed == matrix.n_observed
    # and a second trip changes nothing at all
    again = VoteMatrix.from_frame(back.to_frame())
    np.testing.assert_array_equal(again.votes, back.votes)
    assert again.roll_calls["roll_call_id"].tolist() == back.roll_calls["roll_call_id"].tolist()


def test_round_trip_through_parquet_keeps_ids_as_strings(tmp_path):
    cells, parties = party_line_chamber(n_dem=3, n_rep=3, n_roll_calls=4)
    frame = canonical(cells, parties)
    frame["legislator_id"] = frame["legislator_id"].str.replace("D", "1").str.replace("R", "2")
    matrix, _ = build_vote_matrix(frame, min_votes=1)
    path = tmp_path / "m.parquet"
    matrix.to_frame().to_parquet(path, index=False)
    back = VoteMatrix.from_frame(pd.read_parquet(path))
    assert back.legislators["legislator_id"].tolist() == ["100", "101", "102", "200", "201", "202"]
    np.testing.assert_array_equal(back.votes, matrix.votes)


# --- bad input -------------------------------------------------------------------


def test_a_chamber_of_one_party_is_a_vote_matrix_like_any_other():
    """Which parties sit there is not the matrix's concern (the orientation rule's is)."""
    cells, parties = party_line_chamber(n_dem=0, n_rep=10)
    # Republicans split so that the roll calls survive the minority filter
    for j in range(30):
        for i in range(5):
            cells[(f"R{i:02d}", f"pl{j:02d}")] = "Yea"
    matrix, manifest = build_vote_matrix(canonical(cells, parties), where=WHERE)
    assert set(matrix.legislators["party"]) == {"Republican"}
    assert matrix.shape == (manifest["legislators_after"], manifest["roll_calls_after"]) == (10, 30)


def test_nothing_left_after_filtering_names_the_partition_and_the_thresholds():
    parties = {f"D{i}": "Democrat" for i in range(5)} | {f"R{i}": "Republican" for i in range(5)}
    cells = {(leg, f"u{j}"): "Yea" for leg in parties for j in range(30)}  # all unanimous
    with pytest.raises(BadInput) as caught:
        build_vote_matrix(canonical(cells, parties), where=WHERE)
    assert caught.value.where == WHERE
    message = str(caught.value)
    assert "nothing left after filtering" in message
    assert "0 roll calls remain" in message and "of 10 and 30" in message
    assert "min_minority_share=0.025" in message and "min_votes=20" in message


def test_min_votes_above_every_legislator_leaves_nothing():
    cells, parties = party_line_chamber(n_roll_calls=30)
    with pytest.raises(BadInput, match=r"nothing left after filtering \(0 legislators") as caught:
        build_vote_matrix(canonical(cells, parties), min_votes=31, where=WHERE)
    assert caught.value.where == WHERE
