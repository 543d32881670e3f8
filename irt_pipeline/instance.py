"""The Dagster instance the CLI and `make ui` share: `$DAGSTER_HOME`, or the project's
own `.dagster_home/` when unset, so CLI runs show up in the UI."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

DEFAULT_HOME = ".dagster_home"


def ensure_dagster_home() -> Path:
    """Set DAGSTER_HOME if unset and give it the project's dagster.yaml if it has none."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path(DEFAULT_HOME).resolve())
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(files("irt_pipeline").joinpath("dagster.yaml").read_text())
    return home


def get_instance():
    import dagster as dg

    ensure_dagster_home()
    return dg.DagsterInstance.get()
