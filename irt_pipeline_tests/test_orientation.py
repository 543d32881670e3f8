"""The orientation rule and the party groups: the built-in party poles agree with
DW-NOMINATE's sign in every chamber of Voteview's history; a user's declaration wins,
is checked, and names its file and line when wrong; without a rule the refusal says
which file to write; draws are folded onto the rule's side, never averaged; parties of
any number and label make the groups of the party level."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irt_pipeline.errors import BadInput
from irt_pipeline.sources.voteview import party_name
from irt_pipeline.stats.orientation import POLES, by_poles, fold_draws, orientation, read_declarations
from irt_pipeline.stats.parties import MIN_PARTY_MEMBERS, UNAFFILIATED, party_groups


@pytest.fixture
def history(shared_voteview):
    """Every chamber of Voteview's history: its parties (named as the members files are)
    with their members and mean DW-NOMINATE dim 1."""
    frame = pd.read_csv(shared_voteview / "party_positions_by_congress.csv")
    return frame.assign(party=frame["party_code"].map(party_name))


def test_the_party_poles_cover_every_chamber_of_voteviews_history_with_dw_nominates_sign(history):
    """1789-2024, House and Senate: each chamber's parties include a pair of the poles,
    and the pole named conservative sat right of the other on DW-NOMINATE dim 1 (mean of
    its members)."""
    chambers = history.groupby(["congress", "chamber"])
    assert len(chambers) == 236
    for (congress, chamber), parties in chambers:
        rule = by_poles(np.repeat(parties["party"].to_numpy(), parties["members"].to_numpy()))
        assert rule is not None, (congress, chamber, sorted(parties["party"]))
        conservative, liberal = rule.poles
        mean = parties.set_index("party")["nominate_dim1_mean"]
        assert mean[conservative] > mean[liberal], (congress, chamber, rule.poles)
        # the pair decided is the chamber's two largest parties (no minor pair first)
        largest = set(parties.nlargest(2, "members")["party"])
        assert {conservative, liberal} == largest, (congress, chamber, rule.poles, largest)


def test_state_labels_are_poles_too():
    for conservative, liberal in (("Republican", "DFL"), ("GOP", "Democratic"), ("R", "D"), ("Republican", "Democratic")):
        rule = by_poles([liberal, conservative, conservative, "Independent"])
        assert rule.poles == (conservative, liberal)
        np.testing.assert_allclose(rule.weights, [-1.0, 0.5, 0.5, 0.0])
    assert all(c != l for c, l in POLES)


def declarations(text: str) -> list[dict]:
    return read_declarations(io.StringIO(text), "root/orientation.csv")


IDS = ["a", "b", "c", "d", "e"]
PARTIES = ["Republican", "Republican", "Democrat", "Democrat", "Independent"]


def test_a_declaration_wins_over_the_poles_and_a_session_row_over_a_star_row():
    rows = declarations(
        "session,chamber,legislator_id,side\n*,Senate,c,+\n118,Senate,c,-\n118,Senate,a,+\n*,House,d,+\n"
    )
    rule = orientation(IDS, PARTIES, "118", "Senate", rows)
    np.testing.assert_allclose(rule.weights, [1.0, 0.0, -1.0, 0.0, 0.0])
    assert rule.rule.startswith("declared in orientation.csv: 1 legislator(s) +, 1 -") and rule.poles is None
    # another session: the '*' row applies (c is +); the House rows are another chamber's
    rule = orientation(IDS, PARTIES, "117", "Senate", rows)
    np.testing.assert_allclose(rule.weights, [0.0, 0.0, 1.0, 0.0, 0.0])
    # no row for the partition: the poles decide
    rule = orientation(IDS, PARTIES, "117", "House", declarations("session,chamber,legislator_id,side\n"))
    assert rule.poles == ("Republican", "Democrat")


@pytest.mark.parametrize("text, problem", [
    ("session,chamber,legislator\n118,Senate,a\n", "lacks column(s) ['legislator_id', 'side']"),
    ("session,chamber,legislator_id,side\n118,Senate,a,up\n", "line 2: side 'up' is neither '+' nor '-'"),
    ("session,chamber,legislator_id,side\n118,Senate,,+\n", "line 2 has no legislator_id value"),
    ("session,chamber,legislator_id,side\n118,Senate,a,+\n118,Senate,a,-\n", "line 3: legislator a is declared on both sides"),
])
def test_a_bad_declaration_file_is_refused_naming_the_file_and_the_line(text, problem):
    with pytest.raises(BadInput) as caught:
        declarations(text)
    assert caught.value.where == "root/orientation.csv" and problem in caught.value.problem


def test_without_a_rule_the_refusal_names_the_file_to_write():
    for parties in (["", "", "", "", ""], ["Republican"] * 5, ["Nonpartisan"] * 4 + ["Independent"]):
        with pytest.raises(BadInput) as caught:
            orientation(IDS, parties, "2025", "Senate", None, declarations_path="/data/root/orientation.csv")
        problem = caught.value.problem
        assert "no rule says which way is conservative here" in problem
        assert "declare it in /data/root/orientation.csv" in problem and "'2025,Senate,<legislator_id>,+'" in problem
    # declared legislators none of whom is in the matrix: refused, not ignored
    rows = declarations("session,chamber,legislator_id,side\n2025,Senate,zz,+\n")
    with pytest.raises(BadInput, match="none of whom is in its vote matrix"):
        orientation(IDS, ["Republican"] * 5, "2025", "Senate", rows)


def test_draws_on_the_wrong_side_are_folded_with_their_odd_variables():
    rng = np.random.default_rng(0)
    xi = rng.normal(size=(2, 50, 5)) + np.array([1.0, 1.0, -1.0, -1.0, 0.0])
    xi[1, :10] *= -1  # ten mirrored draws in chain 1
    beta, alpha = rng.normal(size=(2, 50, 3)), rng.normal(size=(2, 50, 3))
    beta[1, :10] *= -1
    post = xr.Dataset({
        "xi": (("chain", "draw", "legislator"), xi.copy()),
        "beta": (("chain", "draw", "roll_call"), beta.copy()),
        "alpha": (("chain", "draw", "roll_call"), alpha.copy()),
    })
    rule = by_poles(PARTIES)
    flipped = fold_draws(post, rule.weights, ("xi", "beta"))
    wrong = (xi @ rule.weights < 0)
    assert flipped == wrong.sum(axis=1).tolist() and flipped[1] >= 10
    assert np.all(post["xi"].values @ rule.weights >= 0)
    sign = np.where(wrong, -1.0, 1.0)
    np.testing.assert_array_equal(post["xi"].values, xi * sign[..., None])
    np.testing.assert_array_equal(post["beta"].values, beta * sign[..., None])
    np.testing.assert_array_equal(post["alpha"].values, alpha)  # even under the mirror image


def test_party_groups_are_the_parties_with_enough_members():
    labels = ["Whig"] * 7 + ["Democrat"] * 9 + ["Anti Masonic"] * (MIN_PARTY_MEMBERS - 1) + ["", "Independent"]
    parties = party_groups(labels)
    assert parties.names == ("Democrat", "Whig") and parties.sizes.tolist() == [9, 7]
    assert np.all(parties.groups[np.array(labels) == "Democrat"] == 0)
    assert np.all(parties.groups[np.array(labels) == "Anti Masonic"] == UNAFFILIATED)
    assert parties.unaffiliated.sum() == MIN_PARTY_MEMBERS - 1 + 2
    np.testing.assert_allclose(parties.weights, [9 / 16, 7 / 16])
    nonpartisan = party_groups([""] * 10)
    assert nonpartisan.count == 0 and nonpartisan.unaffiliated.all()
