"""scripts/demo as a new user runs it: a port setting, a busy port said plainly before the
sign-in banner (and before anything is loaded), and a rerun that signs no new tree head.

The script runs with the repository's .venv (the one running these tests, which scripts/test
makes), so that it installs nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import held_port, ledger_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "demo"
#: What only the sign-in banner prints.
BANNER = "Sign in as"


@pytest.fixture(scope="module", autouse=True)
def repository_venv() -> None:
    venv = ROOT / ".venv"
    if Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip(f"scripts/demo uses {venv}; these tests run from {sys.prefix}")
    marker = venv / ".installed-demo"
    if not marker.exists() or marker.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        marker.touch()  # the project is installed here: the tests run from it (editable)


def run_demo(tmp_path: Path, database_url: str, *args: str, timeout_s: float = 900,
             **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**ledger_env(database_url, LEDGER_SIGNING_KEY=str(tmp_path / "key.pem")), **env},
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip


@pytest.mark.parametrize("how", ["--port", "--port=", "LEDGER_DEMO_PORT", "PORT"])
def test_a_busy_port_is_said_plainly_before_the_banner_and_before_loading(
    tmp_path: Path, how: str
) -> None:
    database = tmp_path / "demo.sqlite3"
    url = f"sqlite:///{database}"
    with held_port() as port:  # (a script that went on to load and serve would time out)
        if how == "--port":
            result = run_demo(tmp_path, url, "--port", str(port), timeout_s=120)
        elif how == "--port=":
            result = run_demo(tmp_path, url, f"--port={port}", timeout_s=120)
        else:
            result = run_demo(tmp_path, url, timeout_s=120, **{how: str(port)})
    assert result.returncode == 2, result
    assert f"端口 {port} 已被占用" in result.stderr
    assert f"port {port} is already in use" in result.stderr
    assert "scripts/demo --port" in result.stderr and "LEDGER_DEMO_PORT=" in result.stderr
    assert BANNER not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not database.exists()  # it failed before loading anything


@pytest.mark.parametrize("port", ["abc", "0", "65536", "123456789012345678901"])
def test_a_port_that_is_no_port_is_refused(tmp_path: Path, port: str) -> None:
    database = tmp_path / "demo.sqlite3"
    result = run_demo(tmp_path, f"sqlite:///{database}", "--port", port, timeout_s=120)
    assert result.returncode == 2, result
    assert f'端口 "{port}" 无效' in result.stderr and f'port "{port}" is not valid' in result.stderr
    assert "Traceback" not in result.stderr and not database.exists()


def tree_heads(database_url: str, tmp_path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ledger"), "audit", "heads", "--json", "--limit", "1000"],
        env=ledger_env(database_url), capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    heads: list[dict[str, object]] = json.loads(result.stdout)
    return heads


@pytest.mark.slow
def test_running_the_demo_again_signs_no_new_identical_tree_head(
    database_url: str, tmp_path: Path
) -> None:
    first = run_demo(tmp_path, database_url, LEDGER_DEMO_NO_SERVE="1")
    assert first.returncode == 0, first.stderr[-3000:]
    heads = tree_heads(database_url, tmp_path)
    assert len(heads) == 1

    again = run_demo(tmp_path, database_url, LEDGER_DEMO_NO_SERVE="1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert tree_heads(database_url, tmp_path) == heads  # nothing signed...
    assert "nothing signed" in again.stdout
    assert "intact" in again.stdout  # ...and the log is still verified
    assert BANNER not in first.stdout + again.stdout  # LEDGER_DEMO_NO_SERVE=1 serves nothing
    assert os.path.exists(tmp_path / "key.pem")
