"""A simulated legislature with known ideal points: the built-in demo data.

Two sessions x two chambers, Kansas-sized (House 125 members, Senate 40), about two
thirds Republican, one independent per chamber, realistic missingness (scattered
absences, a member who left mid-session and a replacement who arrived, a few
'Present' votes). Votes are drawn from the hierarchical 2PL model itself, so the
posterior should recover the truth and its 94% intervals should cover it about 94% of
the time.

The generated files ship in `irt_pipeline/demo_data/` (canonical parquet plus
`truth.parquet`), so the demo is byte-identical on every machine. `python -m
irt_pipeline.demo` regenerates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

DEMO_DATA = files("irt_pipeline").joinpath("demo_data")
TRUTH_FILE = "truth.parquet"


@dataclass(frozen=True)
class DemoChamber:
    session: str
    chamber: str
    n_legislators: int
    n_roll_calls: int
    seed: int


DEMO_CHAMBERS = (
    DemoChamber("demo-2023", "House", 125, 300, 1),
    DemoChamber("demo-2023", "Senate", 40, 250, 2),
    DemoChamber("demo-2025", "House", 125, 300, 3),
    DemoChamber("demo-2025", "Senate", 40, 250, 4),
)
DEMO_SESSIONS = sorted({c.session for c in DEMO_CHAMBERS})


def simulate_chamber(spec: DemoChamber) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical roll-call rows and the true standardized ideal points of one chamber."""
    rng = np.random.default_rng(spec.seed)
    n, m = spec.n_legislators, spec.n_roll_calls
    n_rep = int(round(0.68 * (n - 1)))
    party = np.array(["Republican"] * n_rep + ["Democrat"] * (n - 1 - n_rep) + ["Independent"])
    rng.shuffle(party)
    means = {"Democrat": -1.0, "Republican": 0.9, "Independent": 0.0}
    spreads = {"Democrat": 0.35, "Republican": 0.5, "Independent": 0.5}
    raw = np.array([rng.normal(means[p], spreads[p]) for p in party])
    xi = (raw - raw.mean()) / raw.std()

    # Cutpoints spread like the legislators themselves: party-line votes and splits
    # inside either party, as in a real chamber.
    beta = rng.normal(0.0, 1.5, size=m)
    alpha = beta * rng.normal(0.0, 1.0, size=m)
    p_yea = 1.0 / (1.0 + np.exp(-(np.outer(xi, beta) - alpha)))
    yea = rng.uniform(size=(n, m)) < p_yea
    vote = np.where(yea, "Yea", "Nay").astype(object)

    absent = rng.uniform(size=(n, m)) < 0.04
    vote[absent] = rng.choice(["Absent", "Not Voting"], size=absent.sum(), p=[0.7, 0.3])
    present = rng.uniform(size=(n, m)) < 0.005
    vote[present] = "Present"
    member = np.ones((n, m), dtype=bool)
    leaver, arrival = rng.choice(n, size=2, replace=False)
    member[leaver, m // 2 :] = False  # left mid-session
    member[arrival, : m // 3] = False  # sworn in late

    prefix = "rep" if spec.chamber == "House" else "sen"
    ids = np.array([f"{prefix}_{spec.session}_{i:03d}" for i in range(n)])
    names = np.array([f"{spec.chamber} Member {i:03d}" for i in range(n)])
    rows, cols = np.nonzero(member)
    start = pd.Timestamp(f"{spec.session[-4:]}-01-10")
    dates = (start + pd.to_timedelta(np.arange(m) * 120 // m, unit="D")).strftime("%Y-%m-%d")
    roll_calls = pd.DataFrame(
        {
            "session": spec.session,
            "chamber": spec.chamber,
            "roll_call_id": [f"RC{j + 1:04d}" for j in cols],
            "legislator_id": ids[rows],
            "legislator_name": names[rows],
            "party": party[rows],
            "vote": vote[rows, cols],
            "roll_call_date": np.asarray(dates)[cols],
            "roll_call_description": [f"Simulated roll call {j + 1}" for j in cols],
        }
    )
    truth = pd.DataFrame(
        {
            "session": spec.session,
            "chamber": spec.chamber,
            "legislator_id": ids,
            "party": party,
            "xi_true": xi,
        }
    )
    return roll_calls, truth


def landing_name(spec: DemoChamber) -> str:
    return f"{spec.session}_{spec.chamber}.parquet"


def write_demo_data(folder: Path) -> None:
    """Regenerate the shipped demo files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    truths = []
    for spec in DEMO_CHAMBERS:
        roll_calls, truth = simulate_chamber(spec)
        roll_calls.to_parquet(folder / landing_name(spec), index=False)
        truths.append(truth)
    pd.concat(truths, ignore_index=True).to_parquet(folder / TRUTH_FILE, index=False)


def copy_demo_landing(landing) -> list[str]:
    """Copy the shipped demo roll calls into a landing folder (local or remote UPath),
    as the importers write (irt_pipeline.imports: atomic, never over a file of yours)."""
    from irt_pipeline.imports import write_landing

    files = {landing_name(spec): DEMO_DATA.joinpath(landing_name(spec)).read_bytes() for spec in DEMO_CHAMBERS}
    write_landing(landing, files, "demo", [str(DEMO_DATA)])
    return list(files)


def demo_truth() -> pd.DataFrame:
    with DEMO_DATA.joinpath(TRUTH_FILE).open("rb") as handle:
        return pd.read_parquet(handle)


if __name__ == "__main__":
    target = Path(__file__).parent / "demo_data"
    write_demo_data(target)
    print(f"wrote demo data to {target}")
