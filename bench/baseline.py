"""The baseline a comparison runs against ("now"): an older commit of this repository,
checked out and given a venv by the bench itself.

    python bench/baseline.py                  # prepare the default commit; print its folder
    python bench/baseline.py 5d99ca6          # another commit
    python bench/baseline.py --remove         # delete the default commit's folder

`tree(commit)` exports the commit's tracked files (`git archive <commit>`, unpacked by
tarfile: no git metadata, nothing registered in the repository) into
bench/out/baseline-<commit>/ (git-ignored), then creates `.venv` there (`python -m venv`
with the running interpreter, `pip install -e` of that folder: the commit's own
dependency pins, from pip's cache where it holds them) and marks it complete
(`.venv/.installed`). The folder is kept for the next run (the venv takes a few
minutes to build; with it the folder holds about 1.3 GB for d214495); `--remove`, or
deleting the folder, throws it away. The export is
unpacked into a temporary folder renamed into place, and the marker is written only
after pip succeeded, so an interrupted run leaves nothing a later one trusts; a lock
file lets one run at a time prepare a commit.
"""

from __future__ import annotations

import argparse
import fcntl
import shutil
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, REPO  # noqa: E402

# main before the round bench/RESULTS.md reports: its "now" rows were measured on it.
NOW_COMMIT = "d214495"


def resolve(commit: str) -> str:
    """The full hash of `commit` (a hash, tag or branch) in this repository."""
    proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"commit {commit!r} is not in {REPO}'s history (a shallow clone? git fetch --unshallow)")
    return proc.stdout.strip()


def folder(commit: str) -> Path:
    return OUT / f"baseline-{resolve(commit)[:12]}"


def python(tree: Path) -> Path:
    return tree / ".venv" / "bin" / "python"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def tree(commit: str = NOW_COMMIT, log=print) -> Path:
    """The folder holding `commit`'s files and its venv, prepared if missing."""
    full = resolve(commit)
    target = folder(full)
    with _locked(target.with_name(target.name + ".lock")):
        if (target / ".venv" / ".installed").exists():
            return target
        if not target.exists():
            log(f"# baseline {full[:7]}: exporting its files to {target}")
            with tempfile.TemporaryDirectory(dir=OUT, prefix=".baseline-") as tmp:
                archive = subprocess.Popen(["git", "-C", str(REPO), "archive", "--format=tar", full],
                                           stdout=subprocess.PIPE)
                with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
                    tar.extractall(Path(tmp) / "tree", filter="data")
                if archive.wait() != 0:
                    raise RuntimeError(f"git archive {full} failed")
                (Path(tmp) / "tree").rename(target)
        log(f"# baseline {full[:7]}: creating {target / '.venv'} (python -m venv, pip install -e)")
        shutil.rmtree(target / ".venv", ignore_errors=True)  # a half-made one
        subprocess.run([sys.executable, "-m", "venv", str(target / ".venv")], check=True)
        subprocess.run([str(python(target)), "-m", "pip", "install", "--quiet", "-e", str(target)], check=True)
        (target / ".venv" / ".installed").touch()
    return target


def remove(commit: str = NOW_COMMIT) -> Path:
    """Delete `commit`'s folder (and its venv)."""
    target = folder(commit)
    with _locked(target.with_name(target.name + ".lock")):
        shutil.rmtree(target, ignore_errors=True)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit", nargs="?", default=NOW_COMMIT)
    parser.add_argument("--remove", action="store_true", help="delete the commit's folder instead")
    args = parser.parse_args(argv)
    print(remove(args.commit) if args.remove else tree(args.commit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
