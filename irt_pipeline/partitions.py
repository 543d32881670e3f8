"""The partitions, defined once: session (dynamic) x chamber (House, Senate).

Dagster orders multi-partition dimensions alphabetically, so the string form of a key
is "chamber|session" ("Senate|117"). Always build keys with `partition_key()`.
"""

from __future__ import annotations

import re

import dagster as dg

from irt_pipeline.errors import BadInput

CHAMBERS = ("House", "Senate")
SESSION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")

session_partitions = dg.DynamicPartitionsDefinition(name="session")
chamber_partitions = dg.StaticPartitionsDefinition(list(CHAMBERS))
session_chamber_partitions = dg.MultiPartitionsDefinition(
    {"session": session_partitions, "chamber": chamber_partitions}
)


def validate_session_key(session: str, where: str = "session key") -> str:
    """Return `session` if it is a safe partition key, else raise BadInput.

    Letters, digits, '.' and '-' only (at most 64, starting with a letter or digit):
    '|' and ',' break Dagster's multi-partition keys and backfills, '/' becomes a
    folder in storage paths, and '_' separates the session from the chamber in landing
    file names.
    """
    if not isinstance(session, str) or not SESSION_KEY.match(session):
        raise BadInput(
            where,
            f"invalid session key {session!r}: use letters, digits, '.' and '-' only "
            "(e.g. '117' or '2025-2026'); characters such as '|', ',', '/', '_' or spaces "
            "break partition keys or storage paths",
        )
    return session


def validate_chamber(chamber: str, where: str = "chamber") -> str:
    if chamber not in CHAMBERS:
        raise BadInput(where, f"unknown chamber {chamber!r}; expected one of {list(CHAMBERS)}")
    return chamber


def partition_key(session: str, chamber: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey(
        {"session": validate_session_key(session), "chamber": validate_chamber(chamber)}
    )


def split_key(key) -> tuple[str, str]:
    """(session, chamber) of a session x chamber partition key (a MultiPartitionKey or
    its string form)."""
    if not isinstance(key, dg.MultiPartitionKey):
        key = session_chamber_partitions.get_partition_key_from_str(str(key))
    return key.keys_by_dimension["session"], key.keys_by_dimension["chamber"]


def session_and_chamber(context) -> tuple[str, str]:
    """(session, chamber) of the partition an asset or check is running for."""
    return split_key(context.partition_key)
