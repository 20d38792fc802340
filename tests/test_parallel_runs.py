"""`make test` runs pytest under pytest-xdist (`-n auto`): every worker must collect the same
tests in the same order, and CI's rules (no skips, the PostgreSQL and browser counts) must hold
with the workers' reports arriving at the controller."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter's pytest, fixed arguments
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SAMSYN_", "PYTEST_", "PYTHONHASHSEED"))
    }
    env.update(extra)
    return env


def test_collection_is_the_same_whatever_the_hash_seed() -> None:
    """xdist workers are separate interpreters with their own string hash seed: parameters
    taken from a set in iteration order give each worker a different order, and the run stops
    with "Different tests were collected"."""
    collected = []
    for seed in ("1", "2"):
        result = _pytest(
            ["-p", "no:xdist", "--collect-only", "-q", "tests"],
            cwd=REPO,
            env=_clean_env(PYTHONHASHSEED=seed),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        collected.append([line for line in result.stdout.splitlines() if "::" in line])
    assert len(collected[0]) > 1000
    assert collected[0] == collected[1]


SAMPLE = """
import pytest

def test_runs():
    pass

@pytest.mark.postgres
def test_on_postgres():
    pass

@pytest.mark.postgres
def test_postgres_missing():
    pytest.skip("PostgreSQL not configured")

@pytest.mark.browser
def test_browser_missing():
    pytest.skip("no Chromium")
"""
INI = """[pytest]
markers =
    postgres: needs PostgreSQL
    browser: needs Chromium
"""


def _run_sample(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    return _pytest(
        ["-n", "2", "-p", "tests.conftest", "-q", "-rfEs", "test_sample.py"],
        cwd=tmp_path,
        env=_clean_env(PYTHONPATH=str(REPO), **env),
    )


def test_under_xdist_ci_turns_every_skip_into_a_failure(tmp_path: Path) -> None:
    result = _run_sample(tmp_path, SAMSYN_REQUIRE_ALL_TESTS="1")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "2 failed, 2 passed" in out
    assert "SAMSYN_REQUIRE_ALL_TESTS=1 forbids skips" in out
    assert "PostgreSQL tests run: 2 (passed 1, failed 1, skipped 0)" in out
    assert "Browser tests run: 1 (passed 0, failed 1, skipped 0)" in out


def test_under_xdist_a_laptop_may_skip_and_the_counts_say_so(tmp_path: Path) -> None:
    result = _run_sample(tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "2 passed, 2 skipped" in out
    assert "PostgreSQL tests run: 1 (passed 1, failed 0, skipped 1)" in out
    assert "Browser tests run: 0 (passed 0, failed 0, skipped 1)" in out
