"""Which way is positive on a partition's scale: the orientation rule, stated and stored
with every posterior.

The likelihood cannot tell a scale from its mirror image; a rule must say which
legislators lie on the positive (conservative) side. Decided, in this order, by:

1. the user's declaration in the storage root, `orientation.csv` with columns
   `session,chamber,legislator_id,side` (`session` may be `*` for every session; `side`
   `+` or `-`: the mean of these legislators lies on that side of the chamber's
   centre); it wins wherever it names a legislator of the partition;
2. the built-in table of party poles, `POLES`: pairs (conservative, liberal) of party
   labels covering every pair of major parties in Voteview's history and the usual
   state labels, in DW-NOMINATE's sign convention (positive = conservative:
   Pro-Administration, Federalists, Adams men, Anti-Jacksonians, Whigs and Republicans
   positive against their opponents); of the pairs both of whose parties sit in the
   partition, the one with the most members decides;
3. otherwise no rule: `orient` raises BadInput naming the file to write.

The rule is a direction r over the legislators (`Orientation.weights`, (n,)): the scale
is oriented so that r . xi > 0, r_i = 1/n_+ for the legislators (or the members of the
party) on the positive side and -1/n_- on the negative side, 0 for everyone else. With
the chamber's mean at 0, a declaration of one side only reads "their mean is positive".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from irt_pipeline.errors import BadInput

DECLARATIONS = "orientation.csv"
COLUMNS = ("session", "chamber", "legislator_id", "side")

# (conservative, liberal) party labels: of the pairs that sit in a partition, the one with
# the most members decides. Voteview's history (every pair of the two largest parties of a
# chamber, checked against DW-NOMINATE's sign in
# irt_pipeline_tests/test_orientation.py from party_positions_by_congress.csv), then the
# labels state legislatures and canonical files use.
POLES = (
    ("Republican", "Democrat"),
    ("Federalist", "Democratic-Republican"),
    ("Pro-Administration", "Anti-Administration"),
    ("Adams", "Jackson"),
    ("Anti-Jacksonians", "Jackson"),
    ("Adams-Clay Republican", "Jackson Republican"),
    ("Adams-Clay Republican", "Crawford Republican"),
    ("Adams-Clay Federalist", "Jackson Federalist"),
    ("Whig", "Democrat"),
    ("Opposition", "Democrat"),
    ("Republican", "Democratic"),
    ("Republican", "DFL"),
    ("Republican", "Democratic-Farmer-Labor"),
    ("GOP", "Democrat"),
    ("GOP", "Democratic"),
    ("R", "D"),
    ("Rep", "Dem"),
    ("Republican Party", "Democratic Party"),
)


@dataclass(frozen=True)
class Orientation:
    """weights: (n,) r, the scale is oriented so that r . xi > 0; rule: one line saying
    what decided it; poles: (conservative, liberal) party labels when a party pair
    decided (charts and contrasts use them), else None."""

    weights: np.ndarray
    rule: str
    poles: tuple[str, str] | None = None

    @property
    def positive(self) -> np.ndarray:
        """(n,) bool: the legislators (or party members) on the positive side."""
        return self.weights > 0

    @property
    def negative(self) -> np.ndarray:
        return self.weights < 0

    def sign(self, xi: np.ndarray) -> np.ndarray:
        """+1 where positions xi (..., n) are oriented by the rule (r . xi >= 0), else -1."""
        return np.where(np.asarray(xi) @ self.weights >= 0.0, 1.0, -1.0)

    def orient(self, scores: np.ndarray) -> np.ndarray:
        """(n,) scores, negated if needed so that r . scores >= 0."""
        scores = np.asarray(scores, float)
        return scores * self.sign(scores)


def side_weights(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """r: 1/n_+ on the positive legislators, -1/n_- on the negative ones, 0 elsewhere."""
    weights = np.zeros(len(positive))
    for members, sign in ((positive, 1.0), (negative, -1.0)):
        if members.any():
            weights[members] = sign / members.sum()
    return weights


def read_declarations(handle, where: str) -> list[dict]:
    """The rows of an orientation.csv (file object of text), checked: the four columns,
    `side` "+" or "-", no empty value, no legislator declared on both sides of one
    partition. Raises BadInput naming `where` and the line."""
    reader = csv.DictReader(handle)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadInput(where, f"the orientation file lacks column(s) {missing} (its header: {reader.fieldnames}); "
                       f"it needs {', '.join(COLUMNS)}")
    rows, seen = [], {}
    for line, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in COLUMNS}
        empty = [c for c in COLUMNS if not values[c]]
        if empty:
            raise BadInput(where, f"line {line} has no {empty[0]} value")
        if values["side"] not in ("+", "-"):
            raise BadInput(where, f"line {line}: side {values['side']!r} is neither '+' nor '-'")
        key = (values["session"], values["chamber"], values["legislator_id"])
        if seen.get(key, values["side"]) != values["side"]:
            raise BadInput(where, f"line {line}: legislator {key[2]} is declared on both sides "
                           f"(session {key[0]}, chamber {key[1]})")
        seen[key] = values["side"]
        rows.append(values)
    return rows


def declared(rows: list[dict], session: str, chamber: str) -> dict[str, str]:
    """legislator_id -> side declared for this partition (a row for the session itself
    wins over one for '*')."""
    sides: dict[str, str] = {}
    for scope in ("*", session):
        for row in rows:
            if row["session"] == scope and row["chamber"] == chamber:
                sides[row["legislator_id"]] = row["side"]
    return sides


def orientation(legislator_ids, parties, session: str, chamber: str, declarations: list[dict] | None = None,
                declarations_path: str = DECLARATIONS, where: str = "") -> Orientation:
    """The orientation rule of a partition (module docstring) for its legislators (n,)
    and their party labels (n,). Raises BadInput when no rule decides."""
    ids = np.asarray(legislator_ids).astype(str)
    labels = np.asarray(parties).astype(str)
    sides = declared(declarations or [], session, chamber)
    if sides:
        positive = np.array([sides.get(i) == "+" for i in ids])
        negative = np.array([sides.get(i) == "-" for i in ids])
        if not (positive.any() or negative.any()):
            raise BadInput(where or f"session={session} chamber={chamber}",
                           f"{declarations_path} declares {len(sides)} legislator(s) for this partition "
                           f"({', '.join(sorted(sides)[:5])}), none of whom is in its vote matrix (filtered out for "
                           "too few votes, or a mistyped id): declare legislators who vote in it")
        counts = f"{int(positive.sum())} legislator(s) +, {int(negative.sum())} -"
        return Orientation(side_weights(positive, negative), f"declared in {declarations_path}: {counts}")
    present = set(labels)
    pairs = [(c, l) for c, l in POLES if c in present and l in present]
    if pairs:  # the pair of the most members: the chamber's main division, not a minor pair
        conservative, liberal = max(pairs, key=lambda pair: int(np.isin(labels, pair).sum()))
        weights = side_weights(labels == conservative, labels == liberal)
        return Orientation(weights, f"party poles: {conservative} (+) against {liberal} (-)", (conservative, liberal))
    parties_present = sorted(str(p) if p else "(no party)" for p in present)
    raise BadInput(
        where or f"session={session} chamber={chamber}",
        f"no rule says which way is conservative here: its parties {parties_present} are no pair of the "
        f"built-in party poles; declare it in {declarations_path} (columns {','.join(COLUMNS)}; e.g. a line "
        f"'{session},{chamber},<legislator_id>,+' for a legislator whose position is to be positive, '-' for "
        "one to be negative; session '*' for every session)",
    )


def by_poles(parties) -> Orientation | None:
    """The built-in party-pole rule for (n,) party labels, or None when no pair of
    `POLES` sits in the chamber (no declarations read: for tests and plain-function use)."""
    try:
        return orientation(np.arange(len(parties)).astype(str), parties, "", "")
    except BadInput:
        return None


def most_named(poles) -> tuple[str, str] | None:
    """Of several rules' poles ((conservative, liberal) or None each), the pair named
    most often (the first named among equals), or None where none names a pair: the
    pair a chart over several sessions contrasts."""
    from collections import Counter

    pairs = Counter(tuple(pair) for pair in poles if pair)
    return pairs.most_common(1)[0][0] if pairs else None


def fold_draws(posterior, weights: np.ndarray, odd, var: str = "xi") -> list[int]:
    """Put every draw of an ArviZ posterior group on the rule's side, in place: where
    r . xi < 0 the variables `odd` are negated (the mirror image of the draw, which has
    the same density). Exactly the posterior restricted to that half, whatever the
    chains did; nothing is averaged across mirror images. Returns the draws negated per
    chain. weights: (n,) r in the posterior's legislator order."""
    xi = posterior[var].transpose("chain", "draw", ...).values
    flip = xi @ np.asarray(weights, float) < 0.0
    if flip.any():
        sign = np.where(flip, -1.0, 1.0)
        for name in odd:
            if name not in posterior:
                continue
            values = posterior[name].transpose("chain", "draw", ...)
            factor = sign.reshape(sign.shape + (1,) * (values.ndim - 2))
            posterior[name] = (values * factor).transpose(*posterior[name].dims)
    return flip.sum(axis=1).astype(int).tolist()
