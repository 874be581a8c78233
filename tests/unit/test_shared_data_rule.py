"""Missing ``../shared`` test data fails the run in CI and skips elsewhere (tests/shared_data.py).

The RFC 6962 vector module is run in a pytest of its own, pointed at a folder that does not
exist, with and without the CI flags.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import DIR_ENV, REQUIRE_ENV, shared_dir, shared_missing

ROOT = Path(__file__).resolve().parents[2]
VECTOR_TESTS = "tests/unit/test_merkle_rfc6962_vectors.py"


def run_vectors(shared: Path, **flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", REQUIRE_ENV, DIR_ENV)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", VECTOR_TESTS, "-q", "-rfs", "-p", "no:cacheprovider",
         "-p", "no:randomly"],
        cwd=ROOT, env={**env, DIR_ENV: str(shared), **flags}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    "flags", [{REQUIRE_ENV: "1"}, {"CI": "true"}, {"CI": "1", REQUIRE_ENV: "0"}],
    ids=["LEDGER_TEST_REQUIRE_SHARED=1", "CI=true", "CI=1"],
)  # fmt: skip
def test_in_ci_missing_vectors_fail_the_run(tmp_path: Path, flags: dict[str, str]) -> None:
    done = run_vectors(tmp_path / "no-shared-here", **flags)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "5 failed" in done.stdout, done.stdout  # every test that reads the vectors
    assert "skipped" not in done.stdout, done.stdout
    assert "RFC 6962 vectors not found" in done.stdout


def test_elsewhere_missing_vectors_skip_with_the_reason(tmp_path: Path) -> None:
    done = run_vectors(tmp_path / "no-shared-here", CI="false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 skipped" in done.stdout and "failed" not in done.stdout, done.stdout
    assert "RFC 6962 vectors not found" in done.stdout


def test_with_the_vectors_present_ci_runs_every_case(tmp_path: Path) -> None:
    shared = shared_dir()
    if not (shared / "testdata" / "rfc6962").is_dir():
        shared_missing(f"RFC 6962 vectors not found under {shared}")
    done = run_vectors(shared, **{REQUIRE_ENV: "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" not in done.stdout and "failed" not in done.stdout, done.stdout
