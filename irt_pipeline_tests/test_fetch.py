"""`irt-pipeline fetch voteview` against a local HTTP server (and file://) laid out
like voteview.com, and the batch splitter."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pandas as pd
import pytest

from irt_pipeline import cli
from irt_pipeline.sources.batches import split_votes, write_batches
from irt_pipeline.sources.download import voteview_urls


@pytest.fixture
def site(tmp_path, shared_voteview):
    """A temporary copy of the shared files under voteview.com's folder layout."""
    root = tmp_path / "site"
    for kind in ("votes", "members"):
        folder = root / "static" / "data" / "out" / kind
        folder.mkdir(parents=True)
        for congress in (116, 117):
            name = f"S{congress}_{kind}.csv"
            shutil.copy(shared_voteview / name, folder / name)
    return root


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate: frozenset[str] = frozenset()  # names whose download is cut short

    def log_message(self, *args):  # keep test output quiet
        pass

    def copyfile(self, source, outputfile):
        if any(self.path.endswith(name) for name in self.truncate):
            outputfile.write(source.read(5000))  # announced length, then hang up
            return
        super().copyfile(source, outputfile)


@pytest.fixture
def server(site):
    handler = functools.partial(_Handler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    _Handler.truncate = frozenset()


@pytest.fixture
def root(storage_root, monkeypatch, tmp_path):
    monkeypatch.setenv("IRT_PIPELINE_ROOT", str(storage_root))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("IRT_PIPELINE_VOTEVIEW_URL", raising=False)
    return storage_root


def landing_names(root) -> list[str]:
    return sorted(p.name for p in (root / "landing").iterdir())


def test_urls_follow_voteview_layout():
    urls = voteview_urls(90, "house", "https://voteview.com")
    assert urls == {
        "members": "https://voteview.com/static/data/out/members/H090_members.csv",
        "votes": "https://voteview.com/static/data/out/votes/H090_votes.csv",
    }


def test_fetch_over_http_writes_the_exact_bytes_with_progress(root, server, site, capsys):
    code = cli.main(["fetch", "voteview", "--congress", "117", "--chamber", "senate", "--base-url", server])
    assert code == 0
    assert landing_names(root) == ["S117_members.csv", "S117_votes.csv"]
    for kind in ("votes", "members"):
        sent = (site / "static" / "data" / "out" / kind / f"S117_{kind}.csv").read_bytes()
        assert (root / "landing" / f"S117_{kind}.csv").read_bytes() == sent
    out = capsys.readouterr()
    assert "S117_votes.csv" in out.err and "100%" in out.err  # tqdm progress on stderr
    statuses = {r["target"].rsplit("/", 1)[-1]: r["status"] for r in __import__("json").loads(out.out)}
    assert statuses == {"S117_members.csv": "written", "S117_votes.csv": "written"}

    # Fetching again changes nothing in landing (same bytes, same mtime).
    before = (root / "landing" / "S117_votes.csv").stat().st_mtime_ns
    assert cli.main(["fetch", "voteview", "--congress", "117", "--chamber", "senate", "--base-url", server]) == 0
    assert (root / "landing" / "S117_votes.csv").stat().st_mtime_ns == before
    assert '"status": "unchanged"' in capsys.readouterr().out


def test_base_url_from_environment_and_file_urls(root, site, monkeypatch):
    monkeypatch.setenv("IRT_PIPELINE_VOTEVIEW_URL", site.as_uri())
    assert cli.main(["fetch", "voteview", "--congress", "116", "--chamber", "senate", "--quiet"]) == 0
    assert landing_names(root) == ["S116_members.csv", "S116_votes.csv"]
    sent = (site / "static" / "data" / "out" / "votes" / "S116_votes.csv").read_bytes()
    assert (root / "landing" / "S116_votes.csv").read_bytes() == sent


def test_missing_congress_is_a_clear_error_and_writes_nothing(root, server, capsys):
    code = cli.main(["fetch", "voteview", "--congress", "12", "--chamber", "house", "--base-url", server, "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "H012_members.csv: HTTP 404" in err
    assert landing_names(root) == []


def test_interrupted_download_never_lands(root, server, capsys):
    _Handler.truncate = frozenset({"S117_votes.csv"})
    code = cli.main(["fetch", "voteview", "--congress", "117", "--chamber", "senate", "--base-url", server, "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "S117_votes.csv" in err and "nothing was written to the landing area" in err
    assert landing_names(root) == []  # neither the partial votes nor its members, no temp files


def test_html_instead_of_csv_is_refused(root, site, server, capsys):
    (site / "static" / "data" / "out" / "members" / "S116_members.csv").write_text("<html>moved</html>\n")
    code = cli.main(["fetch", "voteview", "--congress", "116", "--chamber", "senate", "--base-url", server, "--quiet"])
    assert code == 2
    assert "not a Voteview members file" in capsys.readouterr().err
    assert landing_names(root) == []


def test_a_users_own_file_is_never_replaced_but_an_earlier_download_is(root, server, site, capsys):
    """The landing area is the users': a file there that fetch did not write stays, and
    nothing of the Congress is written; one fetch wrote is updated by the next."""
    mine = root / "landing" / "S117_votes.csv"
    mine.write_text("congress,chamber,rollnumber,icpsr,cast_code,prob\n117,Senate,1,1,1,1.0\n")
    mine_bytes = mine.read_bytes()
    fetch = ["fetch", "voteview", "--congress", "117", "--chamber", "senate", "--base-url", server, "--quiet"]
    assert cli.main(fetch) == 2
    err = capsys.readouterr().err
    assert f"error: {mine}: a file of this name is already in the landing area and was not written by this command" in err
    assert mine.read_bytes() == mine_bytes
    assert landing_names(root) == ["S117_votes.csv"]  # not even the members file

    mine.unlink()
    assert cli.main(fetch) == 0
    served = site / "static" / "data" / "out" / "votes" / "S117_votes.csv"
    served.write_bytes(served.read_bytes().replace(b",1,", b",6,", 1))  # Voteview updates its file
    capsys.readouterr()
    assert cli.main(fetch) == 0
    statuses = {r["target"].rsplit("/", 1)[-1]: r["status"] for r in __import__("json").loads(capsys.readouterr().out)}
    assert statuses == {"S117_members.csv": "unchanged", "S117_votes.csv": "replaced"}
    assert (root / "landing" / "S117_votes.csv").read_bytes() == served.read_bytes()


def test_split_votes_by_roll_call_number(shared_voteview, tmp_path):
    votes = pd.read_csv(shared_voteview / "S118_votes.csv")
    batches = split_votes(votes, 3)
    assert sum(len(b) for b in batches) == len(votes)
    ranges = [(b["rollnumber"].min(), b["rollnumber"].max()) for b in batches]
    assert ranges[0][1] < ranges[1][0] and ranges[1][1] < ranges[2][0]
    counts = [b["rollnumber"].nunique() for b in batches]
    assert max(counts) - min(counts) <= 1

    code = cli.main([
        "split", "voteview", "--votes", str(shared_voteview / "S118_votes.csv"),
        "--members", str(shared_voteview / "S118_members.csv"), "--batches", "2", "--out", str(tmp_path / "b"),
    ])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "S118_members.csv", "S118_votes_batch1.csv", "S118_votes_batch2.csv",
    ]
    again = pd.concat([pd.read_csv(tmp_path / "b" / f"S118_votes_batch{i}.csv") for i in (1, 2)])
    pd.testing.assert_frame_equal(again.reset_index(drop=True), votes)
    with pytest.raises(ValueError, match="cannot split"):
        write_batches(shared_voteview / "S118_votes.csv", shared_voteview / "S118_members.csv", tmp_path / "c", 10**6)
