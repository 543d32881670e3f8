"""What every command shares: the definitions and storage, configured from the
environment as it is now (tests replace `definitions`)."""

from __future__ import annotations


def definitions():
    """The project's definitions, configured from the environment as it is now."""
    from irt_pipeline.definitions import make_definitions

    return make_definitions()


def storage():
    return definitions().resources["storage"]


def landing():
    """The landing folder of the storage root (IRT_PIPELINE_ROOT, read now)."""
    return storage().landing


def catalog():
    """The registered models' assets and jobs (`assets/catalog.py`)."""
    from irt_pipeline.assets import CATALOG

    return CATALOG
