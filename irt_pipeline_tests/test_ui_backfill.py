"""A partition backfill launched through the webserver's GraphQL API on a real
`dagster dev` (fixtures in ui_server.py): one run per partition holding the whole
chain; every demo partition passes its checks and ranks its legislature; the partition
with bad data fails alone; every materialization names the landing file it came from.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
from ui_server import BAD_CHAMBER, BAD_SESSION, CHAIN, SAMPLER_ENV, sha256_file

from irt_pipeline.demo import DEMO_CHAMBERS, demo_truth, landing_name
from irt_pipeline.partitions import partition_key
from irt_pipeline.stats.diagnostics import gates_for
from irt_pipeline.stats.models import hierarchical

GATES = gates_for(hierarchical.SPEC.gated)

CHECKS_QUERY = """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path } assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }"""

EXECUTIONS_QUERY = """query($key: AssetKeyInput!, $check: String!, $partition: String) {
  assetCheckExecutions(assetKey: $key, checkName: $check, partition: $partition, limit: 5) {
    runId status partition evaluation { success metadataEntries { label
      ... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text } } } } }"""

MATERIALIZATION_QUERY = """query($key: AssetKeyInput!, $partition: String!) { assetOrError(assetKey: $key) {
  __typename ... on Asset { assetMaterializations(partitions: [$partition], limit: 1) {
    runId partition metadataEntries { label
      ... on JsonMetadataEntry { jsonString } ... on MarkdownMetadataEntry { mdStr }
      ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
      ... on TextMetadataEntry { text } } } } } }"""


def run_by_partition(backfill) -> dict[str, dict]:
    return {run["tag_map"]["dagster/partition"]: run for run in backfill.runs}


def checks_by_asset(ui) -> dict[str, list[str]]:
    data = ui.graphql(CHECKS_QUERY, keys=[{"path": [a]} for a in CHAIN])
    out = {}
    for node in data["assetNodes"]:
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        out[node["assetKey"]["path"][-1]] = [c["name"] for c in checks["checks"]]
    return out


def latest_materialization(ui, asset: str, partition: str) -> dict | None:
    data = ui.graphql(MATERIALIZATION_QUERY, key={"path": [asset]}, partition=partition)["assetOrError"]
    assert data["__typename"] == "Asset", data
    events = data["assetMaterializations"]
    if not events:
        return None
    entries = {}
    for entry in events[0]["metadataEntries"]:
        values = [v for k, v in entry.items() if k != "label"]
        entries[entry["label"]] = values[0] if values else None
    return {"runId": events[0]["runId"], "metadata": entries}


def read_rankings(root, partition: str) -> pd.DataFrame:
    chamber, session = partition.split("|")
    return pd.read_parquet(root / "rankings" / chamber / f"{session}.parquet")


def test_one_run_per_partition_each_holding_the_whole_chain(demo_backfill):
    runs = run_by_partition(demo_backfill)
    assert sorted(runs) == sorted([*demo_backfill.partitions, demo_backfill.bad_partition])
    assert len(demo_backfill.runs) == len(runs)  # no partition ran twice
    for partition, run in runs.items():
        assert sorted(tuple(k["path"]) for k in run["assetSelection"]) == sorted((a,) for a in CHAIN), partition


def test_the_mcmc_pool_admits_its_limit_of_runs_at_a_time(demo_backfill):
    # every run of the backfill holds a posterior step (pool "mcmc"): no more of them
    # were ever in progress together than the pool's limit, written for this machine
    limit = demo_backfill.ui.limits.mcmc_pool_limit
    events = []
    for run in demo_backfill.runs:
        assert run["startTime"] and run["endTime"], run
        events += [(run["startTime"], 1), (run["endTime"], -1)]
    in_progress, most = 0, 0
    for _, change in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at a tie
        in_progress += change
        most = max(most, in_progress)
    assert most <= limit, (most, limit)


def test_a_partition_with_bad_data_fails_alone(demo_backfill):
    runs = run_by_partition(demo_backfill)
    assert {p: runs[p]["status"] for p in demo_backfill.partitions} == dict.fromkeys(
        demo_backfill.partitions, "SUCCESS"
    )
    assert runs[demo_backfill.bad_partition]["status"] == "FAILURE"
    # the backfill finished every partition and reports the failure
    assert demo_backfill.status in ("COMPLETED_FAILED", "FAILED"), demo_backfill.status
    ui = demo_backfill.ui
    contract = ui.graphql(
        EXECUTIONS_QUERY, key={"path": ["roll_calls"]}, check="roll_call_contract", partition=demo_backfill.bad_partition
    )["assetCheckExecutions"]
    assert [(e["status"], e["runId"]) for e in contract] == [
        ("FAILED", runs[demo_backfill.bad_partition]["runId"])
    ]
    assert not (ui.root / "roll_calls" / BAD_CHAMBER / f"{BAD_SESSION}.parquet").exists()
    assert not (ui.root / "rankings" / BAD_CHAMBER / f"{BAD_SESSION}.parquet").exists()
    for asset in CHAIN:
        assert latest_materialization(ui, asset, demo_backfill.bad_partition) is None, asset


def test_every_check_of_every_demo_partition_passed_in_its_backfill_run(demo_backfill):
    ui = demo_backfill.ui
    runs = run_by_partition(demo_backfill)
    checks = checks_by_asset(ui)
    assert {g.name for g in GATES} <= set(checks["diagnostics"])
    assert "roll_call_contract" in checks["roll_calls"] and "vote_matrix_usable" in checks["vote_matrix"]
    gate_values = {}
    for partition in demo_backfill.partitions:
        for asset, names in checks.items():
            for name in names:
                executions = ui.graphql(EXECUTIONS_QUERY, key={"path": [asset]}, check=name, partition=partition)[
                    "assetCheckExecutions"
                ]
                assert executions, f"{asset}.{name} never ran for {partition}"
                latest = executions[0]
                assert latest["partition"] == partition
                assert latest["runId"] == runs[partition]["runId"], (asset, name, partition)
                assert latest["status"] == "SUCCEEDED" and latest["evaluation"]["success"], (asset, name, partition, latest)
                if asset == "diagnostics":
                    values = {e["label"]: e.get("floatValue") for e in latest["evaluation"]["metadataEntries"]}
                    gate_values[(partition, name)] = values["value"]
    # the gate values the checks recorded do meet the thresholds
    for gate in GATES:
        for partition in demo_backfill.partitions:
            assert gate.passes(gate_values[(partition, gate.name)]), (partition, gate.name, gate_values)
    print("gate values:", json.dumps({f"{p} {g}": v for (p, g), v in sorted(gate_values.items())}, indent=1))


def test_rankings_of_every_demo_partition_recover_the_simulated_legislature(demo_backfill):
    truth = demo_truth()
    for spec in DEMO_CHAMBERS:
        partition = str(partition_key(spec.session, spec.chamber))
        table = read_rankings(demo_backfill.ui.root, partition)
        expected = truth[(truth.session == spec.session) & (truth.chamber == spec.chamber)]
        assert len(table) == spec.n_legislators
        assert set(table["legislator_id"]) == set(expected["legislator_id"])
        assert table["rank"].tolist() == list(range(1, len(table) + 1))
        assert table["xi_mean"].is_monotonic_decreasing
        assert (table["xi_hdi_low"] <= table["xi_mean"]).all() and (table["xi_mean"] <= table["xi_hdi_high"]).all()
        party_means = table.groupby("party")["xi_mean"].mean()
        assert party_means["Republican"] > party_means["Democrat"], party_means
        merged = table.merge(expected[["legislator_id", "xi_true"]], on="legislator_id")
        assert np.corrcoef(merged["xi_mean"], merged["xi_true"])[0, 1] > 0.95, partition


def test_every_materialization_names_the_landing_file_and_its_sha256(demo_backfill):
    ui = demo_backfill.ui
    runs = run_by_partition(demo_backfill)
    for spec in DEMO_CHAMBERS:
        partition = str(partition_key(spec.session, spec.chamber))
        landing = ui.root / "landing" / landing_name(spec)
        for asset in CHAIN:
            event = latest_materialization(ui, asset, partition)
            assert event is not None and event["runId"] == runs[partition]["runId"], (asset, partition)
            files = json.loads(event["metadata"]["landing_files"])
            assert [(f["file"], f["sha256"]) for f in files] == [(landing.name, sha256_file(landing))], (asset, files)


def _png_of(markdown: str, alt_prefix: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert markdown.startswith(f"![{alt_prefix}"), markdown[:80]
    data = base64.b64decode(markdown[markdown.index(prefix) + len(prefix) : -1])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return data


def test_materializations_carry_tables_numbers_and_pictures(demo_backfill):
    ui = demo_backfill.ui
    for spec in DEMO_CHAMBERS:
        partition = str(partition_key(spec.session, spec.chamber))
        matrix = latest_materialization(ui, "vote_matrix", partition)["metadata"]
        assert matrix["legislators"] == spec.n_legislators
        assert matrix["roll_calls"] <= spec.n_roll_calls and matrix["observed_votes"] > 0
        assert 0 < matrix["share_missing"] < 0.2
        assert "legislators_before" in json.loads(matrix["filtering_manifest"])

        diagnostics = latest_materialization(ui, "diagnostics", partition)["metadata"]
        rows = [line for line in diagnostics["gates"].splitlines() if line.startswith("| ") and "---" not in line][1:]
        assert sorted(r.split("|")[1].strip() for r in rows) == sorted(g.name for g in GATES)
        assert all(r.split("|")[4].strip() == "pass" for r in rows), rows
        assert diagnostics["sampling_seconds"] > 0 and diagnostics["compile_seconds"] >= 0
        worst = diagnostics["worst_xi"]
        assert worst.startswith("rep_" if spec.chamber == "House" else "sen_")
        _png_of(diagnostics["worst_xi_plot"], f"trace and rank plot of xi[{worst}]")

        posterior = latest_materialization(ui, "posterior", partition)["metadata"]
        assert posterior["sampling_seconds"] > 0
        assert json.loads(posterior["sampler"])["draws"] == int(SAMPLER_ENV["IRT_PIPELINE_DRAWS"])

        ranked = latest_materialization(ui, "rankings", partition)["metadata"]
        table = read_rankings(ui.root, partition)
        assert ranked["legislators"] == len(table)
        _png_of(ranked["forest_plot"], "forest plot")
        top = ranked["most_conservative"].splitlines()
        assert table["name"].iloc[0] in top[2] and len(top) == 2 + 10
        assert table["name"].iloc[-1] in ranked["most_liberal"].splitlines()[-1]
