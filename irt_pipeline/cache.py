"""A content-addressed cache of fitted posteriors under the storage root.

Sampling costs minutes per partition; checking whether an identical fit is already
stored costs a hash of the inputs and one file lookup. An entry lives at
`{root}/cache/{name}/{key}.nc` (local or s3://, through UPath), where `key` hashes
everything that determines the draws: the model name, its code version and a fingerprint of the sampling code
(`stats.sampling.code_fingerprint`), the content digests of the inputs and the sampler settings including the seed. `fit_or_reuse` returns the
stored posterior when the key is there and samples (then stores) otherwise.

Entries are written atomically (irt_pipeline.files) and never deleted; a forced refit replaces its entry.
Both a fresh fit and a hit return the InferenceData as read back from the entry, so
the asset's output is written from the same object either way and is byte-identical.

Force a refit with the run tag `irt/force_refit=true` (launchpad, backfill or
`irt-pipeline run --force-refit`).

Any model can use it: describe the fit with `key_parts(...)` and wrap its sampler call
in `fit_or_reuse(...)`; `CacheInfo.metadata()` is what the asset reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from irt_pipeline.versions import digest

FORCE_REFIT_TAG = "irt/force_refit"
CACHE_FOLDER = "cache"
TRUE_VALUES = ("1", "true", "yes")

log = logging.getLogger(__name__)


def force_refit(context) -> bool:
    """Whether the run carries the force-refit tag (`irt/force_refit=true`)."""
    return str(context.run.tags.get(FORCE_REFIT_TAG, "")).strip().lower() in TRUE_VALUES


def key_parts(model: str, code_version: str, inputs: Mapping[str, str], settings: Mapping) -> dict:
    """What a fit's key is computed from: model name, code version, content digests of
    the inputs, sampler settings (seed included)."""
    return {"model": model, "code_version": code_version, "inputs": dict(inputs), "settings": dict(settings)}


def cache_key(parts: Mapping) -> str:
    """32 hex digits of the sha256 of `parts` (see `key_parts`)."""
    return digest(dict(parts))[:32]


@dataclass(frozen=True)
class CacheInfo:
    """What happened: status "hit" (reused), "miss" (sampled) or "forced" (sampled on
    request although an entry may have existed)."""

    status: str
    key: str
    path: str
    fitted_at: str  # ISO time the entry's draws were sampled
    parts: Mapping  # what the key was computed from

    @property
    def hit(self) -> bool:
        return self.status == "hit"

    def age_seconds(self, now: datetime | None = None) -> float:
        fitted = datetime.fromisoformat(self.fitted_at)
        return round(((now or datetime.now(UTC)) - fitted).total_seconds(), 1)

    def metadata(self) -> dict:
        """Output metadata: cache status, key, entry path, age and the key's parts."""
        import dagster as dg

        return {
            "cache": self.status,
            "cache_hit": self.hit,
            "cache_key": self.key,
            "cache_entry": dg.MetadataValue.path(self.path),
            "cache_fitted_at": self.fitted_at,
            "cache_age_seconds": self.age_seconds(),
            "cache_key_parts": dg.MetadataValue.json(dict(self.parts)),
        }


def entry_path(base, name: str, key: str, suffix: str = ".nc"):
    """`{base}/cache/{name}/{key}{suffix}` (UPath): a posterior's entry, or another
    cached result's (the data contract's verdicts: `contract.validate_or_reuse`)."""
    return base / CACHE_FOLDER / name / f"{key}{suffix}"


def _read(path, key: str):
    """The stored InferenceData at `path`, or None when absent, unreadable or of
    another key (a torn or foreign file is refit, never trusted)."""
    from irt_pipeline.io_managers import load_netcdf

    if not path.exists():
        return None
    try:
        idata = load_netcdf(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable entry is a miss
        log.warning("posterior cache: unreadable entry %s (%s: %s); refitting", path, type(exc).__name__, exc)
        return None
    if idata.attrs.get("cache_key") != key:
        log.warning("posterior cache: %s holds another key; refitting", path)
        return None
    return idata


def fit_or_reuse(
    base, name: str, parts: Mapping, fit: Callable[[], object], force: bool = False
) -> tuple[object, CacheInfo]:
    """The posterior whose key is computed from `parts`: read from
    `{base}/cache/{name}/{key}.nc` when stored (and not `force`), else `fit()`, stored
    there, and read back."""
    from irt_pipeline.io_managers import write_netcdf

    key = cache_key(parts)
    path = entry_path(base, name, key)
    idata = None if force else _read(path, key)
    if idata is not None:
        return idata, CacheInfo("hit", key, str(path), idata.attrs["fitted_at"], parts)
    idata = fit()
    idata.attrs["cache_key"] = key
    idata.attrs["fitted_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_netcdf(path, idata)
    stored = _read(path, key)
    if stored is None:
        raise OSError(f"posterior cache: {path} could not be read back after writing")
    return stored, CacheInfo("forced" if force else "miss", key, str(path), stored.attrs["fitted_at"], parts)
