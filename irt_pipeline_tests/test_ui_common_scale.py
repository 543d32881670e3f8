"""The common scale in the Dagster UI, in a real browser (Playwright driving Debian's
Chromium, as test_ui_browser.py does), on a `dagster dev` of its own: the demo
legislature's two sessions share no legislators, so this server holds five sessions
of a simulated Senate with drifting positions (drifting_careers) instead.

The sessions' chains run in this process on the server's instance and storage root
(the UI lists those runs), with the stand-in sampler (stand_ins.py: converged iid
draws; what is checked here is the page, not MCMC, which test_common_scale_pipeline.py
checks on sampled posteriors); the common scale is then materialized by a partition
backfill through GraphQL, as the UI's "Materialize" does, and its page must show the
polarization chart and the trajectories. Screenshots go to test-artifacts/
(ui-common-scale-polarization.png, ui-common-scale-trajectories.png).
"""

from __future__ import annotations

import contextlib
import importlib
import re

import pytest
from simulated import drifting_careers, landing_rows
from stand_ins import stand_in_sampler
from test_ui_browser import ARTIFACTS, browser, show_markdown  # noqa: F401 (browser: a fixture)
from ui_server import (
    SAMPLER_ENV,
    add_session,
    backfill_runs,
    launch_backfill,
    running_dagster_ui,
    stop_sensors,
    wait_for_backfill,
)

CHAMBER = "Senate"
POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")

TRUTH = drifting_careers(n_seats=30, n_sessions=5, turnover=0.2, polarization=0.12, seed=8)
SESSIONS = sorted(TRUTH["session"].unique())


@pytest.fixture(scope="module")
def scale_ui(tmp_path_factory):
    """A server whose Senate has five linked sessions and a materialized common scale."""
    import dagster as dg

    from irt_pipeline.assets import CHAIN
    from irt_pipeline.definitions import make_definitions
    from irt_pipeline.partitions import partition_key
    from irt_pipeline.resources import Sampler

    with running_dagster_ui(tmp_path_factory.mktemp("scale_ui"), SAMPLER_ENV) as ui:
        stop_sensors(ui)
        defs = make_definitions(root=str(ui.root), sampler=Sampler(chains=4, tune=300, draws=300))
        with dg.DagsterInstance.from_config(str(ui.home)) as instance, pytest.MonkeyPatch.context() as patch:
            patch.setattr(POSTERIOR_MODULE, "sample", stand_in_sampler(lambda spec, matrix: {}))
            for i, session in enumerate(SESSIONS):
                rows = landing_rows(TRUTH[TRUTH["session"] == session], CHAMBER, 80, seed=40 + i)
                rows.to_parquet(ui.root / "landing" / f"{session}_{CHAMBER}.parquet", index=False)
                add_session(ui, session)
                result = dg.materialize(
                    CHAIN, instance=instance, partition_key=partition_key(session, CHAMBER), resources=defs.resources
                )
                assert result.success
        backfill = launch_backfill(ui, [CHAMBER], assets=("common_scale", "careers"), title="common scale, Senate")
        assert wait_for_backfill(ui, backfill) == "COMPLETED_SUCCESS"
        assert [run["status"] for run in backfill_runs(ui, backfill)] == ["SUCCESS"]
        yield ui


@pytest.fixture
def page(browser, scale_ui):  # noqa: F811 (the imported fixture)
    context = browser.new_context(viewport={"width": 1600, "height": 1300})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{scale_ui.url}/assets/common_scale?view=partitions&partition={CHAMBER}", wait_until="networkidle")
    from playwright.sync_api import TimeoutError as NoDialog

    skip = page.get_by_role("button", name="Skip")
    with contextlib.suppress(NoDialog):
        skip.wait_for(state="visible", timeout=3_000)
        skip.click()
    yield page
    context.close()


@pytest.mark.parametrize(
    "label, alt, screenshot",
    [
        ("polarization_chart", f"polarization chart, {CHAMBER}", "ui-common-scale-polarization.png"),
        ("trajectories", f"trajectories, {CHAMBER}", "ui-common-scale-trajectories.png"),
    ],
)
def test_common_scale_page_shows_its_pictures(page, label, alt, screenshot):
    page.get_by_text(label, exact=True).wait_for()
    body = page.inner_text("body")
    assert re.search(r"sessions_linked\s+5", body), body[:2000]
    assert ", ".join(SESSIONS) in body
    image = show_markdown(page, label)
    assert image.get_attribute("alt") == alt
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > height > 300
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / screenshot)
