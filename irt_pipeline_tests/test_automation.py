"""Data versions, staleness and declarative automation on two simulated Senate
partitions. The posterior comes from a deterministic stand-in for the sampler (iid
draws around the PCA start; "unconverged" shifts one chain), so the gates pass or fail
on purpose and no MCMC runs.

- Staleness per partition: a changed vote leaves only its partition's vote_matrix
  unsynced, then its pca_init; a landing file rewritten with the same rows (other
  bytes) leaves nothing unsynced; a code-version bump marks the asset unsynced.
- Automation (`evaluate_automation_conditions`): a full chain run requests nothing
  more; an upstream updated outside such a run requests everything below it in exactly
  that partition; a failed blocking check holds rankings back; a code-version bump
  requests that asset and everything below it in every materialized partition.
"""

from __future__ import annotations

import importlib

import dagster as dg
import pandas as pd
import pytest
from stand_ins import stand_in_sampler
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from irt_pipeline.assets import CHAIN, diagnostics, pca_init, posterior, rankings, roll_calls, vote_matrix
from irt_pipeline.cache import FORCE_REFIT_TAG
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.partitions import partition_key

CHAMBER = "Senate"
SESSIONS = ("a-2023", "b-2023")
DOWNSTREAM = ("vote_matrix", "pca_init", "posterior", "diagnostics", "rankings")
POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")


def key(session: str) -> str:
    return str(partition_key(session, CHAMBER))


def landing(root, session):
    return root / "landing" / f"{session}_{CHAMBER}.parquet"


@pytest.fixture
def unconverged(monkeypatch) -> set:
    """Sessions whose stand-in posterior fails the R-hat gate (add to the set)."""
    sessions: set[str] = set()

    def shift_for(spec, matrix):
        ids = matrix.legislators["legislator_id"].astype(str).tolist()
        return {"xi": 3.0} if any(session in ids[0] for session in sessions) else {}

    monkeypatch.setattr(POSTERIOR_MODULE, "sample", stand_in_sampler(shift_for))
    return sessions


@pytest.fixture
def two_senates(instance, storage_root):
    for i, session in enumerate(SESSIONS):
        rows, _ = simulate_chamber(DemoChamber(session, CHAMBER, 24, 50, 20 + i))
        rows.to_parquet(landing(storage_root, session), index=False)
    instance.add_dynamic_partitions("session", list(SESSIONS))
    return make_definitions(root=str(storage_root)), storage_root


def materialize(instance, defs, assets, session, tags=None):
    """Materialize `assets` (and their checks) of one partition, in one run."""
    return dg.materialize(
        CHAIN,
        selection=dg.AssetSelection.assets(*assets),
        instance=instance,
        partition_key=partition_key(session, CHAMBER),
        resources=defs.resources,
        tags=tags,
        raise_on_error=False,
    )


def change_one_vote(root, session) -> None:
    """Flip one vote the vote matrix keeps."""
    kept = pd.read_parquet(root / "vote_matrix" / CHAMBER / f"{session}.parquet").iloc[0]
    rows = pd.read_parquet(landing(root, session))
    cell = (rows["roll_call_id"] == kept["roll_call_id"]) & (rows["legislator_id"] == kept["legislator_id"])
    rows.loc[cell, "vote"] = rows.loc[cell, "vote"].map({"Yea": "Nay", "Nay": "Yea"})
    rows.to_parquet(landing(root, session), index=False)


def statuses(instance, defs, asset: str) -> dict[str, StaleStatus]:
    resolver = CachingStaleStatusResolver(instance, defs.resolve_asset_graph(), LoadingContextForTest(instance))
    return {s: resolver.get_status(dg.AssetKey(asset), key(s)) for s in SESSIONS}


def requested(result) -> dict[str, set[str]]:
    """Requested partitions by asset, assets with none left out."""
    out = {}
    for asset in ("roll_calls", *DOWNSTREAM):
        partitions = result.get_requested_partitions(dg.AssetKey(asset))
        if partitions:
            out[asset] = {str(p) for p in partitions}
    return out


def test_staleness_follows_content_per_partition(instance, two_senates):
    defs, root = two_senates
    upstream = [roll_calls, vote_matrix, pca_init]
    for session in SESSIONS:
        assert materialize(instance, defs, upstream, session).success
    assert statuses(instance, defs, "vote_matrix") == dict.fromkeys(SESSIONS, StaleStatus.FRESH)

    a, b = SESSIONS
    change_one_vote(root, a)
    rows = pd.read_parquet(landing(root, b))
    before = landing(root, b).read_bytes()
    rows.to_parquet(landing(root, b), index=False, compression="gzip")  # same rows, other bytes
    assert landing(root, b).read_bytes() != before
    for session in SESSIONS:
        assert materialize(instance, defs, [roll_calls], session).success

    assert statuses(instance, defs, "vote_matrix") == {a: StaleStatus.STALE, b: StaleStatus.FRESH}
    # Dagster judges each asset by its own inputs: pca_init follows once vote_matrix has
    # new content, and only where it has.
    assert statuses(instance, defs, "pca_init") == dict.fromkeys(SESSIONS, StaleStatus.FRESH)
    for session in SESSIONS:
        assert materialize(instance, defs, [vote_matrix], session).success
    assert statuses(instance, defs, "vote_matrix") == dict.fromkeys(SESSIONS, StaleStatus.FRESH)
    assert statuses(instance, defs, "pca_init") == {a: StaleStatus.STALE, b: StaleStatus.FRESH}

    bumped = pca_init.map_asset_specs(lambda spec: spec.replace_attributes(code_version="bumped"))
    bumped_defs = make_definitions(root=str(root))
    bumped_defs = dg.Definitions(
        assets=[roll_calls, vote_matrix, bumped], resources=bumped_defs.resources
    )
    assert statuses(instance, bumped_defs, "pca_init")[b] == StaleStatus.STALE


def test_automation_requests_exactly_the_changed_partition_and_stops_at_failed_gates(
    instance, two_senates, unconverged
):
    defs, root = two_senates
    a, b = SESSIONS
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert requested(tick) == {}  # partitions that existed before: backfill, not automation

    for session in SESSIONS:
        result = materialize(instance, defs, CHAIN, session)
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {}, "a full chain run must not be followed by another run"

    # roll_calls updated outside a chain run (UI, CLI): everything below it, only there.
    change_one_vote(root, a)
    assert materialize(instance, defs, [roll_calls], a).success
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == dict.fromkeys(DOWNSTREAM, {key(a)})
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {}, "requested once, not on every tick"

    # A refit of both partitions outside the chain: a's fails its gates, b's passes.
    unconverged.add(a)
    force = {FORCE_REFIT_TAG: "true"}
    assert not materialize(instance, defs, [posterior, diagnostics], a, tags=force).success
    assert materialize(instance, defs, [posterior, diagnostics], b, tags=force).success
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {"rankings": {key(b)}}
    assert materialize(instance, defs, [rankings], b).success  # what the sensor would launch
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {}, "rankings of a must wait for diagnostics that pass"

    # A new code version of diagnostics: diagnostics and rankings everywhere (rankings
    # of a runs only if its new diagnostics pass: the checks block inside that run).
    bumped = diagnostics.map_asset_specs(lambda spec: spec.replace_attributes(code_version="bumped"))
    bumped_defs = make_definitions(root=str(root))
    bumped_defs = dg.Definitions(
        assets=[bumped if asset is diagnostics else asset for asset in CHAIN],
        resources=bumped_defs.resources,
    )
    tick = dg.evaluate_automation_conditions(defs=bumped_defs, instance=instance, cursor=tick.cursor)
    both = {key(a), key(b)}
    assert requested(tick) == {"diagnostics": both, "rankings": both}


def test_automation_sensor_is_on_by_default_and_covers_the_chain(storage_root):
    defs = make_definitions(root=str(storage_root))
    sensor = defs.resolve_sensor_def("irt_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    for asset in CHAIN:
        assert graph.get(asset.key).automation_condition is not None
