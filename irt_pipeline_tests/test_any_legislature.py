"""Any legislature, any era, through the whole chain, on a real Senate (the 118th,
shared): relabelled as each historical party pair of Voteview's (through Voteview's own
files and party codes), it runs with no configuration, passes every gate and gives the
very scale of the unrelabelled run; with "Democratic"/"GOP" labels in canonical parquet
likewise; with every label blanked (nonpartisan) it is refused, the refusal naming the
file to write, and runs with one line of orientation.csv, as one-party sessions do."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from irt_pipeline import cli
from irt_pipeline.contract import conform
from irt_pipeline.definitions import make_definitions
from irt_pipeline.resources import Sampler
from irt_pipeline.sources.voteview import read_voteview

CHAMBER = "Senate"
# Voteview party codes of each era's pair (irt_pipeline/sources/voteview_parties.csv):
# Republicans' code -> the conservative pole's, Democrats' -> the liberal pole's.
ERAS = {
    "118fed": {200: 1, 100: 13},  # Federalist / Democratic-Republican (1790s-1810s)
    "118adams": {200: 22, 100: 555},  # Adams / Jackson (1820s)
    "118whig": {200: 29},  # Whig / Democrat (1830s-1850s)
}
# A Republican of the 118th (John Barrasso) and a Democrat (Elizabeth Warren), by ICPSR id.
REPUBLICAN, DEMOCRAT = "40707", "41301"


def voteview_session(shared, tmp_path, session: str, codes: dict[int, int]):
    """The 118th Senate's Voteview files with party codes replaced, as canonical rows of
    `session` (Voteview's own reader: the names come from its party-code list)."""
    members = pd.read_csv(shared / "S118_members.csv")
    members["party_code"] = members["party_code"].replace(codes)
    path = tmp_path / f"{session}_members.csv"
    members.to_csv(path, index=False)
    return conform(read_voteview(shared / "S118_votes.csv", path, session=session))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{session: (summary of `irt-pipeline run`, rankings, rows)} for every variant, and
    the root; the nonpartisan one run twice (refused, then with a declaration); "118
    flat": the flat model's rankings of the 118th."""
    from conftest import SHARED_VOTEVIEW as shared

    if not (shared / "S118_votes.csv").exists():
        pytest.skip(f"real Voteview files not found at {shared}")
    tmp = tmp_path_factory.mktemp("any_legislature")
    root = tmp / "root"
    (root / "landing").mkdir(parents=True)
    rows = {"118": conform(read_voteview(shared / "S118_votes.csv", shared / "S118_members.csv"))}
    rows.update({session: voteview_session(shared, tmp, session, codes) for session, codes in ERAS.items()})
    base = rows["118"]
    rows["118gop"] = base.assign(session="118gop", party=base["party"].replace({"Republican": "GOP", "Democrat": "Democratic"}))
    rows["118np"] = base.assign(session="118np", party="")
    rows["118one"] = base.assign(session="118one", party=base["party"].replace({"Democrat": "Republican"}))
    for session, frame in rows.items():
        frame.to_parquet(root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
    defs = make_definitions(root=str(root), sampler=Sampler())
    out = {}
    with dg.instance_for_test() as instance, pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli._shared, "definitions", lambda: defs)
        for session in rows:
            if session == "118np":
                out["118np refused"] = cli.run_partition(instance, session, CHAMBER)
            if session in ("118np", "118one"):
                (root / "orientation.csv").write_text(
                    "session,chamber,legislator_id,side\n"
                    f"118np,{CHAMBER},{REPUBLICAN},+\n118one,{CHAMBER},{REPUBLICAN},+\n118one,{CHAMBER},{DEMOCRAT},-\n"
                )
            summary = cli.run_partition(instance, session, CHAMBER)
            ranking = pd.read_parquet(root / "rankings" / CHAMBER / f"{session}.parquet") if summary["success"] else None
            out[session] = (summary, ranking, rows[session])
        flat = cli.run_partition(instance, "118", CHAMBER, model="flat")  # no party in the prior
        assert passed_everything(flat), flat["failures"]
        out["118 flat"] = pd.read_parquet(root / "flat_rankings" / CHAMBER / "118.parquet")
    return out, root


def external_r(ranking: pd.DataFrame, rows: pd.DataFrame) -> float:
    """Pearson r of the posterior means with DW-NOMINATE dim 1 (the rows' external_score)."""
    score = rows.drop_duplicates("legislator_id").set_index("legislator_id")["external_score"]
    table = ranking.assign(score=ranking["legislator_id"].map(score)).dropna(subset=["score"])
    return float(np.corrcoef(table["xi_mean"], table["score"])[0, 1])


def passed_everything(summary: dict) -> bool:
    return summary["success"] and all(c["passed"] for c in summary["checks"])


@pytest.mark.parametrize("session", [*ERAS, "118gop"])
def test_a_senate_relabelled_as_another_eras_pair_runs_with_no_configuration_and_gives_the_same_scale(runs, session):
    out, _ = runs
    summary, ranking, rows = out[session]
    original, reference, _ = out["118"]
    assert passed_everything(original) and passed_everything(summary), summary["failures"]
    conservative, liberal = {"118fed": ("Federalist", "Democratic-Republican"), "118adams": ("Adams", "Jackson"),
                             "118whig": ("Whig", "Democrat"), "118gop": ("GOP", "Democratic")}[session]
    assert summary["orientation"] == f"party poles: {conservative} (+) against {liberal} (-)"
    means = ranking.groupby("party")["xi_mean"].mean()
    assert means[conservative] > 0 > means[liberal]  # the right sign
    # The model sees the same chamber: the same groups, the same rule's sides, so the
    # very same draws (only the labels differ) and the same correlation with DW-NOMINATE.
    np.testing.assert_array_equal(ranking["xi_mean"], reference["xi_mean"])
    assert external_r(ranking, rows) == pytest.approx(external_r(reference, out["118"][2]), abs=1e-12)
    assert external_r(reference, out["118"][2]) > 0.9


def test_a_nonpartisan_chamber_is_refused_until_one_line_declares_its_orientation(runs):
    out, root = runs
    refused = out["118np refused"]
    assert not refused["success"]
    (failure,) = refused["failures"]
    assert failure.startswith("roll_calls: ") and "no rule says which way is conservative here" in failure
    assert f"declare it in {root / 'orientation.csv'}" in failure
    summary, ranking, rows = out["118np"]
    assert passed_everything(summary), summary["failures"]
    assert summary["orientation"] == f"declared in {root / 'orientation.csv'}: 1 legislator(s) +, 0 -"
    assert ranking.set_index("legislator_id").loc[REPUBLICAN, "xi_mean"] > 0
    # Without a party group the hierarchical model's prior is the flat model's: its scale
    # tells DW-NOMINATE's order as the flat model's does (0.93 here; the party level's
    # scale 0.96: the parties' labels are information, and blanked they are gone).
    assert external_r(ranking, rows) == pytest.approx(external_r(out["118 flat"], rows), abs=0.01)
    assert external_r(ranking, rows) > 0.9


def test_a_one_party_session_runs_with_a_declared_orientation(runs):
    out, root = runs
    summary, ranking, rows = out["118one"]
    assert passed_everything(summary), summary["failures"]
    assert summary["orientation"] == f"declared in {root / 'orientation.csv'}: 1 legislator(s) +, 1 -"
    positions = ranking.set_index("legislator_id")["xi_mean"]
    assert positions[REPUBLICAN] > 0 > positions[DEMOCRAT]
    assert external_r(ranking, rows) > 0.9
