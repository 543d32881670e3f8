"""The models, one module each; `MODELS` maps a model's key to its specification.

    hierarchical  party-level prior on the ideal points (the default)
    flat          no party in the prior
    2d            two dimensions (two_dimensional.py)

Each module holds the model's priors (one table, read by its PyMC graph and its numba
kernel), coordinates, starts, graph, kernel and post-processing; see `spec.py`.
"""

from irt_pipeline.stats.models import flat, hierarchical, two_dimensional
from irt_pipeline.stats.models.spec import Bound, ModelSpec

MODELS: dict[str, ModelSpec] = {
    "hierarchical": hierarchical.SPEC, "flat": flat.SPEC, "2d": two_dimensional.SPEC,
}


def spec_named(name) -> ModelSpec | None:
    """The spec whose `name` (as recorded in a posterior's attrs) is `name`, or None."""
    return next((spec for spec in MODELS.values() if spec.name == name), None)


__all__ = ["MODELS", "Bound", "ModelSpec", "flat", "hierarchical", "spec_named", "two_dimensional"]
