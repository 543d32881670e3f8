"""Rendering a report page: Bokeh's `file_html` with INLINE resources (BokehJS and the
figures' data in the file itself: it opens from disk with no network) through the
package's Jinja2 templates (`templates/`: the page frame, its stylesheet and the table
script, inlined too)."""

from __future__ import annotations

import datetime
import json
from functools import lru_cache
from importlib import metadata

from markupsafe import Markup

# Packages whose versions a report lists in its lineage (what computed and drew it).
PACKAGES = ("dagster", "nutpie", "pymc", "arviz", "numba", "numpy", "pandas", "bokeh")


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader

    return Environment(
        loader=PackageLoader("irt_pipeline.report", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )


def render(template: str, figures: list, title: str, **context) -> str:
    """The page `template` (a file of templates/) with `figures` (named Bokeh models the
    template places) and `context`; one self-contained HTML document."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    context.setdefault("generated", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return file_html(
        figures, resources=INLINE, title=title, template=_environment().get_template(template),
        template_variables={"page_title": title, **context},
    )


def json_script(value) -> Markup:
    """`value` as JSON safe inside <script type="application/json"> (no "</")."""
    return Markup(json.dumps(value, separators=(",", ":")).replace("</", "<\\/"))


def code_versions() -> dict[str, str]:
    """The assets' code versions (irt_pipeline.versions: NAME -> version)."""
    from irt_pipeline import versions

    return {
        name.lower(): value
        for name, value in vars(versions).items()
        if name.isupper() and isinstance(value, str)
    }


def package_versions() -> dict[str, str]:
    """irt_pipeline and PACKAGES -> installed version ("not installed" when absent)."""
    out = {}
    for name in ("irt_pipeline", *PACKAGES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
