"""Small deterministic Kansas Legislature folders in the analysts' CSV layout.

`write_biennium(landing)` writes the 2019-2020 biennium as two folders:
`88th_2019-2020/` (regular session: House 60 roll calls, Senate 50) and `2020s/`
(a special session: 4 roll calls per chamber, party-line so they survive the
lopsidedness filter). House: 36 members (24 Republican, 11 Democrat, one with an
empty party = Independent); Senate: 20 (13 Republican, 7 Democrat). Votes are drawn
from a 2PL model with party-separated ideal points, so PCA puts Republicans above
Democrats. Every vote category appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HOUSE = {"Republican": 24, "Democrat": 11, "": 1}
SENATE = {"Republican": 13, "Democrat": 7}
REGULAR_ROLL_CALLS = {"House": 60, "Senate": 50}
SPECIAL_ROLL_CALLS = 4
SURNAMES = [
    "Adams", "Baker", "Clark", "Davis", "Evans", "Fisher", "Green", "Hall", "Irwin",
    "Jones", "King", "Lewis", "Moore", "Nolan", "Owens", "Parker", "Quinn", "Reed",
    "Scott", "Turner", "Underwood", "Vance", "Walker", "Young", "Zimmer", "Allen",
    "Brooks", "Carter", "Dixon", "Ellis", "Foster", "Grant", "Hayes", "Ingram",
    "Jensen", "Keller",
]


@dataclass(frozen=True)
class Member:
    slug: str
    name: str
    full_name: str
    chamber: str
    party: str  # "" = no party (Independent)
    district: int
    xi: float


def members(seed: int = 7) -> list[Member]:
    rng = np.random.default_rng(seed)
    out = []
    for chamber, parties, prefix in (("House", HOUSE, "rep"), ("Senate", SENATE, "sen")):
        i = 0
        for party, count in parties.items():
            centre = {"Republican": 1.0, "Democrat": -1.0, "": 0.0}[party]
            for _ in range(count):
                surname = SURNAMES[i % len(SURNAMES)]
                out.append(
                    Member(
                        slug=f"{prefix}_{surname.lower()}_{chamber[0].lower()}_{i + 1}",
                        name=surname,
                        full_name=f"Pat {surname}",
                        chamber=chamber,
                        party=party,
                        district=i + 1,
                        xi=float(rng.normal(centre, 0.35)),
                    )
                )
                i += 1
    return out


def _votes_for(rng, people: list[Member], alpha: float, beta: float) -> list[str]:
    xi = np.array([m.xi for m in people])
    yea = rng.random(len(people)) < 1 / (1 + np.exp(-(beta * xi - alpha)))
    votes = np.where(yea, "Yea", "Nay").astype(object)
    other = rng.random(len(people))
    votes[other < 0.04] = "Absent and Not Voting"
    votes[(other >= 0.04) & (other < 0.05)] = "Present and Passing"
    votes[(other >= 0.05) & (other < 0.06)] = "Not Voting"
    return list(votes)


def write_session(
    folder: Path, label: str, start: datetime, roll_calls: dict[str, int], seed: int, party_line: bool
) -> dict[str, Path]:
    """Write one session folder; returns the three file paths by kind."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = members()
    vote_rows, roll_rows = [], []
    when = start
    counter = seed * 1000
    for chamber, count in roll_calls.items():
        chamber_people = [m for m in people if m.chamber == chamber]
        for r in range(count):
            when += timedelta(hours=3, minutes=r % 7)
            counter += 1
            vote_id = f"je_{when:%Y%m%d%H%M%S}_{counter:04d}"
            bill = f"{'HB' if chamber == 'House' else 'SB'} {2000 + counter % 997}"
            motion = "Final Action - Passed" if r % 2 else "Emergency Final Action - Passed as amended"
            if party_line:
                alpha, beta = rng.normal(0, 0.2), 4.0 * (1 if r % 2 else -1)
            else:
                alpha, beta = rng.normal(0, 1.0), rng.normal(0, 1.5)
            votes = _votes_for(rng, chamber_people, alpha, beta)
            for m, v in zip(chamber_people, votes):
                vote_rows.append(
                    {
                        "session": label, "bill_number": bill, "bill_title": f"An act about {bill}",
                        "vote_id": vote_id, "vote_datetime": when.isoformat(),
                        "vote_date": f"{when:%m/%d/%Y}", "chamber": chamber, "motion": motion,
                        "legislator_name": m.name, "legislator_slug": m.slug, "vote": v,
                    }
                )
            counts = {c: votes.count(c) for c in ("Yea", "Nay", "Present and Passing", "Absent and Not Voting", "Not Voting")}
            roll_rows.append(
                {
                    "session": label, "bill_number": bill, "bill_title": f"An act about {bill}",
                    "vote_id": vote_id, "vote_url": f"https://example.invalid/{vote_id}",
                    "vote_datetime": when.isoformat(), "vote_date": f"{when:%m/%d/%Y}",
                    "chamber": chamber, "motion": motion, "vote_type": motion.split(" - ")[0],
                    "result": motion.split(" - ")[1], "short_title": f"About {bill}", "sponsor": "Committee",
                    "yea_count": counts["Yea"], "nay_count": counts["Nay"],
                    "present_passing_count": counts["Present and Passing"],
                    "absent_not_voting_count": counts["Absent and Not Voting"],
                    "not_voting_count": counts["Not Voting"], "total_votes": len(votes),
                    "passed": counts["Yea"] > counts["Nay"],
                }
            )
    legislators = pd.DataFrame(
        {
            "name": [m.name for m in people],
            "full_name": [m.full_name for m in people],
            "legislator_slug": [m.slug for m in people],
            "chamber": [m.chamber for m in people],
            "party": [m.party for m in people],
            "district": [m.district for m in people],
            "member_url": [f"https://example.invalid/members/{m.slug}" for m in people],
            "ocd_id": [f"ocd-division/country:us/state:ks/sld{'l' if m.chamber == 'House' else 'u'}:{m.district}" for m in people],
        }
    )
    paths = {kind: folder / f"{folder.name}_{kind}.csv" for kind in ("votes", "rollcalls", "legislators")}
    pd.DataFrame(vote_rows).to_csv(paths["votes"], index=False)
    pd.DataFrame(roll_rows).to_csv(paths["rollcalls"], index=False)
    legislators.to_csv(paths["legislators"], index=False)
    return paths


def write_biennium(landing: Path) -> dict[str, dict[str, Path]]:
    """The 2019-2020 biennium: regular folder plus the 2020 special session."""
    return {
        "regular": write_session(
            landing / "88th_2019-2020", "88th (2019-2020)", datetime(2019, 1, 15, 9),
            REGULAR_ROLL_CALLS, seed=11, party_line=False,
        ),
        "special": write_session(
            landing / "2020s", "2020 Special", datetime(2020, 6, 3, 9),
            {"House": SPECIAL_ROLL_CALLS, "Senate": SPECIAL_ROLL_CALLS}, seed=12, party_line=True,
        ),
    }
