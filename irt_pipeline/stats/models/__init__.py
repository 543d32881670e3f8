"""The models, one module each; `MODELS` maps a model's key (its `--model` name) to its
specification, the default first.

    hierarchical  party-level prior on the ideal points (the default)
    flat          no party in the prior
    2d            two dimensions (two_dimensional.py)
    dynamic       a chamber's sessions in one posterior (`PANEL_MODELS`)

Each module holds the model's priors (one table, read by its PyMC graph and its numba
kernel), coordinates, starts, graph, kernel and post-processing, and exports its
`SPEC` (`spec.py`). Registering a model is adding its module's name to `MODULES`.
"""

import importlib

from irt_pipeline.stats.callbacks import compile_module
from irt_pipeline.stats.models.spec import Bound, ModelSpec

MODULES = ("hierarchical", "flat", "two_dimensional")  # the default model first

MODELS: dict[str, ModelSpec] = {
    spec.key: spec for spec in (importlib.import_module(f"{__name__}.{name}").SPEC for name in MODULES)
}
DEFAULT = next(iter(MODELS))
# Models of a chamber's whole panel of sessions (`bind` takes one vote matrix per session):
# partitioned by chamber, they serve `irt-pipeline scale --method <key>` (assets/panel_models.py).
PANEL_MODULES = ("dynamic",)
PANEL_MODELS: dict[str, ModelSpec] = {
    spec.key: spec for spec in (importlib.import_module(f"{__name__}.{name}").SPEC for name in PANEL_MODULES)
}


def spec_named(name, models=None) -> ModelSpec | None:
    """The spec whose `name` (as recorded in a posterior's attrs) is `name`, or None."""
    return next((spec for spec in (models or MODELS).values() if spec.name == name), None)


def compile_all() -> None:
    """Compile every registered model's callbacks into the on-disk kernel cache."""
    for spec in (*MODELS.values(), *PANEL_MODELS.values()):
        compile_module(spec.module)


__all__ = ["DEFAULT", "MODELS", "PANEL_MODELS", "Bound", "ModelSpec", "compile_all", "spec_named"]
