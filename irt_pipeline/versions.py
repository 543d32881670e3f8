"""Code versions of the assets, in one place, and the data versions they record.

Bump an asset's code version when a change to its code, or to the plain functions it
calls (listed next to each), can change what it writes. Dagster then marks every
materialized partition of it, and of everything below it, as unsynced ("code version
changed") and the automation sensor re-materializes them (see automation.py); the
posterior cache misses, so the posterior is refit. Leave it alone for changes that
cannot alter the output (logging, metadata, refactoring).

Every materialization also records a data version computed from content: equal bytes
give equal versions, so rewriting a partition with the same content leaves nothing
below it unsynced.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

# landing.py, contract.py, sources/*.py (readers, conforming, the contract)
# 2: Voteview party codes named from Voteview's list; rows for another partition,
# conflicting names or parties and unknown parquet columns refused, never dropped; the
# Voteview importer carries DW-NOMINATE dim 2 and Nokken-Poole. 3: any parties (an empty
# label: no party); refused only where no orientation rule decides (stats/orientation.py)
ROLL_CALLS = "3"
# stats/matrix.py (filters, the long form). 2: any parties, one or none
VOTE_MATRIX = "2"
# stats/pca.py (the start values) and stats/orientation.py. 2: pc2 beside pc1 (the
# two-dimensional model's start). 3: oriented by the partition's orientation rule, which
# it carries (the `orientation` column)
PCA_INIT = "3"
# Each model's posterior asset has its code version in its own module (`ModelSpec.version`);
# the posterior cache key also fingerprints the model's code and every module it imports
# (stats.sampling.code_fingerprint), so an edit there never reuses draws of the old
# model, bumped or not.
# stats/diagnostics.py (the summary and the gates' thresholds). 3: tail ESS gated. 4: a
# group with no parameters (no party group) does not apply
DIAGNOSTICS = "4"
# stats/rankings.py and require_passed_gates in assets/rankings.py (every model's
# rankings; a two-dimensional posterior's have dim 2's columns too). 3: the rank's 94%
# interval (rank_hdi_low, rank_hdi_high)
RANKINGS = "3"
# stats/dimensionality.py (dimensionality, from the models' loo and posterior_predictive). 2:
# out of sample (PSIS-LOO per vote), three outcomes (undetermined never passes). 3: the
# gain 2 se clear of the threshold (too close to call: undetermined)
DIMENSIONALITY = "3"
# stats/ppc.py (every model's posterior_predictive)
POSTERIOR_PREDICTIVE = "1"
# stats/loo.py psis_loo, loo_table (every model's loo)
LOO = "1"
# stats/loo.py compare_models (model_comparison, from the models' loo)
MODEL_COMPARISON = "1"
# stats/validation.py (external_validation). 2: Nokken-Poole beside DW-NOMINATE
EXTERNAL_VALIDATION = "2"
# stats/common_scale.py and require_passed_gates in assets/rankings.py (common_scale,
# careers). 2: party medians and gap of the sessions' own poles
COMMON_SCALE = "2"
# irt_pipeline/report/ (the pages: session.py and history.py, figures.py, templates/)
# and the gathering in assets/report.py (report, chamber_report). 2: the out-of-sample
# dimensionality verdict's figures and its "undetermined"
REPORT = "2"
CHAMBER_REPORT = "1"


def digest(*parts) -> str:
    """sha256 (hex) of JSON-serializable parts, independent of dict order."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def data_version(*parts) -> dg.DataVersion:
    """A DataVersion from content digests and settings (first 32 hex digits of `digest`)."""
    return dg.DataVersion(digest(*parts)[:32])
