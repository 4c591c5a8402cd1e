"""Schemathesis against a live server: every documented operation, signed in and anonymous.

The checks are: no 5xx, every status and content type documented, every
JSON body valid against its schema. ``PUNT_FUZZ_EXAMPLES`` sets the cases
per operation (``make fuzz`` raises it); the default keeps ``make test``
to a few minutes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import PASSWORD, Api, ServerProcess

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = os.environ.get("PUNT_FUZZ_EXAMPLES", "5")
SEED = os.environ.get("PUNT_FUZZ_SEED", "20240115")
TIMEOUT = int(os.environ.get("PUNT_FUZZ_TIMEOUT", "600"))
# NOTE: with several workers, Hypothesis calls ast.parse from several threads,
# which CPython 3.11.7 can fail with "AST constructor recursion depth
# mismatch"; one worker avoids that.
WORKERS = os.environ.get("PUNT_FUZZ_WORKERS", "1")
ST = Path(sys.executable).with_name("st")

# Event streams never end by themselves, so a fuzzed request would only time
# out; tests/contract/test_bad_input.py sends them their malformed headers.
EXCLUDED_PATHS = "/events$"


def _run(server: ServerProcess, tmp_path: Path, env: dict[str, str], *extra: str) -> str:
    command = [
        str(ST), "run", f"{server.url}/schema/openapi.json", "--checks", CHECKS,
        "--exclude-path-regex", EXCLUDED_PATHS, "--max-examples", EXAMPLES, "--seed", SEED,
        "--generation-with-security-parameters", "false", "--no-color", "--workers", WORKERS,
        "--request-timeout", "20", "--report-dir", str(tmp_path / "report"), *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path,
                            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
                                 "PYTHONPATH": str(Path(__file__).parents[2]), **env})
    cases = re.search(r"(\d+) generated", result.stdout)
    print(f"schemathesis ran {cases.group(1) if cases else '?'} cases")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    return result.stdout


@pytest.fixture
def workspace(server: ServerProcess) -> Api:
    """A system admin with a project, a ticket and a label, so that ids in links resolve."""
    api = Api(server.url).register_and_login("fuzzer")
    project = api.create_project("FUZZ")
    api.create_ticket(project["key"], "First ticket")
    api.http.post(f"/api/projects/{project['key']}/labels", json={"name": "bug"}).raise_for_status()
    return api


@pytest.mark.timeout(TIMEOUT + 60)
def test_signed_in_operations_conform(server: ServerProcess, workspace: Api, tmp_path: Path) -> None:
    env = {"PUNT_FUZZ_BASE_URL": server.url, "PUNT_FUZZ_USER": "fuzzer", "PUNT_FUZZ_PASSWORD": PASSWORD}
    # Failed sign-ins would lock the fuzzing user out from this address; the
    # anonymous run below fuzzes sign-in instead.
    _run(server, tmp_path, env, "--exclude-path", "/api/auth/callback/credentials")


@pytest.mark.timeout(TIMEOUT + 60)
def test_anonymous_operations_conform(server: ServerProcess, workspace: Api, tmp_path: Path) -> None:
    _run(server, tmp_path, {"PUNT_FUZZ_USER": ""})
