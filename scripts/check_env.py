"""Check that the development environment has everything the tests need, and name what is
missing. Run by scripts/setup.sh after every install (and on every run: it is cheap).

Every requirement of wasmtool and of its ``dev`` and ``wasi`` extras (pyproject.toml) must be
installed in a version the specifier allows, and every module the test suite imports must
import. Exit status 1 lists every problem at once.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent

#: Modules the tests import or run (beyond the requirements' own names).
MODULES = ("wasmtool", "wasmtool_runtime", "uv", "wasmtime", "componentize_py", "pytest",
           "pytest_timeout", "xdist", "hypothesis", "mypy", "matplotlib", "lark", "blake3", "pyodide_lock",
           "resolvelib", "typeshed_client", "filelock", "installer", "httpx", "tomlkit", "rich", "click")

#: Programs the requirements install next to the interpreter.
EXECUTABLES = ("wasm-tools", "componentize-py", "ruff", "wasmtool")

#: The tests' second CPython (tests/conftest.py OTHER_PYTHON): Debian's python3.11, with venv.
OTHER_PYTHON = Path("/usr/bin/python3.11")
OTHER_VERSION = (3, 11)


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in (*project["dependencies"], *extras.get("dev", ()), *extras.get("wasi", ()))]


def problems() -> list[str]:
    out: list[str] = []
    for req in requirements():
        if req.marker is not None and not req.marker.evaluate():
            continue    # not for this interpreter (backports.zstd before 3.14)
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{req.name}: not installed (required: {req})")
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            out.append(f"{req.name}: {version} installed, {req} required")
    for module in MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # any failure to import is a finding, named
            out.append(f"{module}: does not import ({type(exc).__name__}: {exc})")
    bindir = Path(sys.executable).parent
    out.extend(f"{name}: no executable {bindir / name}" for name in EXECUTABLES if not (bindir / name).is_file())
    out.extend(other_python_problems())
    return out


def other_python_problems() -> list[str]:
    """The second interpreter runs, is 3.11, has venv, and is not the one of .venv."""
    what = f"{OTHER_PYTHON} (Debian packages python3.11 and python3.11-venv; scripts/setup.sh installs them as root)"
    if not OTHER_PYTHON.is_file():
        return [f"{what}: not installed"]
    probe = "import sys, venv; print(sys.version_info[0], sys.version_info[1])"
    try:
        proc = subprocess.run([str(OTHER_PYTHON), "-c", probe], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"{what}: does not run ({exc})"]
    if proc.returncode != 0:
        return [f"{what}: does not run ({proc.stderr.strip()[-300:]})"]
    found = tuple(int(x) for x in proc.stdout.split())
    if found != OTHER_VERSION:
        return [f"{what}: is CPython {'.'.join(map(str, found))}, not 3.11"]
    if sys.version_info[:2] == OTHER_VERSION:
        return [f"{what}: .venv runs on 3.11 too; recreate it on CPython 3.12 (WASMTOOL_SETUP_PYTHON)"]
    return []


def main() -> int:
    found = problems()
    for line in found:
        print(f"setup: missing: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
