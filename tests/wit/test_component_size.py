"""Smaller components: the standard-library modules a component carries but does not import
while it is built are stored compressed and imported on first use (wasmtool.wit.carry).

The unit tests run the guest module (wasmtool.wit.carry_guest) natively on a store written
by the host side; the component tests build the tomli test component and check that what
it stores compressed is carried, smaller than its sources, imports in the guest, and that
the component meets the size goal of the issue (at most 20 MB).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wasmtool.wit.build import BuiltComponent, run_selfcheck
from wasmtool.wit.carry import BLOB_FILE, CARRY_MODULE, StoredModule, pack, split_carried, unpack


def test_split_keeps_bundled_and_builtin_modules_for_build_time() -> None:
    files = {"email": ("email/__init__.py", b"x = 1\n"), "email.parser": ("email/parser.py", b"y = 2\n"),
             "json": ("json/__init__.py", b"z = 3\n")}
    split = split_carried(["email", "email.parser", "json", "_sre", "tomli", "tomli._parser"],
                          bundled_tops=["tomli", "json"],        # a wheel that shadows a standard-library name
                          is_stdlib_module=lambda n: n.split(".")[0] in {"email", "json", "_sre"},
                          stdlib_file=files.get)
    assert split.eager == ("_sre", "json", "tomli", "tomli._parser")
    assert [(m.name, m.is_package, m.path) for m in split.stored] == [
        ("email", True, "email/__init__.py"), ("email.parser", False, "email/parser.py")]


def test_pack_is_deterministic_and_compressed() -> None:
    mods = [StoredModule("b", False, "b.py", b"# c\n" + b"x = 'long text' * 3\n" * 200),
            StoredModule("a", True, "a/__init__.py", b"")]
    data = pack(mods)
    assert data == pack(list(reversed(mods)))
    got = unpack(data)
    assert list(got) == ["a", "b"]
    assert got["b"] == (False, "b.py", mods[0].source)
    assert len(data) < len(mods[0].source) // 4


@pytest.fixture
def guest_carry(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """A fresh copy of the guest module, as a component would load it, and its folder; the
    finder it installs is taken off ``sys.meta_path`` afterwards."""
    folder = tmp_path / "src"
    folder.mkdir()
    source = Path(__file__).parents[2] / "wasmtool" / "wit" / "carry_guest.py"
    (folder / f"{CARRY_MODULE}.py").write_bytes(source.read_bytes())
    spec = importlib.util.spec_from_file_location("_test_wasmtool_carry", folder / f"{CARRY_MODULE}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = list(sys.meta_path)
    names_before = set(sys.modules)
    try:
        yield module, folder
    finally:
        sys.meta_path[:] = before
        for name in set(sys.modules) - names_before:
            if name.startswith("zzcarried"):
                del sys.modules[name]


def test_guest_imports_stored_modules_on_first_use(guest_carry: tuple[ModuleType, Path]) -> None:
    carry, folder = guest_carry
    stored = [
        StoredModule("zzcarried", True, "zzcarried/__init__.py", b"VALUE = 1  # one\n"),
        StoredModule("zzcarried.sub", False, "zzcarried/sub.py",
                     b'"""Sub."""\nfrom . import helper\n\ndef twice(x):\n    return 2 * helper.ONE * x\n'),
        StoredModule("zzcarried.helper", False, "zzcarried/helper.py", b"ONE = 1\n"),
        StoredModule("zzcarried.needs_missing", False, "zzcarried/needs_missing.py", b"import zz_not_there\n"),
        StoredModule("zzcarried.broken", False, "zzcarried/broken.py", b"def f(:\n"),
    ]
    (folder / BLOB_FILE).write_bytes(pack(stored))
    names = carry.install(str(folder))
    assert names == {m.name for m in stored}
    carry.seal()
    (folder / BLOB_FILE).unlink()                  # at run time the file is gone: the bytes are in memory
    assert carry.carried() == names
    assert carry.stored_bytes() < sum(len(m.source) for m in stored) + 200
    assert "zzcarried.sub" not in sys.modules
    sub = importlib.import_module("zzcarried.sub")
    assert sub.twice(21) == 42 and sub.__doc__ == "Sub."
    assert str(sub.__file__).endswith("zzcarried/sub.py")
    assert importlib.import_module("zzcarried").VALUE == 1
    assert "def twice" in (carry.CarriedLoader.get_source("zzcarried.sub") or "")
    assert sub.__loader__ is carry.CarriedLoader
    # phases: a failure of the module's own is "build", a stored source that does not compile is "run"
    with pytest.raises(ModuleNotFoundError) as missing:
        importlib.import_module("zzcarried.needs_missing")
    assert carry.phase("zzcarried.needs_missing", missing.value, {}) == "build"
    with pytest.raises(ImportError) as broken:
        importlib.import_module("zzcarried.broken")
    assert carry.phase("zzcarried.broken", broken.value, {}) == "run"
    lost = ModuleNotFoundError("No module named 'zzcarried.helper'", name="zzcarried.helper")
    assert carry.phase("zzcarried.sub", lost, {}) == "run"


def test_guest_without_a_store_carries_nothing(guest_carry: tuple[ModuleType, Path]) -> None:
    carry, folder = guest_carry
    assert carry.install(str(folder)) == frozenset()
    carry.seal()
    assert carry.carried() == frozenset()


# --- the tomli test component (componentize-py + wasmtime) -------------------------------------

#: The issue's goal for the tomli component.
TOMLI_GOAL_BYTES = 20_000_000


@pytest.mark.slow
def test_tomli_component_stores_unimported_stdlib_modules_compressed(tomli_component: BuiltComponent) -> None:
    info = json.loads((tomli_component.directory / "build.json").read_text(encoding="utf-8"))
    assert info["size"] == tomli_component.path.stat().st_size
    report = json.loads((tomli_component.directory / "modules.json").read_text(encoding="utf-8"))
    store = unpack((tomli_component.directory / "src" / BLOB_FILE).read_bytes())
    assert info["stored_compressed_modules"] == len(store) > 0
    assert set(store) <= set(report["carried"])
    assert not any(name == "tomli" or name.startswith("tomli.") for name in store)   # the wheel's are imported
    assert "encodings.punycode" in store and "email.parser" in store
    raw = sum(len(source) for _pkg, _path, source in store.values())
    assert info["stored_compressed_bytes"] < raw / 3


@pytest.mark.slow
def test_stored_modules_import_in_the_guest(tomli_component: BuiltComponent) -> None:
    failures = run_selfcheck(tomli_component)
    assert all(phase == "build" for _m, phase, _e in failures)          # nothing lost
    failed = {m for m, _phase, _e in failures}
    store = unpack((tomli_component.directory / "src" / BLOB_FILE).read_bytes())
    assert {"encodings.punycode", "email.parser", "encodings.cp1250"} <= set(store) - failed
    # what fails is what the WASI CPython lacks, not the store
    assert all("No module named '_" in e or "cannot import name" in e for _m, _p, e in failures)


@pytest.mark.slow
def test_tomli_component_meets_the_size_goal(tomli_component: BuiltComponent) -> None:
    assert tomli_component.path.stat().st_size <= TOMLI_GOAL_BYTES
