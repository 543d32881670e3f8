"""deploy/environment.example, the environment every machine of a team gets: it sets
every variable deploy/dagster.yaml reads and the executor needs, holds no secret, and
its S3 setting lets a long-lived process see what other processes write."""

from __future__ import annotations

import subprocess
import sys

import yaml
from services import DEPLOY_CONFIG, REPO, S3_SHARED

EXAMPLE = REPO / "deploy" / "environment.example"


def example_variables() -> dict[str, str]:
    variables = {}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    return variables


def env_names(config) -> set[str]:
    """Every {env: NAME} in a parsed YAML document."""
    if isinstance(config, dict):
        if set(config) == {"env"}:
            return {config["env"]}
        return set().union(*(env_names(v) for v in config.values()))
    return set()


def test_the_example_sets_what_the_instance_and_the_executor_read_and_no_secret():
    variables = example_variables()
    read = env_names(yaml.safe_load(DEPLOY_CONFIG.read_text()))
    assert read == {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
    assert read | {"DAGSTER_HOME", "IRT_PIPELINE_EXECUTOR", "IRT_PIPELINE_BROKER_URL", "IRT_PIPELINE_ROOT"} <= set(
        variables
    )
    assert variables["IRT_PIPELINE_EXECUTOR"] == "celery"
    assert variables["IRT_PIPELINE_ROOT"].startswith("s3://")
    assert variables["DAGSTER_PG_PASSWORD"] == ""
    assert ":PASSWORD@" in variables["IRT_PIPELINE_BROKER_URL"]  # a placeholder
    assert "AWS_SECRET_ACCESS_KEY" not in variables
    assert {name: variables[name] for name in S3_SHARED} == S3_SHARED


SEES_OTHERS_FILES = """
import sys
import s3fs
endpoint = sys.argv[1]
options = dict(endpoint_url=endpoint, key="testing", secret="testing", skip_instance_cache=True)
reader, writer = s3fs.S3FileSystem(**options), s3fs.S3FileSystem(**options)
reader.pipe_file("shared-root/root/cache/posterior/a.nc", b"a")
reader.find("shared-root/root/cache")          # a listing, remembered by default
writer.pipe_file("shared-root/root/cache/posterior/b.nc", b"b")   # another client, as another process
print(reader.exists("shared-root/root/cache/posterior/b.nc"))
"""


def test_with_the_example_s3_setting_a_process_sees_files_others_wrote_after_it_listed(s3_server):
    s3_server.fs.mkdir("shared-root")

    def sees(env: dict) -> str:
        done = subprocess.run(
            [sys.executable, "-c", SEES_OTHERS_FILES, s3_server.endpoint], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    base = {"PATH": "/usr/bin:/bin"}
    assert sees(base) == "False"  # s3fs's listing cache hides it
    assert sees({**base, **S3_SHARED}) == "True"
