"""The 118th Senate arriving in three batches, each run requested by a real sensor tick
and executed through the whole irt_chain job (the posterior is sampled three times, on
a 100 x 32..96 matrix). Every run passes every check, each is built from all the votes
so far, and the last run's rankings come from every vote of the session.
"""

from __future__ import annotations

import shutil

from test_sensor import Ticker, partitions

from irt_pipeline.sources.batches import write_batches
from irt_pipeline.sources.voteview import read_voteview
from irt_pipeline.stats.matrix import build_vote_matrix

def test_118th_senate_in_batches_ends_with_rankings_from_all_votes(
    storage_root, instance, shared_voteview, tmp_path
):
    landing = storage_root / "landing"
    staged = write_batches(
        shared_voteview / "S118_votes.csv", shared_voteview / "S118_members.csv", tmp_path / "staged", 3
    )
    members, batches = staged[0], staged[1:]
    shutil.copy(members, landing / members.name)
    ticker = Ticker(storage_root, instance)
    job = ticker.defs.resolve_job_def("irt_chain")
    roll_calls_so_far = []
    for batch in batches:
        shutil.copy(batch, landing / batch.name)
        tick = ticker.tick()
        assert partitions(tick) == ["Senate|118"]
        result = job.execute_in_process(
            instance=instance, partition_key=tick.run_requests[0].partition_key, raise_on_error=False
        )
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        assert failed == []
        roll_calls_so_far.append(result.output_for_node("roll_calls")["roll_call_id"].nunique())
    assert roll_calls_so_far[0] < roll_calls_so_far[1] < roll_calls_so_far[2]

    full, _ = build_vote_matrix(
        read_voteview(shared_voteview / "S118_votes.csv", shared_voteview / "S118_members.csv")
    )
    matrix = result.output_for_node("vote_matrix")
    assert set(matrix.roll_calls["roll_call_id"]) == set(full.roll_calls["roll_call_id"])
    rankings = result.output_for_node("rankings")
    assert set(rankings["legislator_id"]) == set(full.legislators["legislator_id"])
