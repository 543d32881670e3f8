"""Lineage down the chain: every materialization names the landing files (and their
sha256) its partition was computed from.

roll_calls records `landing_files` ([{file, sha256, bytes}]) when it reads the landing
area. Each downstream asset copies that entry from the latest materialization of its
direct upstream asset in the same partition, i.e. from the stored input it just read,
so a ranking names the exact vote file(s) even if roll_calls has since moved on.
"""

from __future__ import annotations

import dagster as dg

LANDING_FILES = "landing_files"


def latest_materialization(instance, asset: str, partition_key: str):
    """The latest AssetMaterialization of `asset` in the partition, or None."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[str(partition_key)]),
        limit=1,
    )
    return result.records[0].asset_materialization if result.records else None


def landing_files_of(instance, asset: str, partition_key: str) -> list[dict] | None:
    """The `landing_files` metadata of the latest materialization of `asset` in the
    partition, or None when there is none (or it predates this entry)."""
    materialization = latest_materialization(instance, asset, partition_key)
    entry = materialization.metadata.get(LANDING_FILES) if materialization else None
    return None if entry is None else entry.value


def landing_lineage(context, upstream: str, materialization=None) -> dict:
    """Metadata entries carrying the landing files of `upstream`'s stored partition
    down to the running asset (empty when upstream recorded none); `materialization`:
    upstream's latest, when the caller has looked it up already."""
    if materialization is None:
        materialization = latest_materialization(context.instance, upstream, context.partition_key)
    entry = materialization.metadata.get(LANDING_FILES) if materialization else None
    return {} if entry is None else {LANDING_FILES: dg.MetadataValue.json(entry.value)}
