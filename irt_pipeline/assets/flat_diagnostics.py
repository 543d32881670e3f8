"""flat_diagnostics: convergence summary of the flat posterior and the same four
blocking gate checks as `diagnostics` (shared stage: `judge_posterior`)."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.diagnostics import gate_check_specs, judge_posterior
from irt_pipeline.assets.flat_posterior import flat_metadata
from irt_pipeline.partitions import session_chamber_partitions


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version=versions.DIAGNOSTICS,
    check_specs=gate_check_specs("flat_diagnostics"),
)
def flat_diagnostics(context: dg.AssetExecutionContext, flat_posterior):
    """Convergence summary of the flat posterior and the four gates (blocking checks).
    The two anchors are constants: R-hat skips them, and their ESS is the number of
    draws."""
    yield from judge_posterior(context, flat_posterior, upstream="flat_posterior", metadata=flat_metadata(flat_posterior))
