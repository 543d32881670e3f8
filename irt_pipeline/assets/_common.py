"""What every asset module shares: the group, the severity, partition naming, hashing."""

import hashlib

import dagster as dg
import pandas as pd

from irt_pipeline.partitions import session_and_chamber

GROUP = "ideal_points"
ERROR = dg.AssetCheckSeverity.ERROR


def where(context) -> str:
    """'partition session=S chamber=C' of the running asset or check (for messages)."""
    session, chamber = session_and_chamber(context)
    return f"partition session={session} chamber={chamber}"


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's content (column names, values, order)."""
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
