"""The shipped demo data is what the simulator produces, and it looks like a
legislature: two sessions x two chambers, both parties, an independent, missingness."""

from __future__ import annotations

import pandas as pd
import pytest

from irt_pipeline.demo import DEMO_CHAMBERS, DEMO_DATA, demo_truth, landing_name, simulate_chamber


@pytest.mark.parametrize("spec", DEMO_CHAMBERS, ids=lambda s: f"{s.session}-{s.chamber}")
def test_shipped_files_match_the_simulator(spec):
    rows, truth = simulate_chamber(spec)
    with DEMO_DATA.joinpath(landing_name(spec)).open("rb") as handle:
        shipped = pd.read_parquet(handle)
    pd.testing.assert_frame_equal(shipped, rows, check_dtype=False)
    stored = demo_truth()
    stored = stored[(stored.session == spec.session) & (stored.chamber == spec.chamber)]
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), truth, check_dtype=False)


@pytest.mark.parametrize("spec", DEMO_CHAMBERS, ids=lambda s: f"{s.session}-{s.chamber}")
def test_demo_chamber_is_realistic(spec):
    rows, truth = simulate_chamber(spec)
    parties = truth["party"].value_counts()
    assert parties["Republican"] > parties["Democrat"] > 0 and parties["Independent"] == 1
    assert truth["xi_true"].mean() == pytest.approx(0.0) and truth["xi_true"].std(ddof=0) == pytest.approx(1.0)
    assert truth.groupby("party")["xi_true"].mean()["Republican"] > 0
    votes = rows["vote"].value_counts(normalize=True)
    assert 0.02 < 1 - votes["Yea"] - votes["Nay"] < 0.1  # absences and Present votes
    # One member left mid-session and one arrived late: fewer rows than a full matrix.
    assert len(rows) < spec.n_legislators * spec.n_roll_calls
