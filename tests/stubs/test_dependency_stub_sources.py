"""Where the stubs that resolve names come from besides the bound package's public modules:
a private top-level package of the same wheel (pytest's ``_pytest``) and the locked
dependency closure (types from dependencies, docs/type-table.md)."""

from __future__ import annotations

from wasmtool.lock.model import LockedPackage
from wasmtool.ops.bind import dependency_closure
from wasmtool.stubs.discover import choose_stubs, private_typed_packages


def test_private_packages_with_a_complete_marker_join_for_resolution_only() -> None:
    listing = {
        "pytest/__init__.py": b"from _pytest.fixtures import fixture\n",
        "pytest/py.typed": b"",
        "_pytest/__init__.py": b"",
        "_pytest/fixtures.py": b"def fixture(name: str) -> str: ...\n",
        "_pytest/py.typed": b"",
        "_partial/__init__.py": b"",
        "_partial/py.typed": b"partial\n",
        "_untyped/__init__.py": b"",
        "py.py": b"",
    }
    assert private_typed_packages(listing, ("pytest", "py")) == ("_pytest",)
    choice = choose_stubs(dist="pytest", version="9", import_names=("pytest", "_pytest"), wheel=listing)
    assert {path for path, _ in choice.files.items()} >= {"_pytest/fixtures.py", "pytest/__init__.py"}
    assert "_pytest" not in choice.stubgen_packages   # complete: never sent to stubgen


def _pkg(name: str, *deps: str, wheel: bool = True) -> LockedPackage:
    return LockedPackage(name=name, version="1", target="native", dependencies=deps,
                         wheel_sha256="a" * 64 if wheel else "")


def test_the_dependency_closure_is_transitive_sorted_and_skips_what_has_no_wheel() -> None:
    locked = [_pkg("fastapi", "starlette", "Pydantic"), _pkg("starlette", "anyio"), _pkg("anyio", "idna"),
              _pkg("pydantic", "pydantic-core", "typing_extensions"), _pkg("pydantic-core", "typing-extensions"),
              _pkg("typing-extensions"), _pkg("idna", "fastapi"), _pkg("from-pyodide", wheel=False)]
    names = [p.name for p in dependency_closure(locked[0], locked)]
    assert names == ["anyio", "idna", "pydantic", "pydantic-core", "starlette", "typing-extensions"]
    assert dependency_closure(_pkg("solo", "from-pyodide", "not-locked"), locked) == []
