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
