"""Reports an analyst can hand on (irt_pipeline/report/, assets/report.py, `irt-pipeline
report`), opened from disk in Chromium (Playwright driving Debian's Chromium, as
test_ui_browser.py does) with every request but file:// aborted and the context
offline: the tables a reader sees are checked row by row against the stored outputs.

The inputs come from the pipeline itself, run through Dagster on simulated chambers,
with the sampler replaced by iid draws around the PCA start (stand_ins.py; the party
level set to each party's mean and sd of those draws): no MCMC, since what is tested
is what the report shows and refuses, not the fit. One module-scoped root serves a
440-member House (default chain), a 40-member Senate (both models with external
scores, and the two-dimensional chain) and, on a root of its own, a Senate of three
linked sessions for the chamber history. Screenshots at 1280 px wide go to
test-artifacts/: report-house.png, report-senate-2d.png, report-history.png, and the CLI's
refusal of a posterior that failed its gates to report-refused.txt.
"""

from __future__ import annotations

import importlib
import json
import re
from html.parser import HTMLParser

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from simulated import drifting_careers, landing_rows
from stand_ins import iid_posterior
from test_ui_browser import ARTIFACTS, browser  # noqa: F401 (browser: a fixture)

from irt_pipeline import cli
from irt_pipeline.assets import ALL_ASSETS, CATALOG, CHAIN
from irt_pipeline.cache import FORCE_REFIT_TAG
from irt_pipeline.definitions import make_definitions
from irt_pipeline.demo import DemoChamber, simulate_chamber
from irt_pipeline.files import sha256_file
from irt_pipeline.partitions import partition_key
from irt_pipeline.report import figures, session_report

POSTERIOR_MODULE = importlib.import_module("irt_pipeline.assets.posterior")
HOUSE = DemoChamber("sim-2023", "House", 440, 120, seed=5)
SENATE = DemoChamber("sim-2023", "Senate", 40, 150, seed=6)
REFUSED = DemoChamber("sim-2024", "Senate", 30, 100, seed=7)
HISTORY = drifting_careers(n_seats=30, n_sessions=3, turnover=0.2, polarization=0.12, seed=8)
# The Senate's run: the two-dimensional chain with its verdict and the flat chain with
# external_validation, in one run (what the report reads beside the default chain).
SENATE_ASSETS = [*CATALOG.job_assets("2d"), *CATALOG.chain("flat")[3:], CATALOG.external_validation]
report = CATALOG.report
WIDTH = 1280


def stand_in(shift=None):
    """The sampler's replacement: iid draws (stand_ins.iid_posterior) with a party level
    that matches them and the sampler settings recorded, as the real sampler does."""

    def sample(spec, matrix, pca, settings, progress=None, orientation=None):  # the draws need no orienting
        idata = iid_posterior(spec, matrix, pca, shift)
        post = idata.posterior
        if "mu_party" in post:
            party = matrix.legislators["party"].astype(str).to_numpy()
            xi = post["xi"].values
            for name in post["mu_party"]["party"].values:
                members = party == str(name)
                post["mu_party"].loc[{"party": name}] = xi[..., members].mean(axis=-1)
                post["sigma_party"].loc[{"party": name}] = xi[..., members].std(axis=-1)
        idata.attrs["sampler_settings"] = json.dumps(settings.as_dict())
        return idata

    return sample


def land(root, instance, spec: DemoChamber, external: bool = False) -> None:
    rows, truth = simulate_chamber(spec)
    if external:  # a DW-NOMINATE-like score: the truth seen through noise
        noisy = truth.set_index("legislator_id")["xi_true"] + np.random.default_rng(1).normal(0, 0.2, len(truth))
        rows["external_score"] = rows["legislator_id"].map(noisy)
    rows.to_parquet(root / "landing" / f"{spec.session}_{spec.chamber}.parquet", index=False)
    instance.add_dynamic_partitions("session", [spec.session])


def run(defs, instance, job: str, session: str, chamber: str, tags=None):
    """One run of `job` on the partition (in-process, errors kept in the result)."""
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition_key(session, chamber), raise_on_error=False, tags=tags
    )


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """(root, instance, defs) holding the House (default chain), the Senate (default,
    flat and 2D chains, external validation, the dimensionality verdict) and their
    reports, materialized."""
    root = tmp_path_factory.mktemp("report") / "root"
    (root / "landing").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        patch.setattr(POSTERIOR_MODULE, "sample", stand_in())
        defs = make_definitions(root=str(root))
        land(root, instance, HOUSE)
        land(root, instance, SENATE, external=True)
        for spec, selection in [(HOUSE, CHAIN), (SENATE, SENATE_ASSETS), (HOUSE, [report]), (SENATE, [report])]:
            result = dg.materialize(
                ALL_ASSETS, selection=selection, instance=instance, resources=defs.resources,
                partition_key=partition_key(spec.session, spec.chamber), raise_on_error=False,
            )
            assert result.success, cli.run_failures(result)
        yield root, instance, defs


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """(root, instance, defs) of a Senate with three linked sessions and its chamber_report."""
    root = tmp_path_factory.mktemp("history") / "root"
    (root / "landing").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        patch.setattr(POSTERIOR_MODULE, "sample", stand_in())
        defs = make_definitions(root=str(root))
        for i, session in enumerate(sorted(HISTORY["session"].unique())):
            rows = landing_rows(HISTORY[HISTORY["session"] == session], "Senate", 80, seed=40 + i)
            rows.to_parquet(root / "landing" / f"{session}_Senate.parquet", index=False)
            instance.add_dynamic_partitions("session", [session])
            result = run(defs, instance, "irt_chain", session, "Senate")
            assert result.success, cli.run_failures(result)
        for job in ("common_scale_job", "chamber_report_job"):
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key="Senate", raise_on_error=False
            )
            assert result.success, cli.run_failures(result)
        yield root, instance, defs


@pytest.fixture
def open_report(browser):  # noqa: F811 (the imported fixture)
    """open_report(path) -> (page, requests that left the machine, script errors): the
    file opened in a fresh offline context at 1280 px wide, its Bokeh figures drawn."""
    contexts = []

    def open_file(path, figures_expected: int):
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        contexts.append(context)
        context.set_default_timeout(60_000)
        outside = []

        def only_files(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_files)
        context.set_offline(True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(  # every figure of the page drawn
            """n => {
                const roots = window.Bokeh && Bokeh.documents.length === 1 ? Bokeh.documents[0].roots() : [];
                return roots.length === n && roots.every(m => { const v = Bokeh.index.get_by_id(m.id); return v && v.has_finished(); });
            }""",
            arg=figures_expected,
        )
        page.wait_for_timeout(500)
        return page, outside, errors

    yield open_file
    for context in contexts:
        context.close()


def table_rows(page, table_id: str) -> list[dict]:
    """Every row of a rendered table (hidden or scrolled out of view too), as
    {header: cell text}."""
    return page.evaluate(
        """id => {
            const table = document.getElementById(id);
            const heads = Array.from(table.tHead.rows[0].cells, th => th.textContent.trim());
            return Array.from(table.tBodies[0].rows, tr =>
                Object.fromEntries(Array.from(tr.cells, (td, i) => [heads[i], td.textContent.trim()])));
        }""",
        table_id,
    )


def visible_names(page, table_id: str) -> list[str]:
    return page.evaluate(
        "id => Array.from(document.querySelectorAll(`#${id} tbody tr`)).filter(tr => !tr.hidden)"
        ".map(tr => tr.cells[Array.from(tr.closest('table').tHead.rows[0].cells).findIndex(th => th.textContent.trim() === 'name')].textContent)",
        table_id,
    )


def close(text: str, value: float, digits: int = 3) -> bool:
    """The cell shows `value` rounded to `digits` decimals."""
    return abs(float(text) - value) <= 0.5 * 10**-digits + 1e-9


def stored_frame(root, asset: str, spec: DemoChamber) -> pd.DataFrame:
    return pd.read_parquet(root / asset / spec.chamber / f"{spec.session}.parquet")


def stored_json(root, asset: str, spec: DemoChamber) -> dict:
    return json.loads((root / asset / spec.chamber / f"{spec.session}.json").read_text())


def report_file(root, spec: DemoChamber):
    return root / "report" / spec.chamber / f"{spec.session}.html"


def check_ranking(page, rankings: pd.DataFrame) -> None:
    """The rendered ranking holds every legislator of the parquet in rank order, with
    its name, party, position and 94% HDI."""
    rows = table_rows(page, "ranking-table")
    expected = rankings.sort_values("rank")
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected.itertuples()):
        assert (row["rank"], row["name"], row["party"]) == (str(want.rank), want.name, want.party)
        assert close(row["position"], want.xi_mean), (row, want)
        assert close(row["94% HDI low"], want.xi_hdi_low) and close(row["94% HDI high"], want.xi_hdi_high), (row, want)
        assert close(row["sd"], want.xi_sd)


def test_house_report_opens_offline_and_shows_every_member(stored, open_report):
    root, instance, _ = stored
    rankings = stored_frame(root, "rankings", HOUSE)
    path = report_file(root, HOUSE)
    page, outside, errors = open_report(path, figures_expected=2)  # forest, parties
    assert outside == [] and errors == []
    check_ranking(page, rankings)
    # the rule that set the sign, as the posterior recorded it (the built-in party poles here)
    assert "(the sign set by party poles: Republican (+) against Democrat (-))" in page.inner_text("header p.lede")

    # the forest plot: one row per member, at least ROW_PX tall each, in a panel that scrolls
    height = page.evaluate("() => Bokeh.documents[0].get_model_by_name('forest').height")
    assert height >= figures.ROW_PX * len(rankings) == figures.ROW_PX * 440
    panel = page.evaluate("() => { const p = document.querySelector('.forest-panel'); return [p.scrollHeight, p.clientHeight]; }")
    assert panel[0] >= height > panel[1]

    # search and sort, as a reader would
    page.get_by_label("search the table ranking-table").fill("Member 01")
    wanted = sorted(n for n in rankings["name"] if "member 01" in n.lower())
    assert sorted(visible_names(page, "ranking-table")) == wanted and len(wanted) == 10
    assert page.inner_text("#ranking-table-count") == f"10 of {len(rankings)}"
    page.get_by_label("search the table ranking-table").fill("")
    page.locator("#ranking-table th", has_text=re.compile(r"^position$")).click()
    assert visible_names(page, "ranking-table")[0] == rankings.loc[rankings["xi_mean"].idxmin(), "name"]

    # party posteriors: means and spreads from the posterior's party level
    parties = {row["party"]: row for row in table_rows(page, "party-posteriors")}
    by_party = rankings.groupby("party")["xi_mean"].mean()
    assert set(parties) == {"Democrat", "Republican"}
    for party, row in parties.items():
        assert abs(float(row["party mean"]) - by_party[party]) < 0.01 and float(row["party sd"]) > 0.2
        assert int(row["members"]) == (rankings["party"] == party).sum()

    # gates with their values, and the lineage to the landing file
    diagnostics = stored_json(root, "diagnostics", HOUSE)
    gates = {row["gate"]: row for row in table_rows(page, "gate-table")}
    assert set(gates) == {g["gate"] for g in diagnostics["gates"]}
    for gate in diagnostics["gates"]:
        assert float(gates[gate["gate"]]["value"]) == pytest.approx(gate["value"], rel=1e-4, abs=1e-12)
        assert gates[gate["gate"]]["result"] == "pass"
    landing = root / "landing" / f"{HOUSE.session}_{HOUSE.chamber}.parquet"
    assert table_rows(page, "landing-files") == [
        {"landing file": landing.name, "bytes": str(landing.stat().st_size), "sha256": sha256_file(landing)}
    ]
    settings = {row["setting"]: row["value"] for row in table_rows(page, "sampler-settings")}
    assert settings["chains"] == "4" and "seed" in settings
    assert "Two dimensions" not in page.inner_text("nav") and page.locator("#external").count() == 0
    page.screenshot(path=ARTIFACTS / "report-house.png", full_page=True)

    # the asset's metadata names the file and links to it
    event = instance.get_latest_materialization_event(dg.AssetKey("report"))
    assert event is not None
    metadata = event.asset_materialization.metadata
    written = {str(report_file(root, spec)) for spec in (HOUSE, SENATE)}
    assert metadata["path"].value in written and metadata["link"].value.startswith("file://")


def test_senate_report_with_the_plane_verdict_and_external_scores(stored, open_report):
    root, _, _ = stored
    page, outside, errors = open_report(report_file(root, SENATE), figures_expected=3)  # forest, parties, plane
    assert outside == [] and errors == []
    check_ranking(page, stored_frame(root, "rankings", SENATE))

    verdict = stored_json(root, "dimensionality", SENATE)
    advice = page.inner_text("header p.advice")
    expected = {
        True: "The second dimension matters here", False: "One dimension is enough here",
        None: "Whether a second dimension matters is undetermined",
    }[verdict["second_dimension_matters"]]
    assert advice.startswith(f"Which scale to read. {expected}")
    shown = {row["figure"]: row["value"] for row in table_rows(page, "dimensionality")}
    assert float(shown["elpd_diff (2D minus 1D)"]) == pytest.approx(verdict["elpd_diff"], rel=1e-5)

    rankings_2d = stored_frame(root, "rankings_2d", SENATE).sort_values("rank")
    rows = table_rows(page, "plane-table")
    assert [r["name"] for r in rows] == rankings_2d["name"].tolist()
    for row, want in zip(rows, rankings_2d.itertuples()):
        assert close(row["dim 1"], want.xi_mean) and close(row["dim 2"], want.xi_2_mean)
        assert close(row["dim 2 low"], want.xi_2_hdi_low) and close(row["dim 2 high"], want.xi_2_hdi_high)

    external = stored_json(root, "external_validation", SENATE)
    pairs = {(r["method"], r["against"]): r for r in table_rows(page, "external-correlations")}
    want = next(p for p in external["correlations"] if (p["a"], p["b"]) == ("hierarchical", "external"))
    row = pairs[("this model (hierarchical)", "external score")]
    assert close(row["Pearson r"], want["pearson_r"]) and close(row["Spearman r"], want["spearman_r"])
    assert want["pearson_r"] > 0.8  # the simulated external score is the truth seen through noise
    page.screenshot(path=ARTIFACTS / "report-senate-2d.png", full_page=True)


def test_chamber_history_shows_careers_and_one_trajectory(history, open_report):
    root, _, _ = history
    careers = pd.read_parquet(root / "careers" / "Senate.parquet")
    scale = pd.read_parquet(root / "common_scale" / "Senate.parquet")
    page, outside, errors = open_report(root / "chamber_report" / "Senate.html", figures_expected=3)
    assert outside == [] and errors == []

    rows = table_rows(page, "careers-table")
    assert [r["name"] for r in rows] == careers["name"].tolist()
    for row, want in zip(rows, careers.itertuples()):
        assert (row["first"], row["last"], row["sessions"]) == (
            want.first_session, want.last_session, str(want.sessions))
        assert close(row["position"], want.position_mean)
        assert close(row["94% HDI low"], want.position_hdi_low) and close(row["94% HDI high"], want.position_hdi_high)
        if want.sessions > 1:
            assert close(row["trend"], want.trend_mean)
            assert close(row["trend low"], want.trend_hdi_low) and close(row["trend high"], want.trend_hdi_high)

    medians = table_rows(page, "medians")
    for row in medians:
        members = scale[(scale["session"] == row["session"]) & (scale["party"] == row["party"])]
        assert close(row["median"], members["position_mean"].median()) and int(row["members"]) == len(members)

    # a legislator who served in some sessions only: search by name, read the trajectory
    chosen = careers[(careers["sessions"] > 1) & (careers["sessions"] < scale["session"].nunique())].iloc[0]
    page.get_by_label("find a legislator").fill(chosen["name"])
    mine = scale[scale["legislator_id"] == chosen["legislator_id"]].sort_values("session_index")
    page.wait_for_function("n => document.querySelectorAll('#trajectory-table tbody tr').length === n", arg=len(mine))
    trajectory = table_rows(page, "trajectory-table")
    assert [r["session"] for r in trajectory] == mine["session"].tolist()
    for row, want in zip(trajectory, mine.itertuples()):
        assert close(row["position"], want.position_mean)
        assert close(row["94% HDI low"], want.position_hdi_low) and close(row["94% HDI high"], want.position_hdi_high)
    drawn = page.evaluate("() => Array.from(Bokeh.documents[0].get_model_by_name('trajectory_source').data.session)")
    assert drawn == mine["session"].tolist()
    assert page.inner_text("#trajectory-name").startswith(chosen["name"])
    page.locator("#trajectory").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "report-history.png", full_page=True)


def test_cli_writes_both_pages_from_stored_outputs(stored, history, tmp_path, monkeypatch, capsys):
    for (root, instance, defs), args in [(stored, ["--session", HOUSE.session, "--chamber", "House"]),
                                         (history, ["--chamber", "Senate"])]:
        monkeypatch.setattr(cli._shared, "definitions", lambda defs=defs: defs)
        monkeypatch.setattr("irt_pipeline.instance.get_instance", lambda instance=instance: instance)
        calls = []
        monkeypatch.setattr(POSTERIOR_MODULE, "sample", lambda *a, **k: calls.append(a))
        out = tmp_path / f"{args[-1]}-{len(args)}.html"
        capsys.readouterr()
        assert cli.main(["report", *args, "--out", str(out)]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["report"] == str(out) and summary["bytes"] == out.stat().st_size > 500_000
        assert out.read_bytes() == open(summary["stored"], "rb").read() and calls == []  # nothing refit


def test_a_report_of_a_posterior_that_failed_its_gates_is_refused(stored, tmp_path, monkeypatch, capsys):
    root, instance, defs = stored
    monkeypatch.setattr(cli._shared, "definitions", lambda: defs)
    monkeypatch.setattr("irt_pipeline.instance.get_instance", lambda: instance)
    land(root, instance, REFUSED)
    monkeypatch.setattr(POSTERIOR_MODULE, "sample", stand_in())
    assert run(defs, instance, "irt_chain", REFUSED.session, "Senate").success
    # refit with one chain off on its own: the gates fail, the earlier rankings stay stored
    monkeypatch.setattr(POSTERIOR_MODULE, "sample", stand_in(shift={"xi": 1.0}))
    refit = dg.materialize(
        CHAIN, selection=CHAIN[3:5], instance=instance, resources=defs.resources, raise_on_error=False,
        partition_key=partition_key(REFUSED.session, "Senate"), tags={FORCE_REFIT_TAG: "true"},
    )
    assert not refit.success and stored_frame(root, "rankings", REFUSED) is not None
    out = tmp_path / "refused.html"
    capsys.readouterr()
    assert cli.main(["report", "--session", REFUSED.session, "--chamber", "Senate", "--out", str(out)]) == 1
    message = capsys.readouterr().err
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-refused.txt").write_text(message)  # what the CLI said, for the record
    assert (
        f"error: report: partition session={REFUSED.session} chamber=Senate: refusing to report from this "
        "posterior: its convergence gates are not shown passed: rhat_xi=" in message
    )
    assert message.startswith("error: report: ") and message.count("\n") == 1  # that line alone
    assert "No report was written: fit the partition again until its gates pass" in message
    assert f"irt-pipeline run --session {REFUSED.session} --chamber Senate" in message
    assert not out.exists() and not report_file(root, REFUSED).exists()

    # and a partition with nothing stored names what to run, before anything runs
    assert cli.main(["report", "--session", "sim-1999", "--chamber", "Senate", "--out", str(out)]) == 2
    message = capsys.readouterr().err
    assert "no posterior stored at" in message and "run `irt-pipeline run --session sim-1999 --chamber Senate` first" in message
    assert not out.exists()


class _Headers(HTMLParser):
    """The header labels of one table of a page, by id."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.in_th, self.labels = table_id, False, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.inside = dict(attrs).get("id") == self.table_id
        self.in_th = self.inside and tag == "th"

    def handle_endtag(self, tag):
        self.in_th = False if tag == "th" else self.in_th
        self.inside = False if tag == "table" else self.inside

    def handle_data(self, data):
        if self.in_th:
            self.labels.append(data.strip())


def headers(html: str, table_id: str) -> list[str]:
    parser = _Headers(table_id)
    parser.feed(html)
    return parser.labels


def test_rank_intervals_and_optional_sections_only_when_present():
    n = 6
    rankings = pd.DataFrame({
        "legislator_id": [str(i) for i in range(n)], "name": [f"M{i}" for i in range(n)],
        "party": ["Republican"] * 3 + ["Democrat"] * 3, "xi_mean": np.linspace(1, -1, n), "xi_sd": 0.1,
        "xi_hdi_low": np.linspace(1, -1, n) - 0.2, "xi_hdi_high": np.linspace(1, -1, n) + 0.2, "rank": range(1, n + 1),
    })
    diagnostics = {"gates": [{"gate": "rhat_xi", "value": 1.001, "op": "<", "threshold": 1.01, "passed": True}],
                   "gates_passed": True}
    fit = {"model": "flat", "chains": 4, "draws_used": 500}
    plain = session_report("s", "Senate", rankings, diagnostics, fit, None)
    assert headers(plain, "ranking-table") == ["rank", "name", "party", "position", "94% HDI low", "94% HDI high", "sd"]
    for absent in ('id="parties"', 'id="plane"', 'id="external"', 'id="landing-files"'):
        assert absent not in plain
    assert "Not recorded with the stored rankings" in plain
    with_ranks = session_report(
        "s", "Senate", rankings.assign(rank_hdi_low=[1, 1, 2, 3, 4, 5], rank_hdi_high=[2, 3, 4, 5, 6, 6]),
        diagnostics, fit, None,
    )
    assert headers(with_ranks, "ranking-table")[:3] == ["rank", "rank from", "rank to"]
    assert '<td data-sort="3.0">3</td><td data-sort="5.0">5</td><td>M3</td>' in with_ranks.replace("\n", "")
