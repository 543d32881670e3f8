"""Reports an analyst can hand on: one self-contained HTML page per (session, chamber)
(`session_report`) and per chamber across sessions (`chamber_history_report`), from
the pipeline's stored outputs as plain values. No Dagster here: the assets in
`irt_pipeline/assets/report.py` gather the inputs and write the files.

Pictures are Bokeh figures with BokehJS inlined, tables plain HTML with a small inline
script for sorting and filtering: the file opens from disk with no network.
"""

from irt_pipeline.report.history import chamber_history_report
from irt_pipeline.report.session import fit_summary, party_posteriors, session_report

__all__ = ["chamber_history_report", "fit_summary", "party_posteriors", "session_report"]
