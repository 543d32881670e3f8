"""Every case of the hostile corpus (hostile_cases.py) through the real command: the
exit status and the exact message the user sees, and the storage root byte for byte
before and after (sha256 of every file under it): landing files and earlier good
outputs never change when a command fails, and a command that succeeds changes only
the files it is meant to write.

Commands run in this process (`irt_pipeline.cli.main`) against a storage root and a
DAGSTER_HOME of the case's own; cases marked `baseline` start from a copy of one good
import and run of the 118th Senate, made once per test session.
"""

from __future__ import annotations

import json
import os
import shutil

import dagster as dg
import pytest
from hostile_cases import (
    CASES, CHAMBER, CLEAN_IMPORT_SHA256, PARQUET, SAMPLER_ENV, SESSION, VOTES, Workspace, make_baseline,
)

from irt_pipeline import cli
from irt_pipeline.files import sha256_file



REPORT_ENV = "IRT_HOSTILE_REPORT"


def digest(snap: dict[str, str]) -> str:
    """sha256 over a snapshot: one value for the whole root."""
    from irt_pipeline.versions import digest as parts_digest

    return parts_digest(snap)


def snapshot(root) -> dict[str, str]:
    """sha256 of every file under `root`, by path relative to it."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def use(ws: Workspace, monkeypatch) -> None:
    monkeypatch.setenv("IRT_PIPELINE_ROOT", str(ws.root))
    monkeypatch.setenv("DAGSTER_HOME", str(ws.home))
    for name, value in SAMPLER_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory):
    """A workspace holding the 118th Senate imported and run through every gate."""
    from conftest import SHARED_VOTEVIEW

    if not (SHARED_VOTEVIEW / VOTES).exists():
        pytest.skip(f"real Voteview files not found at {SHARED_VOTEVIEW}")
    ws = Workspace(tmp_path_factory.mktemp("hostile-baseline"), SHARED_VOTEVIEW)
    make_baseline(ws, SAMPLER_ENV)
    assert (ws.root / "rankings" / CHAMBER / f"{SESSION}.parquet").exists()
    CLEAN_IMPORT_SHA256[:] = [sha256_file(ws.landing / PARQUET)]
    return ws


def workspace(tmp_path, shared: Workspace, from_baseline: bool) -> Workspace:
    from irt_pipeline.instance import prepare_dagster_home

    ws = Workspace(tmp_path / "case", shared.shared)
    if from_baseline:
        shutil.copytree(shared.root, ws.root)
        shutil.copytree(shared.home, ws.home)
    else:
        prepare_dagster_home(ws.home)
    ws.landing.mkdir(parents=True, exist_ok=True)
    return ws


def materialize_alone(ws: Workspace, asset: str):
    """`asset` alone for the 118th Senate, as the UI's "Materialize selected" does."""
    from irt_pipeline.assets import ALL_ASSETS
    from irt_pipeline.definitions import make_definitions
    from irt_pipeline.partitions import partition_key

    defs = make_definitions(str(ws.root))
    with dg.DagsterInstance.from_config(str(ws.home)) as instance:
        return dg.materialize(
            ALL_ASSETS,
            selection=[asset],
            instance=instance,
            partition_key=partition_key(SESSION, CHAMBER),
            resources=defs.resources,
            raise_on_error=False,
        )


def run_failures(result) -> list[str]:
    return [
        cli._root_cause(e.event_specific_data.error)
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]


def sensor_tick(ws: Workspace) -> tuple[str, dict]:
    from irt_pipeline.definitions import make_definitions

    defs = make_definitions(str(ws.root))
    sensor = defs.resolve_sensor_def("landing_sensor")
    with dg.DagsterInstance.from_config(str(ws.home)) as instance, dg.build_sensor_context(
        instance_ref=instance.get_ref(), definitions=defs, resources=defs.resources
    ) as context:
        result = sensor.evaluate_tick(context)
    added = [k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys]
    return result.skip_message, {"runs": result.run_requests, "new_sessions": added}


def error_line(err: str) -> str | None:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    return lines[-1] if lines else None


def perform(ws: Workspace, argv: list[str], capfd) -> tuple[int, str | None, object]:
    """Run one command of the corpus: (exit status, the message the user sees, detail
    for the case's own checks)."""
    capfd.readouterr()
    if argv[0] == "<materialize>":
        result = materialize_alone(ws, argv[1])
        failures = run_failures(result)
        return (0 if result.success else 1), (failures[0] if failures else None), failures[0] if failures else None
    if argv[0] == "<sensor>":
        skip, detail = sensor_tick(ws)
        detail["log"] = capfd.readouterr().err
        return 0, skip, detail
    rc = cli.main(argv)
    out, err = capfd.readouterr()
    message = error_line(err)
    printed = json.loads(out) if out.strip().startswith("{") else None
    if message is None and argv[0] == "run" and printed and printed["failures"]:
        message = printed["failures"][0]
    return rc, message, (message if message else printed)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_case(name, tmp_path, baseline, monkeypatch, capfd):
    spec = CASES[name]
    ws = workspace(tmp_path, baseline, spec.baseline)
    use(ws, monkeypatch)
    outcome = spec.build(ws)
    if outcome.fault:
        outcome.fault(monkeypatch)
    before = snapshot(ws.root)

    rc, message, detail = perform(ws, outcome.argv, capfd)

    after = snapshot(ws.root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed <= outcome.changes, f"changed under the root: {sorted(changed - outcome.changes)}"
    if outcome.prefix:
        assert message is not None and message.startswith(outcome.message), message
    else:
        assert message == outcome.message
    assert rc == outcome.rc
    if outcome.check:
        outcome.check(ws, detail)
    if os.environ.get(REPORT_ENV):  # one JSON line per case, for the record
        with open(os.environ[REPORT_ENV], "a") as out:
            out.write(json.dumps({
                "case": name, "issue": spec.issue, "command": outcome.argv, "rc": rc, "message": message,
                "root_before": digest(before), "root_after": digest(after), "changed": sorted(changed),
            }) + "\n")
    # What the user dropped in landing is still there, byte for byte.
    landing_before = {p: h for p, h in before.items() if p.startswith("landing/")}
    assert {p: after.get(p) for p in landing_before if p not in outcome.changes} == {
        p: h for p, h in landing_before.items() if p not in outcome.changes
    }


def test_rankings_refuse_stored_diagnostics_that_list_no_gates(tmp_path, baseline, monkeypatch, capfd):
    """Issue case 3: diagnostics of the very posterior (same posterior_id) with values far
    outside every threshold and an empty gate list: a later rankings-only run must
    refuse, because gates fail closed (every expected gate present and passed)."""
    ws = workspace(tmp_path, baseline, True)
    use(ws, monkeypatch)
    path = ws.root / "diagnostics" / CHAMBER / f"{SESSION}.json"
    stored = json.loads(path.read_text())
    stored.update(
        gates=[], gates_passed=False, rhat_xi_max=3.5, ess_bulk_xi_min=4.0, divergences=812, ebfmi_min=0.02
    )
    path.write_text(json.dumps(stored, indent=2, sort_keys=True))
    before = snapshot(ws.root)
    rc, message, _ = perform(ws, ["<materialize>", "rankings"], capfd)
    assert rc == 1
    assert message is not None and "refusing to rank" in message and "rhat_xi missing" in message
    assert snapshot(ws.root) == before


def test_corpus_covers_every_numbered_case_but_those_tested_elsewhere():
    """1 (concurrent runs on a fresh home) and 12's concurrent half: test_concurrent_runs.py;
    3: above; 11 (kill -9): test_killed_run.py."""
    numbered = {c.issue for c in CASES.values() if c.issue}
    assert numbered == set(range(1, 15)) - {1, 3, 11}
