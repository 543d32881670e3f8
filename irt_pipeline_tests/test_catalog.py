"""A model is one module: what registering a specification gives it (assets, gate checks,
a job, a CLI entry, a rebuild hint), derived for every registered model and for a toy
model registered here; the posterior cache key covers everything a model's draws depend
on and nothing else; the package has no import cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import toy_model
from simulated import chamber_matrix

from irt_pipeline.assets import CATALOG
from irt_pipeline.assets.catalog import Catalog
from irt_pipeline.definitions import make_definitions
from irt_pipeline.stats import codebase
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import MODELS
from irt_pipeline.stats.models.spec import STAGES

REPO = Path(__file__).resolve().parents[1]
WITH_TOY = Catalog({**MODELS, "toy": toy_model.SPEC})


def names(assets) -> set[str]:
    return {key.to_user_string() for asset in assets for key in asset.keys}


def test_every_registered_model_gets_its_assets_checks_job_and_cli_entry():
    defs = make_definitions(root="/nonexistent", catalog=WITH_TOY)
    graph = defs.resolve_asset_graph()
    parser_choices = _model_choices(WITH_TOY)
    for key, spec in WITH_TOY.models.items():
        assets = {stage: spec.asset(stage) for stage in STAGES}
        assert {dg.AssetKey(name) for name in assets.values()} <= set(graph.get_all_asset_keys())
        # posterior -> diagnostics -> rankings, predictive checks and LOO beside them
        parents = {stage: {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}
                   for stage, name in assets.items()}
        assert assets["posterior"] in parents["diagnostics"]
        assert {assets["posterior"], assets["diagnostics"]} <= parents["rankings"]
        assert {assets["posterior"], assets["diagnostics"], "vote_matrix"} <= parents["loo"]
        assert {"vote_matrix", "pca_init"} <= parents["posterior"]
        # the model's gates are blocking checks on its diagnostics
        checks = {c.name: c for c in defs.resolve_assets_def(dg.AssetKey(assets["diagnostics"])).check_specs}
        assert set(checks) == {g.name for g in gates_for(spec.gated)}
        assert all(c.blocking for c in checks.values())
        # its job runs its chain; the CLI offers it
        job = defs.resolve_job_def(spec.job)
        assert {assets["posterior"], assets["diagnostics"], assets["rankings"], "roll_calls"} <= names(
            WITH_TOY.job_assets(key)
        )
        assert job.partitions_def is not None
        assert key in parser_choices
    assert "toy_posterior" in names(WITH_TOY.assets()) and "toy_posterior" not in names(CATALOG.assets())


def _model_choices(catalog) -> list[str]:
    from irt_pipeline.cli import _shared
    from irt_pipeline.cli.parser import build_parser

    saved = _shared.catalog
    _shared.catalog = lambda: catalog
    try:
        parser = build_parser()
    finally:
        _shared.catalog = saved
    run = next(a for a in parser._subparsers._group_actions[0].choices["run"]._actions if a.dest == "model")
    return list(run.choices)


def test_the_rebuild_hint_of_every_stored_asset_is_a_run_that_rebuilds_it():
    """Walk every asset of every registered model (and the toy): the command an
    unreadable stored file names materializes that very asset."""
    from irt_pipeline.io_managers import rebuild_command

    for catalog in (CATALOG, WITH_TOY):
        hints = catalog.rebuild_models()
        # pages; the linked scale; the panel models' assets (partitioned by chamber: no per-partition run)
        not_stored = names([catalog.report, *catalog.across_sessions, *catalog.panel_assets()])
        for asset in names(catalog.assets()) - not_stored:
            command = rebuild_command(asset, "117", "Senate", hints)
            model = command.split("--model ")[1] if "--model" in command else catalog.default.key
            assert asset in names(catalog.job_assets(model)), (asset, command)
    assert rebuild_command("posterior_2d", "117", "Senate", CATALOG.rebuild_models()).endswith("--model 2d")
    assert rebuild_command("toy_rankings", "1", "House", WITH_TOY.rebuild_models()).endswith("--model toy")
    assert rebuild_command("rankings", "117", "Senate", CATALOG.rebuild_models()).endswith("--chamber Senate")


def test_a_registered_toy_model_runs_end_to_end(tmp_path):
    """The toy model's job, built from its spec alone, samples it through the one
    callback factory and the one sampling path, gates it and ranks it: its ranking
    recovers the simulated chamber's order."""
    matrix, truth = toy_chamber(30, 60, seed=4)
    rows = matrix.to_frame().assign(
        session="1", chamber="House", vote=lambda f: np.where(f["vote"] == 1, "Yea", "Nay"),
    )
    root = tmp_path / "root"
    (root / "landing").mkdir(parents=True)
    rows.to_parquet(root / "landing" / "1_House.parquet", index=False)
    from irt_pipeline.resources import Sampler

    defs = make_definitions(root=str(root), catalog=WITH_TOY, sampler=Sampler(chains=4, draws=300, max_draws=1500))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("session", ["1"])
        result = defs.resolve_job_def("toy_chain").execute_in_process(
            instance=instance, partition_key=dg.MultiPartitionKey({"session": "1", "chamber": "House"}),
            raise_on_error=False,
        )
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()
              if e.asset_key.to_user_string() == "toy_diagnostics"}
    assert checks and all(checks.values())
    ranking = pd.read_parquet(root / "toy_rankings" / "House" / "1.parquet")
    r = np.corrcoef(ranking.set_index("legislator_id").loc[matrix.legislators["legislator_id"], "xi_mean"], truth)[0, 1]
    assert r > 0.9


def toy_chamber(n: int, m: int, seed: int):
    """(matrix, true standardized xi) drawn from the toy model's own story (tau = 2)."""
    rng = np.random.default_rng(seed)
    xi = rng.normal(size=n)
    xi = (xi - xi.mean()) / xi.std()
    party = np.where(xi + rng.normal(size=n) > 0, "Republican", "Democrat")
    return chamber_matrix(xi, party, m, rng, beta_sd=0.0, beta_mean=2.0), xi


def _fingerprint(package: Path, key: str) -> str:
    code = (
        "import sys; from irt_pipeline.stats.models import MODELS; "
        "from irt_pipeline.stats.sampling import code_fingerprint; "
        f"import irt_pipeline; assert irt_pipeline.__file__.startswith(sys.argv[1]); print(code_fingerprint(MODELS[{key!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(package)], env={**os.environ, "PYTHONPATH": str(package)},
        cwd=package, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_cache_key_follows_every_dependency_of_a_model_and_nothing_else(tmp_path):
    """In a copy of the package: an edited prior of the hierarchical model (which the 2D
    model builds on) changes the 2D model's code fingerprint, hence its posterior cache
    key (a miss, never the old draws); an edit to the rankings leaves every model's alone
    (no refit for a change that cannot alter the draws)."""
    package = tmp_path / "pkg"
    shutil.copytree(REPO / "irt_pipeline", package / "irt_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    before = {key: _fingerprint(package, key) for key in ("2d", "flat")}

    rankings = package / "irt_pipeline" / "stats" / "rankings.py"
    rankings.write_text(rankings.read_text() + "\n# an edit that changes no draw\n")
    assert {key: _fingerprint(package, key) for key in before} == before

    hierarchical = package / "irt_pipeline" / "stats" / "models" / "hierarchical.py"
    source = hierarchical.read_text()
    edited = source.replace('"sigma_party": Gamma(2.0, 4.0)', '"sigma_party": Gamma(2.0, 4.5)')
    assert edited != source
    hierarchical.write_text(edited)
    after = {key: _fingerprint(package, key) for key in before}
    assert after["2d"] != before["2d"]
    assert after["flat"] == before["flat"]  # the flat model does not build on it


def test_the_package_has_no_import_cycle():
    """Every import statement counts, at module level or inside a function."""
    modules = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "irt_pipeline").rglob("*.py")
    ]
    graph = {module: set(codebase.direct_imports(module)) for module in modules}
    cycles = []
    state: dict[str, int] = {}

    def visit(module, path):
        state[module] = 1
        for child in sorted(graph.get(module, ())):
            if state.get(child) == 1:
                cycles.append([*path[path.index(child):], child])
            elif child not in state:
                visit(child, [*path, child])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles[:5]


@pytest.mark.parametrize("key", list(MODELS))
def test_the_models_closure_is_computed_from_imports(key):
    """The 2D model's closure holds the hierarchical model it builds on and the
    diagnostics the stopping rule reads; no model's holds the Dagster layer."""
    modules = codebase.closure([MODELS[key].module, "irt_pipeline.stats.sampling"])
    assert "irt_pipeline.stats.diagnostics" in modules and "irt_pipeline.stats.stopping" in modules
    assert ("irt_pipeline.stats.models.hierarchical" in modules) == (key in ("hierarchical", "2d"))
    assert not any(m.startswith(("irt_pipeline.assets", "irt_pipeline.cli")) for m in modules)
