"""Everything the registered models make, derived from their specifications: assets,
jobs, the CLI's `--model` choices and the command that rebuilds each stored asset.

Per model (`assets/models.py`): posterior -> diagnostics -> rankings, beside them
posterior_predictive and loo. Between models: `model_comparison` (PSIS-LOO of the
default and every `checked` model), `external_validation` (their rankings against
DW-NOMINATE / Nokken-Poole or a user's scores) and, for a model run `beside_default`,
its verdict against the default (`dimensionality`).

Jobs, all over the (session, chamber) partitions:
- each model's own job (`spec.job`): roll_calls, vote_matrix, pca_init and its chain
  (a model other than the default: with its predictive checks and LOO); a
  `beside_default` model's job also runs the default chain, its checks and the verdict
  between the two;
- `both_models` (`--model both`): the default and every checked model, then the model
  checks; `model_checks`: the checks alone, from stored posteriors;
- `common_scale_job` and `chamber_report_job`, partitioned by chamber; `report_job`, the
  page of a partition from its stored outputs;
- per panel model (`PANEL_MODELS`, assets/panel_models.py), its job (`spec.job`),
  partitioned by chamber: its posterior over every session, diagnostics and scale.
Nothing here names a model: a new model's module and its registration line are enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from irt_pipeline.assets.common_scale import common_scale
from irt_pipeline.assets.dimensionality import dimensionality_asset
from irt_pipeline.assets.external_validation import external_validation_asset
from irt_pipeline.assets.model_comparison import model_comparison_asset
from irt_pipeline.assets.models import model_assets
from irt_pipeline.assets.panel_models import panel_model_assets
from irt_pipeline.assets.pca_init import pca_init
from irt_pipeline.assets.report import chamber_report, report_asset
from irt_pipeline.assets.roll_calls import roll_calls
from irt_pipeline.assets.vote_matrix import vote_matrix
from irt_pipeline.partitions import chamber_partitions, session_chamber_partitions
from irt_pipeline.stats.models import PANEL_MODELS
from irt_pipeline.stats.models.spec import ModelSpec

COMMON = (roll_calls, vote_matrix, pca_init)
CHAIN_STAGES = ("posterior", "diagnostics", "rankings")
CHECK_STAGES = ("posterior_predictive", "loo")
BOTH = "both"  # the --model choice of the both_models job


@dataclass
class Catalog:
    """The assets and jobs of `models` (key -> spec, the default first)."""

    models: dict[str, ModelSpec]
    panel_models: dict[str, ModelSpec] = field(default_factory=lambda: dict(PANEL_MODELS))
    panels: dict[str, dict[str, dg.AssetsDefinition]] = field(init=False)
    stages: dict[str, dict[str, dg.AssetsDefinition]] = field(init=False)
    verdicts: dict[str, dg.AssetsDefinition] = field(init=False)
    comparison: dg.AssetsDefinition | None = field(init=False)
    external_validation: dg.AssetsDefinition = field(init=False)
    report: dg.AssetsDefinition = field(init=False)
    across_sessions: tuple = (common_scale, chamber_report)

    def __post_init__(self):
        default = self.default
        self.stages = {key: model_assets(spec, automated=key == default.key) for key, spec in self.models.items()}
        self.panels = {key: panel_model_assets(spec) for key, spec in self.panel_models.items()}
        self.verdicts = {
            key: dimensionality_asset(default, spec) for key, spec in self.models.items() if spec.beside_default
        }
        checked = [self.models[key] for key in self.checked]
        self.comparison = model_comparison_asset(checked) if len(checked) > 1 else None
        self.external_validation = external_validation_asset(checked)
        plane = next((key for key, spec in self.models.items() if spec.beside_default), None)
        self.report = report_asset(
            default, self.models[plane] if plane else None, self.verdicts[plane].key.to_user_string() if plane else None
        )

    @property
    def default(self) -> ModelSpec:
        return next(iter(self.models.values()))

    @property
    def checked(self) -> list[str]:
        """The default model and every model compared with it in the model checks."""
        return [key for key, spec in self.models.items() if spec is self.default or spec.checked]

    def asset(self, key: str, stage: str) -> dg.AssetsDefinition:
        return self.stages[key][stage]

    def chain(self, key: str) -> list[dg.AssetsDefinition]:
        """roll_calls, vote_matrix, pca_init and the model's posterior, diagnostics, rankings."""
        return [*COMMON, *(self.asset(key, stage) for stage in CHAIN_STAGES)]

    def model_checks(self) -> list[dg.AssetsDefinition]:
        """Predictive checks and LOO of the checked models, their comparison and the
        external validation."""
        per_model = [self.asset(key, stage) for key in self.checked for stage in CHECK_STAGES]
        return [*per_model, *([self.comparison] if self.comparison else []), self.external_validation]

    def job_assets(self, choice: str) -> list[dg.AssetsDefinition]:
        """What `irt-pipeline run --model <choice>` materializes: the default model's chain;
        any other model's chain with its predictive checks and LOO (and, beside the
        default, the default's chain, checks and the verdict between them); or `both`."""
        if choice == BOTH:
            models = [asset for key in self.checked for asset in self.chain(key)]
            return _unique([*models, *self.model_checks()])
        selected = self.chain(choice)
        if choice != self.default.key:
            selected += [self.asset(choice, stage) for stage in CHECK_STAGES]
        if self.models[choice].beside_default:
            default = self.default.key
            selected += [*self.chain(default), *(self.asset(default, s) for s in CHECK_STAGES), self.verdicts[choice]]
        return _unique(selected)

    def assets(self) -> list:
        """Every asset definition (each once)."""
        per_model = [asset for stages in self.stages.values() for asset in stages.values()]
        return _unique([
            *COMMON, *per_model, *self.verdicts.values(), *self.model_checks(), self.report, *self.across_sessions,
            *self.panel_assets(),
        ])

    def panel_assets(self) -> list[dg.AssetsDefinition]:
        """Every panel model's assets (partitioned by chamber)."""
        return [asset for stages in self.panels.values() for asset in stages.values()]

    def job_names(self) -> dict[str, str]:
        """--model choice -> its job's name."""
        return {**{key: spec.job for key, spec in self.models.items()}, BOTH: "both_models"}

    def jobs(self) -> list:
        partitioned = dict(partitions_def=session_chamber_partitions)
        jobs = [
            dg.define_asset_job(
                name,
                selection=dg.AssetSelection.assets(*self.job_assets(choice)),
                description=(
                    f"{self.models[choice].title}: its chain for one (session, chamber) partition"
                    + (", beside the default chain, and the verdict between them" if self.models[choice].beside_default else "")
                    + ", checks included."
                    if choice != BOTH
                    else "The default model and the models checked against it, then posterior predictive "
                    "checks, PSIS-LOO comparison and external validation."
                ),
                **partitioned,
            )
            for choice, name in self.job_names().items()
        ]
        jobs.append(dg.define_asset_job(
            "model_checks", selection=dg.AssetSelection.assets(*self.model_checks()),
            description="Posterior predictive checks, PSIS-LOO and its comparison, and external validation "
            "from the stored posteriors and rankings of the checked models.",
            **partitioned,
        ))
        jobs.append(dg.define_asset_job(
            "common_scale_job", selection=dg.AssetSelection.assets(common_scale),
            partitions_def=chamber_partitions,
            description="Every session of one chamber on one scale (common_scale, careers), from the stored "
            "posteriors and diagnostics; nothing is refit.",
        ))
        jobs += [
            dg.define_asset_job(
                spec.job, selection=dg.AssetSelection.assets(*self.panels[key].values()),
                partitions_def=chamber_partitions,
                description=f"{spec.title}: every session of one chamber in one posterior (from the stored vote "
                "matrices), its gates and its scale.",
            )
            for key, spec in self.panel_models.items()
        ]
        jobs.append(dg.define_asset_job(
            "report_job", selection=dg.AssetSelection.assets(self.report), **partitioned,
            description="The report of one partition from its stored posterior, diagnostics and rankings (and the 2D "
            "chain and model checks where they ran); nothing is refit.",
        ))
        jobs.append(dg.define_asset_job(
            "chamber_report_job", selection=dg.AssetSelection.assets(chamber_report), partitions_def=chamber_partitions,
            description="The chamber history page from the stored common scale and careers; nothing is refit.",
        ))
        return jobs

    def rebuild_models(self) -> dict[str, str]:
        """Asset name -> the `--model` whose run rebuilds it (the smallest job that
        materializes it), for every asset the default model's run does not rebuild."""
        jobs = sorted(self.job_names(), key=lambda choice: (choice != self.default.key, len(self.job_assets(choice))))
        hints: dict[str, str] = {}
        for choice in jobs:
            for asset in self.job_assets(choice):
                for key in asset.keys:
                    hints.setdefault(key.to_user_string(), choice)
        return {asset: choice for asset, choice in hints.items() if choice != self.default.key}


def _unique(assets) -> list:
    seen, out = set(), []
    for asset in assets:
        if id(asset) not in seen:
            seen.add(id(asset))
            out.append(asset)
    return out

