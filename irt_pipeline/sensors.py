"""The landing sensor: new or changed files under `{root}/landing/` -> runs of
`irt_chain` for exactly the (session, chamber) partitions they feed.

The logic (listing, fingerprints, pre-flight checks, run keys, cursor, quarantine)
lives in irt_pipeline.watch; this module only talks to Dagster. What changes without a
landing file (a code-version bump, an asset materialized by hand) is left to declarative
automation (irt_pipeline.automation), which does not re-run what these runs materialized.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from irt_pipeline.assets._lineage import landing_files_of
from irt_pipeline.files import write_atomic
from irt_pipeline.partitions import session_partitions
from irt_pipeline.resources import Storage
from irt_pipeline.stats.models import DEFAULT, MODELS
from irt_pipeline.watch import QUARANTINE, Cursor, scan

# The default model's job, and its last asset: a partition whose latest rankings name the
# same landing files and bytes is done, whoever ran it (the CLI, an earlier sensor cursor).
CHAIN_JOB = MODELS[DEFAULT].job
CHAIN_END = MODELS[DEFAULT].asset("rankings")


def write_quarantine(storage: Storage, problems: list[dict]) -> str:
    """Write the quarantine listing (JSON) under the storage root; returns its path."""
    path = storage.base / QUARANTINE
    path.parent.mkdir(parents=True, exist_ok=True)
    listing = {
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "landing": str(storage.landing),
        "problems": problems,
    }
    write_atomic(path, json.dumps(listing, indent=2))
    return str(path)


@dg.sensor(
    name="landing_sensor",
    job_name=CHAIN_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Watches {{root}}/landing/: registers new sessions and runs {CHAIN_JOB} for the "
        "(session, chamber) partitions whose landing files are new or changed. Files "
        "that fail the pre-flight check are listed in {root}/quarantine/landing.json."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, storage: Storage):
    previous = Cursor.loads(context.cursor)
    known = set(context.instance.get_dynamic_partitions(session_partitions.name))
    result = scan(
        storage.landing,
        previous,
        known,
        recorded=lambda partition: landing_files_of(context.instance, CHAIN_END, partition),
    )
    for level, message in result.log:
        getattr(context.log, level)(message)
    cursor = result.cursor
    if result.listing_changed:
        try:
            where = write_quarantine(storage, result.problems)
            if result.problems:
                context.log.info(f"landing: {len(result.problems)} problem(s) listed in {where}")
            elif previous.listing:
                context.log.info(f"landing: nothing quarantined any more ({where})")
        except OSError as exc:
            context.log.warning(f"landing: could not write the quarantine listing ({exc}); retrying next tick")
            cursor.listing = previous.listing
    runs = [
        dg.RunRequest(run_key=plan.run_key, partition_key=plan.partition_key)
        for plan in result.runs
    ]
    for plan in result.runs:
        context.log.info(f"landing: run for {plan.partition_key} from {list(plan.files)}")
    skip = None
    if not runs:
        skip = "no new or changed landing files"
        if result.problems:
            skip += f"; {len(result.problems)} problem(s) listed in {QUARANTINE}"
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=(
            [session_partitions.build_add_request(result.new_sessions)] if result.new_sessions else []
        ),
        cursor=cursor.dumps(),
        skip_reason=skip,
    )
