"""The canonical roll-call contract (data_contracts/, enforced with Great Expectations)
on good and bad frames."""

from __future__ import annotations

import pandas as pd
import pytest

from data_contracts import roll_call_schema
from irt_pipeline.contract import canonical_columns, conform, validate_roll_calls
from irt_pipeline.errors import BadInput

WHERE = "landing/117_Senate.parquet (partition session=117 chamber=Senate)"
REQUIRED = ["session", "chamber", "roll_call_id", "legislator_id", "legislator_name", "party", "vote"]


def good_frame() -> pd.DataFrame:
    votes = ["Yea", "Nay", "Present", "Not Voting", "Absent", "Yea"]
    rows = []
    for j, rc in enumerate(["1", "2", "3"]):
        for i, (leg, party) in enumerate([("100", "Democrat"), ("200", "Republican")]):
            rows.append(
                {
                    "session": "117",
                    "chamber": "Senate",
                    "roll_call_id": rc,
                    "legislator_id": leg,
                    "legislator_name": f"Member {leg}",
                    "party": party,
                    "vote": votes[2 * j + i],
                    "roll_call_date": "2021-01-0" + str(j + 3),
                }
            )
    return conform(pd.DataFrame(rows))


def failed(frame) -> list[str]:
    result = validate_roll_calls(frame, WHERE)
    assert result.where == WHERE
    assert result.passed is False
    with pytest.raises(BadInput) as caught:
        result.raise_if_failed()
    assert caught.value.where == WHERE
    assert str(caught.value).startswith(f"{WHERE}: violates the canonical roll-call contract: ")
    return result.failures


def test_schema_required_columns_and_conform():
    assert canonical_columns(required_only=True) == REQUIRED
    scores = ["external_score", "external_score_dim2", "session_score", "session_score_dim2"]
    assert canonical_columns() == REQUIRED + ["roll_call_date", "roll_call_description", *scores]
    frame = good_frame()
    assert frame.columns.tolist() == canonical_columns()  # optional columns added, in order
    assert frame["roll_call_description"].isna().all() and frame["external_score"].isna().all()
    assert frame["external_score"].dtype == "float64"
    assert roll_call_schema()["unique"] == ["session", "chamber", "roll_call_id", "legislator_id"]


def test_conform_does_not_invent_a_missing_required_column():
    frame = conform(good_frame().drop(columns="party"))
    assert "party" not in frame.columns


def test_conform_turns_numeric_ids_into_strings():
    frame = good_frame().assign(legislator_id=lambda f: f["legislator_id"].astype(int))
    conformed = conform(frame)
    assert conformed["legislator_id"].tolist() == ["100", "200"] * 3


def test_good_frame_passes_every_expectation():
    result = validate_roll_calls(good_frame(), WHERE)
    assert result.passed is True
    assert result.failures == []
    assert result.evaluated == 23
    result.raise_if_failed()  # does not raise


def test_empty_file():
    assert failed(good_frame().iloc[:0]) == ["the file has no rows"]


@pytest.mark.parametrize("column", REQUIRED)
def test_missing_required_column(column):
    failures = failed(good_frame().drop(columns=column))
    assert failures == [f"missing column {column!r}"]


def test_unknown_vote_category_names_the_values():
    frame = good_frame()
    frame.loc[1, "vote"] = "Maybe"
    frame.loc[4, "vote"] = "yea"  # categories are case sensitive
    (failure,) = failed(frame)
    assert failure.startswith("column 'vote' has values outside ['Absent', 'Nay', 'Not Voting', 'Present', 'Yea']")
    assert "2 row(s)" in failure and "'Maybe'" in failure and "'yea'" in failure


def test_duplicate_legislator_roll_call_rows():
    frame = good_frame()
    duplicate = frame.iloc[[2]].assign(vote="Nay")  # a second vote by 100 on roll call 2
    (failure,) = failed(pd.concat([frame, duplicate], ignore_index=True))
    assert failure.startswith("duplicate rows for ['session', 'chamber', 'roll_call_id', 'legislator_id']")
    assert "2 row(s)" in failure
    assert "'roll_call_id': '2'" in failure and "'legislator_id': '100'" in failure


def test_identical_repeated_rows_also_fail():
    frame = good_frame()
    (failure,) = failed(pd.concat([frame, frame.iloc[[0]]], ignore_index=True))
    assert "duplicate rows" in failure


def test_empty_values_invalid_session_and_unknown_chamber_are_each_reported():
    frame = good_frame()
    frame.loc[0, "legislator_id"] = pd.NA
    frame.loc[1, "session"] = "117|x"
    frame.loc[2, "chamber"] = "senate"
    failures = failed(frame)
    assert len(failures) == 3
    assert any(f.startswith("column 'legislator_id' has empty values (1 row(s)") for f in failures)
    assert any(f.startswith("column 'session' has values not matching") and "'117|x'" in f for f in failures)
    assert any(f.startswith("column 'chamber' has values outside ['House', 'Senate']") and "'senate'" in f for f in failures)


@pytest.mark.parametrize("column", ["roll_call_id", "legislator_id", "legislator_name"])
def test_blank_values_are_empty_values(column):
    frame = good_frame()
    frame.loc[0, column] = ""
    frame.loc[3, column] = "   "
    (failure,) = failed(frame)
    assert failure.startswith(f"column {column!r} has blank values (2 row(s)")


def test_an_empty_party_is_no_party_not_an_empty_value():
    """A legislator of no party (a nonpartisan chamber) has an empty label; a missing one
    is still refused."""
    frame = good_frame()
    frame["party"] = ""
    assert validate_roll_calls(frame, WHERE).passed
    frame.loc[0, "party"] = None
    (failure,) = failed(frame)
    assert failure.startswith("column 'party' has empty values (1 row(s)")


def test_the_same_roll_call_in_two_chambers_is_not_a_duplicate():
    frame = good_frame()
    house = frame.assign(chamber="House")
    assert validate_roll_calls(pd.concat([frame, house], ignore_index=True), WHERE).passed is True
