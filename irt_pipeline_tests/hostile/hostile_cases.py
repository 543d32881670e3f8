"""The hostile corpus: what a hostile (or careless) user can hand the pipeline, built
at test time from the shared 118th Senate files (no large file is committed), each
with the exact outcome it must have.

Every case is a function `build(ws) -> Outcome`: it lays out the case's files in the
workspace `ws` (source files under `ws.src`, outside the storage root; landing files
under `ws.landing`; for `baseline` cases the root and DAGSTER_HOME already hold a good
import and run of the 118th Senate) and returns the command and what the user must see.
Numbered cases are those of the hostile-input issue; the others are the usual suspects
(BOM, CRLF, Latin-1, zero bytes, header only, a truncated line, unknown columns,
path-like session keys, huge junk files).

Commands are `irt-pipeline` argument lists, or two stand-ins for what the UI does:
`["<sensor>"]` (one tick of the landing sensor) and `["<materialize>", asset]` (that
asset alone for the partition, as "Materialize selected" does).

Run as a script to write every case's files to a folder, to try them by hand:

    python irt_pipeline_tests/hostile/hostile_cases.py OUT [SHARED_VOTEVIEW_FOLDER]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # irt_pipeline_tests, run as a script too
from ui_server import SAMPLER_ENV  # noqa: E402 - the one test sampler

SESSION, CHAMBER = "118", "Senate"
VOTES, MEMBERS = "S118_votes.csv", "S118_members.csv"
PARQUET = f"{SESSION}_{CHAMBER}.parquet"  # what `import voteview` writes for S118
JUNK_BYTES = 64 << 20  # "huge": a 64 MiB file


@dataclass
class Workspace:
    """A case's folder: `src/` (source files, outside the storage root), `root/` (the
    storage root, with `landing/`), `dagster_home/`."""

    base: Path
    shared: Path  # the shared Voteview folder

    def __post_init__(self):
        self.src, self.root, self.home = (self.base / n for n in ("src", "root", "dagster_home"))
        self.landing = self.root / "landing"

    def lines(self, name: str) -> list[str]:
        """The lines of a shared file (no line ends)."""
        return (self.shared / name).read_text().splitlines()

    def write(self, path: Path, lines: list[str], ending: str = "\n", encoding: str = "utf-8") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ending.join(lines).encode(encoding) + ending.encode())
        return path

    def raw(self, name: str, data: bytes) -> Path:
        """A source file under src/ holding exactly `data`."""
        path = self.src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def source(self, name: str, lines: list[str] | None = None) -> Path:
        """A source file under src/: the shared file, or `lines`."""
        return self.write(self.src / name, self.lines(name) if lines is None else lines)

    def import_argv(self, votes: Path | None = None, members: Path | None = None, *extra: str) -> list[str]:
        return [
            "import", "voteview",
            "--votes", str(votes or self.source(VOTES)),
            "--members", str(members or self.source(MEMBERS)),
            *extra,
        ]


RUN = ["run", "--session", SESSION, "--chamber", CHAMBER]
IMPORTED = {f"landing/{PARQUET}", f"imports/{PARQUET}.json"}  # what importing S118 writes


@dataclass
class Outcome:
    argv: list[str]
    rc: int
    message: str | None  # the error line on stderr (`error: ...`), or a run's failure
    # Files under the root that may change (relative paths); everything else, every
    # landing file and every earlier output above all, must stay byte-identical.
    changes: set[str] = field(default_factory=set)
    check: Callable[[Workspace, dict], None] | None = None  # more assertions on the result
    fault: Callable[[object], None] | None = None  # installs a fault with a pytest MonkeyPatch
    prefix: bool = False  # `message` is only the start of what is printed


@dataclass(frozen=True)
class Case:
    name: str
    issue: int | None
    baseline: bool
    build: Callable[[Workspace], Outcome]


CASES: dict[str, Case] = {}


def case(name: str, issue: int | None = None, baseline: bool = False):
    def register(build):
        CASES[name] = Case(name, issue, baseline, build)
        return build

    return register


def data_lines(lines: list[str], column: str, value: str) -> list[int]:
    """Indexes of the lines (after the header) whose `column` equals `value`."""
    at = lines[0].split(",").index(column)
    return [i for i, line in enumerate(lines) if i and line.split(",")[at] == value]


def set_field(line: str, index: int, value: str) -> str:
    parts = line.split(",")
    parts[index] = value
    return ",".join(parts)


def members_frame(ws: Workspace) -> pd.DataFrame:
    return pd.read_csv(ws.shared / MEMBERS)


# --- 2: the importers and the landing area -----------------------------------------


@case("import-over-a-users-file", issue=2)
def _(ws):
    ws.landing.mkdir(parents=True, exist_ok=True)
    rows = pd.DataFrame(
        {
            "session": SESSION, "chamber": CHAMBER, "roll_call_id": ["1", "1"], "legislator_id": ["a", "b"],
            "legislator_name": ["A", "B"], "party": ["Republican", "Democrat"], "vote": ["Yea", "Nay"],
        }
    )
    rows.to_parquet(ws.landing / PARQUET, index=False)  # the user's own file
    return Outcome(
        ws.import_argv(), 2,
        f"error: {ws.landing / PARQUET}: a file of this name is already in the landing area and was "
        "not written by this command (or was changed since it was): it is left as it is and nothing "
        "was written. Move or rename it (it is your data), or write under another name "
        "(`irt-pipeline import voteview --session ...` picks another session key), then run the "
        "command again",
    )


def _without_last_roll_call(ws) -> list[str]:
    lines = ws.lines(VOTES)
    last = max(int(line.split(",")[2]) for line in lines[1:])
    return [line for i, line in enumerate(lines) if i == 0 or int(line.split(",")[2]) != last]


def _disk_full_in_landing(monkeypatch) -> None:
    """Writing any file into the landing folder stops half-way: 'No space left on device'."""
    import errno

    from upath.implementations.local import PosixUPath

    real = PosixUPath.write_bytes

    def write_bytes(self, data):
        if self.parent.name == "landing":
            real(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(PosixUPath, "write_bytes", write_bytes)


@case("import-on-a-full-disk", issue=2, baseline=True)
def _(ws):
    # An update of the importer's own file (so it would be replaced), on a full disk.
    votes = ws.source(VOTES, _without_last_roll_call(ws))
    return Outcome(
        ws.import_argv(votes), 1,
        f"error: [Errno 28] could not write {ws.landing / PARQUET} (No space left on device); it was "
        "left as it was",
        fault=_disk_full_in_landing,
    )


@case("reimport-identical", issue=2, baseline=True)
def _(ws):
    def check(ws, printed):
        assert [w["status"] for w in printed["written"]] == ["unchanged"]

    return Outcome(ws.import_argv(), 0, None, check=check)


@case("reimport-updated-source", issue=2, baseline=True)
def _(ws):
    votes = ws.source(VOTES, _without_last_roll_call(ws))

    def check(ws, printed):
        assert [w["status"] for w in printed["written"]] == ["replaced"]
        rows = pd.read_parquet(ws.landing / PARQUET)
        assert rows["roll_call_id"].astype(int).max() == pd.read_csv(votes)["rollnumber"].max()

    return Outcome(ws.import_argv(votes), 0, None, changes=IMPORTED, check=check)


# --- 4, 9: cast codes -------------------------------------------------------------------


def _cast_codes(ws, replacements: dict[str, str]) -> tuple[list[str], list[int], str]:
    """The votes lines with the first line of each cast code in `replacements` changed,
    the changed line numbers (the header is line 1) and the value on the first of them."""
    lines = ws.lines(VOTES)
    at = lines[0].split(",").index("cast_code")
    changed = {}
    for old, new in replacements.items():
        i = data_lines(lines, "cast_code", old)[0]
        lines[i] = set_field(lines[i], at, new)
        changed[i + 1] = new
    first = min(changed)
    return lines, sorted(changed), changed[first]


def _not_whole(path, lines: list[int], value: str) -> str:
    many = f" ({len(lines)} such line(s), e.g. {lines})" if len(lines) > 1 else ""
    return f"{path}: line {lines[0]}: cast_code {value!r} is not a whole number{many}; Voteview writes codes and ids as integers"


@case("cast-code-fraction-import", issue=4)
def _(ws):
    lines, changed, first = _cast_codes(ws, {"1": "1.9", "6": "6.7"})
    votes = ws.source(VOTES, lines)
    return Outcome(ws.import_argv(votes), 2, "error: " + _not_whole(votes, changed, first))


@case("cast-code-fraction-run", issue=4)
def _(ws):
    lines, changed, first = _cast_codes(ws, {"1": "1.9", "6": "6.7"})
    votes = ws.write(ws.landing / VOTES, lines)
    shutil.copy(ws.shared / MEMBERS, ws.landing / MEMBERS)
    return Outcome(RUN, 1, "roll_calls: " + _not_whole(votes, changed, first))


@case("cast-code-letter-import", issue=9)
def _(ws):
    lines, changed, first = _cast_codes(ws, {"1": "Y"})
    votes = ws.source(VOTES, lines)
    return Outcome(ws.import_argv(votes), 2, "error: " + _not_whole(votes, changed, first))


@case("cast-code-letter-run", issue=9)
def _(ws):
    lines, changed, first = _cast_codes(ws, {"1": "Y"})
    votes = ws.write(ws.landing / VOTES, lines)
    shutil.copy(ws.shared / MEMBERS, ws.landing / MEMBERS)
    return Outcome(RUN, 1, "roll_calls: " + _not_whole(votes, changed, first))


# --- 5: a member listed twice ----------------------------------------------------------


@case("member-listed-twice-with-another-party", issue=5)
def _(ws):
    lines = ws.lines(MEMBERS)
    header = lines[0].split(",")
    at_party, at_icpsr = header.index("party_code"), header.index("icpsr")
    republicans = data_lines(lines, "party_code", "200")[:3]
    extra = [set_field(lines[i], at_party, "100") for i in republicans]  # three Republicans "become" Democrats
    members = ws.source(MEMBERS, lines + extra)
    first = min(republicans, key=lambda i: int(lines[i].split(",")[at_icpsr]))
    icpsr = int(lines[first].split(",")[at_icpsr])
    again = len(lines) + 1 + republicans.index(first)
    return Outcome(
        ws.import_argv(None, members), 2,
        f"error: {members}: icpsr {icpsr} is listed 2 times in the Senate with different party_code "
        f"values: 200 ({members}, line {first + 1}); 100 ({members}, line {again}) (3 member(s) like "
        "this); one member has one row per chamber: remove the wrong one",
    )


# --- 6, 7: canonical parquet --------------------------------------------------------------


@case("parquet-rows-for-other-partitions", issue=6, baseline=True)
def _(ws):
    rows = pd.read_parquet(ws.landing / PARQUET)
    half = len(rows) // 2
    rows.loc[rows.index[:half:2], "session"] = "117"
    rows.loc[rows.index[1:half:2], "chamber"] = "House"
    rows.to_parquet(ws.landing / PARQUET, index=False)  # the user's edit
    return Outcome(
        RUN, 1,
        f"roll_calls: {PARQUET}: {half} of {len(rows)} rows are not for session '118' and chamber "
        "Senate, which the file name says (row 1: session '117', chamber 'Senate'); give each "
        "(session, chamber) its own file, named for it",
    )


@case("parquet-and-csv-disagree-on-names", issue=7, baseline=True)
def _(ws):
    members = members_frame(ws)
    senators = members[members["chamber"] == "Senate"]
    renamed = senators.index[:3]
    members.loc[renamed, "bioname"] = members.loc[renamed, "bioname"].str.title()
    members.to_csv(ws.landing / MEMBERS, index=False)
    shutil.copy(ws.shared / VOTES, ws.landing / VOTES)
    first = min(renamed, key=lambda i: str(members.loc[i, "icpsr"]))  # ids are strings
    title, original = members.loc[first, "bioname"], members_frame(ws).loc[first, "bioname"]
    csvs = f"{MEMBERS}, {VOTES}"
    named = sorted([(original, PARQUET), (title, csvs)])
    return Outcome(
        RUN, 1,
        f"roll_calls: {PARQUET} and {csvs}: legislator {members.loc[first, 'icpsr']} has 2 different "
        f"legislator names: {named[0][0]!r} in {named[0][1]}; {named[1][0]!r} in {named[1][1]} (3 "
        "legislator(s) disagree); one legislator id has one name and one party in a partition: "
        "correct the file that is wrong",
    )


@case("parquet-unknown-column", baseline=True)
def _(ws):
    rows = pd.read_parquet(ws.landing / PARQUET).assign(district=1)
    rows.to_parquet(ws.landing / PARQUET, index=False)
    from irt_pipeline.contract import canonical_columns

    return Outcome(
        RUN, 1,
        f"roll_calls: {ws.landing / PARQUET}: unknown column(s) ['district']: a canonical parquet file "
        f"holds only the columns {canonical_columns()} (data_contracts/roll_call_schema.json); "
        "rename or drop them",
    )


# --- 8: symbolic links ----------------------------------------------------------------------


def _symlinks(ws) -> tuple[Path, Path]:
    outside = ws.base / "elsewhere"
    outside.mkdir(parents=True, exist_ok=True)
    shutil.copy(ws.shared / VOTES, outside / VOTES)
    shutil.copy(ws.shared / MEMBERS, outside / MEMBERS)
    ws.landing.mkdir(parents=True, exist_ok=True)
    for name in (VOTES, MEMBERS):
        (ws.landing / name).symlink_to(outside / name)
    return outside / VOTES, outside / MEMBERS


LINK_PROBLEM = (
    "is a symbolic link (to {target}): the pipeline reads only regular files in the landing "
    "area; copy the file (or folder) into landing/ instead"
)


@case("symlinks-sensor", issue=8)
def _(ws):
    votes, members = _symlinks(ws)
    folder = ws.base / "kansas-elsewhere"
    folder.mkdir()
    (ws.landing / "2019-2020").symlink_to(folder)

    def check(ws, result):
        listing = json.loads((ws.root / "quarantine" / "landing.json").read_text())["problems"]
        assert listing == [
            {"files": ["2019-2020"], "problem": LINK_PROBLEM.format(target=folder), "blocks": []},
            {"files": [MEMBERS], "problem": LINK_PROBLEM.format(target=members), "blocks": []},
            {"files": [VOTES], "problem": LINK_PROBLEM.format(target=votes), "blocks": []},
        ]
        assert result["runs"] == [] and result["new_sessions"] == []
        assert f"WARNING - landing: skipping {VOTES}: {LINK_PROBLEM.format(target=votes)}" in result["log"]

    return Outcome(
        ["<sensor>"], 0,
        "no new or changed landing files; 3 problem(s) listed in quarantine/landing.json",
        changes={"quarantine/landing.json"}, check=check,
    )


@case("symlinks-run", issue=8)
def _(ws):
    votes, members = _symlinks(ws)
    return Outcome(
        RUN, 2,
        f"error: session=118 chamber=Senate: no landing files for this partition under {ws.landing} "
        f"(not read: {MEMBERS} {LINK_PROBLEM.format(target=members)}; {VOTES} "
        f"{LINK_PROBLEM.format(target=votes)}): drop them there or `irt-pipeline import ...` first; "
        "nothing was run, and the session was not registered",
    )


# --- 10: corrupt stored outputs -------------------------------------------------------------


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


REBUILD = "rebuild it with `irt-pipeline run --session 118 --chamber Senate` (or materialize {asset} for this partition in the UI)"


def _corrupt_output(ws, asset: str, ext: str, keep: float, argv: list[str], rc: int, error: str, shown: str) -> Outcome:
    """Cut the stored `asset` output to `keep` of its bytes; `argv` must name the file,
    the reader's `error` and the command that rebuilds it."""
    path = ws.root / asset / CHAMBER / f"{SESSION}.{ext}"
    _truncate(path, keep)

    def check(ws, message):
        assert message.endswith(REBUILD.format(asset=asset)), message

    return Outcome(
        argv, rc,
        f"{shown}{path}: the stored {asset} output cannot be read (truncated, empty or not written by "
        f"this pipeline: {error}",
        prefix=True, check=check,
    )


@case("truncated-rankings", issue=10, baseline=True)
def _(ws):
    argv = ["rankings", "--session", SESSION, "--chamber", CHAMBER]
    return _corrupt_output(ws, "rankings", "parquet", 0.5, argv, 2, "ArrowInvalid: ", "error: ")


@case("empty-posterior", issue=10, baseline=True)
def _(ws):
    return _corrupt_output(ws, "posterior", "nc", 0.0, ["<materialize>", "rankings"], 1, "OSError: ", "")


@case("truncated-diagnostics", issue=10, baseline=True)
def _(ws):
    return _corrupt_output(ws, "diagnostics", "json", 0.6, ["<materialize>", "rankings"], 1, "JSONDecodeError: ", "")


# --- 12: sessions registered only with data --------------------------------------------------


@case("run-a-session-without-data", issue=12)
def _(ws):
    def check(ws, _):
        import dagster as dg

        with dg.DagsterInstance.from_config(str(ws.home)) as instance:
            assert instance.get_dynamic_partitions("session") == []

    return Outcome(
        ["run", "--session", "999", "--chamber", CHAMBER], 2,
        f"error: session=999 chamber=Senate: no landing files for this partition under {ws.landing}: "
        "drop them there or `irt-pipeline import ...` first; nothing was run, and the session was "
        "not registered",
        check=check,
    )


# --- 13: the Kansas scraper's old column name ------------------------------------------------


@case("kansas-old-slug-column", issue=13)
def _(ws):
    from kansas_fixture import write_biennium

    written = write_biennium(ws.src / "kansas")["regular"]
    expected = {
        kind: set(pd.read_csv(written[kind])["legislator_slug"]) for kind in ("votes", "legislators")
    }
    for kind in ("votes", "legislators"):
        frame = pd.read_csv(written[kind])
        frame.rename(columns={"legislator_slug": "slug"}).to_csv(written[kind], index=False)
    folder = written["votes"].parent

    def check(ws, printed):
        assert [w["file"] for w in printed["written"]] == [
            "2019-2020_House_88th_2019-2020.parquet", "2019-2020_Senate_88th_2019-2020.parquet",
        ]
        rows = pd.concat(pd.read_parquet(ws.landing / w["file"]) for w in printed["written"])
        assert set(rows["legislator_id"]) == expected["votes"] <= expected["legislators"]

    files = [f"2019-2020_{c}_88th_2019-2020.parquet" for c in ("House", "Senate")]
    return Outcome(
        ["import", "kansas", "--folder", str(folder)], 0, None,
        changes={p for f in files for p in (f"landing/{f}", f"imports/{f}.json")}, check=check,
    )


# --- 14: Voteview party codes ------------------------------------------------------------------


@case("voteview-party-codes", issue=14)
def _(ws):
    members = members_frame(ws)
    senators = members.index[members["chamber"] == "Senate"]
    codes = {senators[0]: 537, senators[1]: 370, senators[2]: 112, senators[3]: 328}
    for index, code in codes.items():
        members.loc[index, "party_code"] = code
    path = ws.src / MEMBERS
    path.parent.mkdir(parents=True, exist_ok=True)
    members.to_csv(path, index=False)
    expected = {str(members.loc[i, "icpsr"]): name for i, name in zip(codes, ["Farmer-Labor", "Progressive", "Conservative", "Independent"])}

    def check(ws, printed):
        rows = pd.read_parquet(ws.landing / PARQUET).drop_duplicates("legislator_id").set_index("legislator_id")
        assert {i: rows.loc[i, "party"] for i in expected} == expected
        assert not rows["party"].str.startswith("Party code").any()

    return Outcome(ws.import_argv(None, path), 0, None, changes=IMPORTED, check=check)


# --- encodings, line ends, empty and cut files ---------------------------------------------------


def _same_as_clean_import(ws, printed) -> None:
    """The landing file equals, byte for byte, what importing the clean shared files gives."""
    [written] = printed["written"]
    assert written["file"] == PARQUET and written["status"] == "written"
    assert written["sha256"] == CLEAN_IMPORT_SHA256[0], "differs from the import of the clean files"


CLEAN_IMPORT_SHA256: list[str] = []  # filled by the test harness from the baseline import


@case("utf8-byte-order-mark")
def _(ws):
    votes = ws.raw(VOTES, b"\xef\xbb\xbf" + (ws.shared / VOTES).read_bytes())
    members = ws.raw(MEMBERS, b"\xef\xbb\xbf" + (ws.shared / MEMBERS).read_bytes())
    return Outcome(ws.import_argv(votes, members), 0, None, changes=IMPORTED, check=_same_as_clean_import)


@case("crlf-line-ends")
def _(ws):
    votes = ws.write(ws.src / VOTES, ws.lines(VOTES), ending="\r\n")
    members = ws.write(ws.src / MEMBERS, ws.lines(MEMBERS), ending="\r\n")
    return Outcome(ws.import_argv(votes, members), 0, None, changes=IMPORTED, check=_same_as_clean_import)


@case("latin-1-members-file")
def _(ws):
    lines = ws.lines(MEMBERS)
    i = next(i for i in range(7, len(lines)) if "e" in lines[i][lines[i].index('"'):])
    name = lines[i].index('"')
    accent = lines[i].index("e", name)
    lines[i] = lines[i][:accent] + "\u00e9" + lines[i][accent + 1 :]  # an accent in the name, in Latin-1
    members = ws.write(ws.src / MEMBERS, lines, encoding="latin-1")
    return Outcome(ws.import_argv(None, members), 2, f"error: {members}: " + NOT_UTF8.format(byte="0xe9", line=i + 1))


@case("zero-byte-votes-file")
def _(ws):
    votes = ws.raw(VOTES, b"")
    return Outcome(ws.import_argv(votes), 2, f"error: {votes}: the Voteview votes file is empty")


@case("header-only-votes-file")
def _(ws):
    votes = ws.source(VOTES, ws.lines(VOTES)[:1])
    return Outcome(ws.import_argv(votes), 2, f"error: {votes}: the Voteview votes file has a header but no rows")


@case("truncated-last-line")
def _(ws):
    data = (ws.shared / VOTES).read_bytes().rstrip(b"\n")
    last = data.rsplit(b"\n", 1)[1]
    cut = data[: len(data) - len(last) + len(b",".join(last.split(b",")[:3])) + 3]  # mid-icpsr
    votes = ws.raw(VOTES, cut)
    line = cut.count(b"\n") + 1
    return Outcome(
        ws.import_argv(votes), 2,
        f"error: {votes}: line {line} has no cast_code value; a line cut short, e.g. by an interrupted "
        "copy, looks like this",
    )


@case("unknown-columns-in-csv")
def _(ws):
    lines = [f"{line},{'note' if i == 0 else 'x'}" for i, line in enumerate(ws.lines(VOTES))]
    votes = ws.source(VOTES, lines)
    return Outcome(ws.import_argv(votes), 0, None, changes=IMPORTED, check=_same_as_clean_import)


INVALID_KEY = (
    "invalid session key {key!r}: use letters, digits, '.' and '-' only (e.g. '117' or '2025-2026'); "
    "characters such as '|', ',', '/', '_' or spaces break partition keys or storage paths"
)
NOT_UTF8 = "not UTF-8 text: byte {byte} on line {line} (a file saved as Latin-1 or Windows-1252?); save it as UTF-8 and try again"


@case("path-like-session-key-import")
def _(ws):
    key = "../../etc"
    return Outcome(ws.import_argv(None, None, "--session", key), 2, "error: --session: " + INVALID_KEY.format(key=key))


@case("path-like-session-key-run")
def _(ws):
    key = "118/../117"
    return Outcome(
        ["run", "--session", key, "--chamber", CHAMBER], 2, "error: session key: " + INVALID_KEY.format(key=key)
    )


@case("huge-binary-junk-votes-file")
def _(ws):
    junk = np.random.default_rng(13).integers(0, 256, JUNK_BYTES, dtype=np.uint8).tobytes()
    votes = ws.raw(VOTES, b"\xff\xfe" + junk)  # a UTF-16 byte-order mark, then noise
    return Outcome(ws.import_argv(votes), 2, f"error: {votes}: " + NOT_UTF8.format(byte="0xff", line=1))


@case("huge-text-junk-votes-file")
def _(ws):
    line = b"lorem,ipsum,dolor,sit,amet\n"
    votes = ws.raw(VOTES, line * (JUNK_BYTES // len(line)))
    return Outcome(
        ws.import_argv(votes), 2,
        f"error: {votes}: the Voteview votes file lacks column(s) ['congress', 'chamber', 'rollnumber', "
        "'icpsr', 'cast_code'] (its header: 'lorem,ipsum,dolor,sit,amet')",
    )


def make_baseline(ws: Workspace, sampler: dict[str, str]) -> None:
    """The good state `baseline` cases start from: the 118th Senate imported and run."""
    from irt_pipeline import cli

    saved = dict(os.environ)
    os.environ.update({"IRT_PIPELINE_ROOT": str(ws.root), "DAGSTER_HOME": str(ws.home), **sampler})
    try:
        if cli.main(ws.import_argv()) != 0 or cli.main(RUN) != 0:
            raise SystemExit("the baseline import and run of the 118th Senate failed")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def write_all(out: Path, shared: Path) -> None:
    """Lay out every case's files under `out/<case>/` (baseline cases on a copy of
    `out/_baseline/`, one good import and run) and write `out/<case>/command.json`."""
    baseline = Workspace(out / "_baseline", shared)
    make_baseline(baseline, SAMPLER_ENV)
    for name, spec in CASES.items():
        ws = Workspace(out / name, shared)
        if spec.baseline:
            shutil.copytree(baseline.root, ws.root)
            shutil.copytree(baseline.home, ws.home)
        ws.landing.mkdir(parents=True, exist_ok=True)
        outcome = spec.build(ws)
        (ws.base / "command.json").write_text(
            json.dumps({"argv": outcome.argv, "rc": outcome.rc, "message": outcome.message,
                        "env": {"IRT_PIPELINE_ROOT": str(ws.root), "DAGSTER_HOME": str(ws.home)},
                        "issue": spec.issue}, indent=2)
        )
        print(f"{name}: {' '.join(outcome.argv)}")


if __name__ == "__main__":
    here = Path(__file__).resolve()
    default_shared = here.parents[3] / "shared" / "data" / "voteview"
    write_all(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else default_shared)
