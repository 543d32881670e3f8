"""The party groups of a chamber, the same for every model: whatever parties it has.

Labels are kept as the source writes them ("Democrat", "DFL", "Whig", "GOP" ...); an
empty label is no party (a nonpartisan member). Every party with at least
`MIN_PARTY_MEMBERS` members in the vote matrix is a group of the party level, with its
own mean and spread; everyone else (independents, parties of fewer members, no party)
is unaffiliated, and their prior is the one stated treatment every model shares: the
mixture of the groups' distributions weighted by the groups' sizes (a member drawn from
the chamber's parties), or, in a chamber with no group, the models' population prior.

Why 5: a party's spread is estimated from its members' positions; with 2-4 members the
spread is its prior's (Gamma(2, 4): mean 0.5 chamber sd) more than the data's, so such a
party pools nothing that the mixture does not; from 5 the members start to speak. Third
parties of 2-4 members are common in Voteview's history (the 73rd Senate's 2
Farmer-Laborites and 1 Progressive); parties of 5 or more outside the two largest are
rare and real (the 1890s Populists).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_PARTY_MEMBERS = 5
UNAFFILIATED = -1


@dataclass(frozen=True)
class PartyGroups:
    """groups: (n,) int64, the group of each legislator (0 .. G-1, largest party first;
    ties by name), UNAFFILIATED for everyone else; names: the G party labels; sizes:
    (G,) members per group."""

    groups: np.ndarray
    names: tuple[str, ...]
    sizes: np.ndarray

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def unaffiliated(self) -> np.ndarray:
        return self.groups == UNAFFILIATED

    @property
    def weights(self) -> np.ndarray:
        """(G,) the mixture weights of the unaffiliated members' prior: group shares."""
        return self.sizes / self.sizes.sum() if self.count else np.zeros(0)


def party_groups(parties, min_members: int = MIN_PARTY_MEMBERS) -> PartyGroups:
    """The groups of the party level from (n,) party labels (see the module docstring)."""
    labels = np.asarray(parties, dtype=str)
    names, counts = np.unique(labels[labels != ""], return_counts=True)
    kept = sorted(((name, count) for name, count in zip(names, counts) if count >= min_members),
                  key=lambda item: (-item[1], item[0]))
    groups = np.full(len(labels), UNAFFILIATED, dtype=np.int64)
    for g, (name, _) in enumerate(kept):
        groups[labels == name] = g
    return PartyGroups(groups, tuple(str(name) for name, _ in kept), np.array([c for _, c in kept], dtype=float))
