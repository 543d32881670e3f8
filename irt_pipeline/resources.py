"""Resources: where data lives, how votes are filtered, how the sampler runs.

Each is configured from the environment when the definitions load, with a local
default, so nothing fails at run launch for want of a variable:

    IRT_PIPELINE_ROOT      storage root: a folder (default ./irt_data) or s3://bucket/prefix
    IRT_PIPELINE_CHAINS, IRT_PIPELINE_TUNE, IRT_PIPELINE_SEED
    IRT_PIPELINE_DRAWS, IRT_PIPELINE_MAX_DRAWS   kept draws per chain at the first look, and the cap
    IRT_PIPELINE_BACKEND   "kernel" (default, fused numba log-density) or "pymc"
    IRT_PIPELINE_MIN_MINORITY_SHARE, IRT_PIPELINE_MIN_VOTES   vote-matrix filters
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from irt_pipeline.files import as_upath
from irt_pipeline.stats.sampling import SamplerSettings

DEFAULT_ROOT = "irt_data"


def resolved_root(root: str) -> str:
    """A storage root as the resources hold it: a local folder as an absolute path (a
    relative one would be read against whatever folder a process runs in), a URL as is."""
    return root if "://" in root else str(Path(root).expanduser().resolve())


def default_root() -> str:
    return resolved_root(os.environ.get("IRT_PIPELINE_ROOT", DEFAULT_ROOT))


class Storage(dg.ConfigurableResource):
    """The storage root. Landing files are read from `{root}/landing/`."""

    root: str

    @property
    def base(self):
        return as_upath(self.root)

    @property
    def landing(self):
        return self.base / "landing"


class VoteFilters(dg.ConfigurableResource):
    """Which roll calls and legislators enter the model."""

    min_minority_share: float = 0.025  # Voteview's lopsidedness standard
    min_votes: int = 20


class Sampler(dg.ConfigurableResource):
    """nutpie settings and the stopping rule, per chain (defaults and meaning:
    `SamplerSettings`)."""

    chains: int = SamplerSettings.chains
    tune: int = SamplerSettings.tune
    draws: int = SamplerSettings.draws
    block: int = SamplerSettings.block
    max_draws: int = SamplerSettings.max_draws
    seed: int = SamplerSettings.seed
    backend: str = SamplerSettings.backend
    low_rank_mass_matrix: bool = False

    def settings(self) -> SamplerSettings:
        return SamplerSettings(
            chains=self.chains,
            tune=self.tune,
            draws=self.draws,
            block=self.block,
            max_draws=max(self.max_draws, self.draws),
            seed=self.seed,
            backend=self.backend,
            low_rank_mass_matrix=self.low_rank_mass_matrix,
        )


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def resources_from_env(root: str | None = None, rebuild: dict | None = None) -> dict:
    """The resources of the deployed definitions, read from the environment; `root`
    replaces IRT_PIPELINE_ROOT when given; rebuild: asset -> the `--model` that rebuilds
    it (for the IO managers' messages)."""
    from irt_pipeline.io_managers import io_managers

    root = resolved_root(root) if root else default_root()
    filters = VoteFilters()
    return {
        "storage": Storage(root=root),
        "vote_filters": VoteFilters(
            min_minority_share=float(os.environ.get("IRT_PIPELINE_MIN_MINORITY_SHARE", filters.min_minority_share)),
            min_votes=_env_int("IRT_PIPELINE_MIN_VOTES", filters.min_votes),
        ),
        "sampler": Sampler(
            chains=_env_int("IRT_PIPELINE_CHAINS", SamplerSettings.chains),
            tune=_env_int("IRT_PIPELINE_TUNE", SamplerSettings.tune),
            draws=_env_int("IRT_PIPELINE_DRAWS", SamplerSettings.draws),
            max_draws=_env_int("IRT_PIPELINE_MAX_DRAWS", SamplerSettings.max_draws),
            seed=_env_int("IRT_PIPELINE_SEED", SamplerSettings.seed),
            backend=os.environ.get("IRT_PIPELINE_BACKEND", SamplerSettings.backend),
        ),
        **io_managers(root, rebuild),
    }
