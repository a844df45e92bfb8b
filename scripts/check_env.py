"""Check that the development environment has everything the tests need, and name what is
missing. Run by scripts/setup.sh after every install (and on every run: it is cheap).

Every requirement of wasmtool and of its ``dev`` and ``wasi`` extras (pyproject.toml) must be
installed in a version the specifier allows, and every module the test suite imports must
import. Exit status 1 lists every problem at once.
"""

from __future__ import annotations

import importlib
import importlib.metadata
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


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in (*project["dependencies"], *extras.get("dev", ()), *extras.get("wasi", ()))]


def problems() -> list[str]:
    out: list[str] = []
    for req in requirements():
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
    return out


def main() -> int:
    found = problems()
    for line in found:
        print(f"setup: missing: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
