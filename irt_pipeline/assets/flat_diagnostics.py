"""flat_diagnostics: convergence summary of the flat posterior and its blocking gate
checks (shared stage: `judge_posterior`)."""

import dagster as dg

from irt_pipeline import versions
from irt_pipeline.assets._common import GROUP
from irt_pipeline.assets.diagnostics import gate_check_specs, judge_posterior
from irt_pipeline.partitions import session_chamber_partitions
from irt_pipeline.stats.models import flat


@dg.asset(
    partitions_def=session_chamber_partitions,
    io_manager_key="json_io",
    group_name=GROUP,
    code_version=versions.DIAGNOSTICS,
    check_specs=gate_check_specs("flat_diagnostics", flat.SPEC),
)
def flat_diagnostics(context: dg.AssetExecutionContext, flat_posterior):
    """Convergence summary of the flat posterior and its gates (blocking checks): R-hat
    and bulk ESS over the ideal points and tau; divergences; E-BFMI."""
    yield from judge_posterior(context, flat_posterior, flat.SPEC, upstream="flat_posterior")
