"""Which of the package's own source files a module's behaviour depends on: its imports
within `irt_pipeline`, followed transitively, read from the sources (no module is
imported).

Every `import` and `from ... import` statement counts, at module level or inside a
function (a lazy import runs too), relative ones resolved. `from package import name`
depends on the submodule `package.name` when there is one, else on the package's
`__init__.py`; a package whose submodule is imported is not itself a dependency (its
`__init__.py` runs, but what the importer uses is the submodule). Data files that sit
beside a dependency (`*.csv`, `*.json`) are part of it: code reads them.

Used for the posterior cache key (`stats.sampling.code_fingerprint`: a model's draws
depend on its module and everything it reaches, so an edit anywhere there is a miss
and an edit elsewhere is not) and by the import-cycle test.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

PACKAGE = "irt_pipeline"
DATA_SUFFIXES = (".csv", ".json")


@functools.cache
def source_file(module: str) -> Path | None:
    """The .py file of a module of the package (a package's __init__.py), or None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_package(module: str) -> bool:
    path = source_file(module)
    return path is not None and path.name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name of a `from` statement in `module`."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@functools.cache
def direct_imports(module: str) -> frozenset[str]:
    """The package's modules that `module`'s source imports, anywhere in the file."""
    path = source_file(module)
    if path is None:
        return frozenset()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(module, node)
            for alias in node.names:
                child = f"{origin}.{alias.name}"
                found.add(child if source_file(child) is not None else origin)
    return frozenset(name for name in found if source_file(name) is not None and name != module)


def closure(roots) -> list[str]:
    """`roots` and every package module they import, transitively (sorted)."""
    seen, todo = set(), list(roots)
    while todo:
        module = todo.pop()
        if module in seen or source_file(module) is None:
            continue
        seen.add(module)
        todo.extend(direct_imports(module))
    return sorted(seen)


def files_of(modules) -> list[Path]:
    """The source files of `modules` and the data files beside them."""
    files = set()
    for module in modules:
        path = source_file(module)
        if path is None:
            continue
        files.add(path)
        files.update(p for p in path.parent.iterdir() if p.suffix in DATA_SUFFIXES)
    return sorted(files)
