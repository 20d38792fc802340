"""A fresh machine installs exactly what CI tested, and the build takes the project's metadata
without deprecation warnings (setuptools stops accepting `license = { text = ... }` after
2027-02-18)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DEV_LOCK = REPO / "requirements-dev.lock"
RUNTIME_LOCK = REPO / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)")


def pins(lock: Path) -> dict[str, str]:
    return {
        str(canonicalize_name(m.group(1))): m.group(2)
        for line in lock.read_text(encoding="utf-8").splitlines()
        if (m := _PIN.match(line))
    }


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    return data


def declared(*, extras: bool) -> list[Requirement]:
    table = project()["project"]
    assert isinstance(table, dict)
    names = list(table["dependencies"])
    if extras:
        names += table["optional-dependencies"]["dev"]
    return [Requirement(n) for n in names]


class TestLockFiles:
    def test_every_requirement_is_pinned_with_hashes(self) -> None:
        for lock in (DEV_LOCK, RUNTIME_LOCK):
            entries = re.split(r"\n(?=\S)", lock.read_text(encoding="utf-8"))
            packages = [e for e in entries if e and not e.startswith("#")]
            assert packages, lock.name
            for entry in packages:
                assert _PIN.match(entry), f"{lock.name}: not pinned: {entry.splitlines()[0]}"
                assert "--hash=sha256:" in entry, f"{lock.name}: no hash: {entry.splitlines()[0]}"

    def test_the_locks_hold_pyprojects_dependencies_within_their_ranges(self) -> None:
        for lock, extras in ((RUNTIME_LOCK, False), (DEV_LOCK, True)):
            pinned = pins(lock)
            for requirement in declared(extras=extras):
                name = canonicalize_name(requirement.name)
                assert name in pinned, f"{lock.name} lacks {name}"
                assert requirement.specifier.contains(pinned[name], prereleases=True), (
                    f"{lock.name}: {name}=={pinned[name]} is outside {requirement.specifier}"
                )

    def test_the_runtime_lock_is_the_dev_locks_versions(self) -> None:
        dev = pins(DEV_LOCK)
        assert {name: dev.get(name) for name in pins(RUNTIME_LOCK)} == pins(RUNTIME_LOCK)

    def test_the_build_backend_is_locked_too(self) -> None:
        pinned = pins(DEV_LOCK)
        build = project()["build-system"]
        assert isinstance(build, dict)
        for requirement in map(Requirement, build["requires"]):
            name = canonicalize_name(requirement.name)
            assert requirement.specifier.contains(pinned[name]), name

    def test_this_environment_has_the_locked_versions(self) -> None:
        """What these tests run on is what `make` installs on a fresh machine (a developer's
        own extra tools aside): run `make .venv/.installed` after the lock changed."""
        installed = {
            str(canonicalize_name(d.metadata["Name"])): d.version for d in metadata.distributions()
        }
        assert {name: installed.get(name) for name in pins(DEV_LOCK)} == pins(DEV_LOCK)

    def test_make_installs_from_the_lock_with_hashes(self) -> None:
        makefile = (REPO / "Makefile").read_text(encoding="utf-8")
        stamp = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
        assert "--require-hashes -r requirements-dev.lock" in stamp
        assert "--no-deps --no-build-isolation -e ." in stamp
        assert '".[dev]"' not in stamp


class TestLicense:
    def test_license_is_an_spdx_expression(self) -> None:
        table = project()["project"]
        assert isinstance(table, dict)
        assert table["license"] == "LicenseRef-Proprietary"

    def test_the_metadata_builds_without_a_deprecation_warning(self, tmp_path: Path) -> None:
        source = tmp_path / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(REPO / name, source / name)
        out = tmp_path / "out"
        out.mkdir()
        result = subprocess.run(  # noqa: S603 - this interpreter, the build backend
            [
                sys.executable,
                "-W",
                "error",
                "-c",
                "import sys; from setuptools import build_meta; "
                "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))",
                str(out),
            ],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        dist_info = out / result.stdout.strip().splitlines()[-1]
        text = (dist_info / "METADATA").read_text(encoding="utf-8")
        assert "License-Expression: LicenseRef-Proprietary" in text
