"""Declarative automation: which partitions re-materialize by themselves, and the
sensor (on by default) that launches them.

Split of work with the landing sensor (sensors.py):
- New or changed landing files: the landing sensor requests one `irt_chain` run per
  affected (session, chamber) partition, all six assets in one run, so a failed
  blocking check stops the chain inside that run.
- Everything else: automation. An asset materialized outside such a run (from the UI,
  the CLI, a partial backfill) -> the assets below it, in that partition only. A bumped
  code version (versions.py) -> that asset and everything below it, in every partition
  already materialized. The posterior cache (cache.py) makes a re-run whose inputs
  did not change cheap.

No double runs: `any_deps_updated` ignores an upstream update made by a run that also
targeted the asset (`executed_with_root_target`), so a landing run triggers nothing
more. Never past a failed gate: `all_deps_blocking_checks_passed` holds a partition
back while the latest evaluation of a blocking check above it failed (an upstream
requested in the same tick counts as passed: its checks then block inside the run).
Like `eager()`, this does not request partitions that were already missing when the
condition was first evaluated; backfill those.
"""

from __future__ import annotations

import dagster as dg

AC = dg.AutomationCondition


def downstream_condition() -> dg.AutomationCondition:
    """`eager() & all_deps_blocking_checks_passed()`, also triggered by a change of the
    asset's own code version (eager() alone ignores code versions)."""
    return (
        (AC.newly_missing() | AC.any_deps_updated() | AC.code_version_changed()).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & AC.all_deps_blocking_checks_passed()
    ).with_label("eager or new code version, after blocking checks passed")


def across_sessions_condition() -> dg.AutomationCondition:
    """For an asset fed by every session of its chamber (the common scale): requested
    after any session's posterior or diagnostics is updated, or after a new code
    version, once nothing it reads is in progress.

    No missing-dependency or blocking-check test: a session with no partition in this
    chamber, or one that failed its gates, is left out (and named) by the asset itself,
    so neither holds the chamber back. The dependency trigger is `newly_updated` of the
    deps reset by `newly_requested` alone, not `any_deps_updated().since_last_handled()`:
    Dagster 1.13 keeps the timestamps `since` needs to order a trigger and a reset in
    the same tick only through operands and dependency operators, not through and/or,
    and with many sessions a dependency updated in the tick in which the asset's own
    run finished would otherwise be lost (seen in a test). This way such an update
    requests the asset once more; a failed run is not retried until the next update."""
    deps_updated = AC.any_deps_match(AC.newly_updated()).since(AC.newly_requested())
    return (
        (deps_updated | AC.code_version_changed().since_last_handled())
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("a session's posterior or diagnostics updated, or new code version")


def root_condition() -> dg.AutomationCondition:
    """roll_calls (fed by the landing sensor): re-read the landing files of every
    materialized partition when its code version changes."""
    return (
        AC.code_version_changed().since_last_handled() & ~AC.missing() & ~AC.in_progress()
    ).with_label("new code version of a materialized partition")


automation_sensor = dg.AutomationConditionSensorDefinition(
    "irt_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Declarative automation of the ideal-point chain: re-materializes the partitions "
        "below an upstream updated outside a landing run, and after a code-version bump; "
        "never past a failed blocking check."
    ),
)
