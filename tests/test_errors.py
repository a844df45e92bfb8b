"""The error hierarchy, checked over every module of wasmtool (wasmtool/errors.py's docstring).

* every exception class defined in wasmtool is a :class:`WasmtoolError`, except the
  internal control-flow exceptions listed in ``INTERNAL`` (each is caught and translated
  inside wasmtool, and never reaches a caller as itself);
* each error class names its own ``code`` and no two classes share one: a class that only
  renames another is an alias (``WorkerExited = WorkerExitedError``), so a code names
  exactly one class, and ``error_for_code``-style tables and the docs stay unambiguous;
* every code is inside the range of the module that defines it (``RANGES``); the root
  module also defines each domain's base and the errors in ``SHARED``, each inside the
  range of the domain it subclasses;
* every concrete error is defined in an ``errors.py`` module.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import wasmtool
from wasmtool.errors import WasmtoolError, iter_error_classes

#: Which codes each errors module may use (inclusive bounds).
RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "wasmtool.errors": ((0, 49),),
    "wasmtool.project.errors": ((50, 99), (660, 669)),
    "wasmtool.index.errors": ((100, 199),),
    "wasmtool.resolve.errors": ((200, 299),),
    "wasmtool.attest.errors": ((270, 289),),
    "wasmtool.cache.errors": ((300, 399), (970, 989)),   # 970-989: the OCI remote tier, push, pull
    "wasmtool.lock.errors": ((400, 449),),
    "wasmtool.install.errors": ((450, 499),),
    "wasmtool.stubs.errors": ((500, 599),),
    "wasmtool.typemap.errors": ((600, 619),),
    "wasmtool.synth.errors": ((620, 649), (670, 699)),
    "wasmtool.run.errors": ((700, 719), (770, 799)),
    "wasmtool.calls.errors": ((720, 769),),
    "wasmtool.targets.errors": ((800, 839),),
    "wasmtool.ops.errors": ((820, 839),),
    "wasmtool.bundle.errors": ((840, 869), (650, 659)),
    "wasmtool.wit.errors": ((870, 899),),
    "wasmtool.publish.errors": ((900, 999),),
    "wasmtool.audit.errors": ((950, 969),),
}

#: Errors the root module defines outside WT000-WT049 because two subpackages that may not
#: import each other raise them; each must lie in the range of the domain base it subclasses.
SHARED = {
    "HashMismatchError": "the cache and Pyodide bundles (bundle.errors.WheelHashMismatchError subclasses it)",
    "WheelMetadataError": "resolve (wheel summaries) and bundle (Pyodide bundles)",
}

#: Internal control-flow exceptions: raised and caught inside wasmtool, never seen by callers.
INTERNAL = {
    "wasmtool.cache._locks.LockTimeout": "cache.store turns it into CacheLockTimeoutError (WT307)",
    "wasmtool.typemap.table._Skip": "the mapper turns it into a SkipReport value, not an error",
    "wasmtool.wit.model._Unrepresentable": "plan_surface turns it into a skipped function",
    "wasmtool.run.inprocess._Timeout": "InProcessRuntime turns it into CallTimeoutError (WT728)",
    "wasmtool.bundle.serve._Stop": "the SIGTERM handler raises it to leave serve_forever; serve returns normally",
    "wasmtool.wit.values.WitValueMismatch": (
        "stdlib-only module copied into every component; the host turns it into WitValueError (WT876)"),
    "wasmtool.wit.values.DynamicValueLimit": (
        "stdlib-only module copied into every component; the host turns it into DynamicValueLimitError (WT890)"),
}

_CODE = re.compile(r"WT(\d{3})")


def _modules() -> list[ModuleType]:
    found = [wasmtool]
    for info in pkgutil.walk_packages(wasmtool.__path__, "wasmtool."):
        found.append(importlib.import_module(info.name))
    return found


MODULES = _modules()


def _is_ours(cls: type) -> bool:
    return cls.__module__ == "wasmtool" or cls.__module__.startswith("wasmtool.")


def _exception_classes() -> set[type[BaseException]]:
    """Every exception class defined in a wasmtool module (nested classes included)."""
    found: set[type[BaseException]] = set()

    def visit(namespace: object) -> None:
        for value in vars(namespace).values():
            if (inspect.isclass(value) and issubclass(value, BaseException) and _is_ours(value)
                    and value not in found):
                found.add(value)
                visit(value)

    for module in MODULES:
        visit(module)
    return found


def _error_classes() -> list[type[WasmtoolError]]:
    return sorted({cls for cls in iter_error_classes() if _is_ours(cls)}, key=lambda c: c.code)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _number(code: str) -> int:
    match = _CODE.fullmatch(code)
    assert match is not None, code
    return int(match.group(1))


def _in(ranges: tuple[tuple[int, int], ...], number: int) -> bool:
    return any(lo <= number <= hi for lo, hi in ranges)


def _domain_base(cls: type[WasmtoolError]) -> type[WasmtoolError]:
    """The direct subclass of WasmtoolError defined in wasmtool.errors that ``cls`` descends from first."""
    for base in cls.__mro__:
        if (isinstance(base, type) and issubclass(base, WasmtoolError) and WasmtoolError in base.__bases__
                and base.__module__ == "wasmtool.errors"):
            return base
    return WasmtoolError


def _range_of(number: int) -> str | None:
    for module, ranges in RANGES.items():
        if _in(ranges, number):
            return module
    return None


def test_the_walk_found_the_hierarchy() -> None:
    names = {_name(cls) for cls in _error_classes()}
    assert len(names) > 130
    assert {"wasmtool.run.errors.UnknownFunctionError", "wasmtool.bundle.errors.WheelHashMismatchError",
            "wasmtool.resolve.errors.NoTargetWheelError"} <= names


def test_every_exception_class_is_a_wasmtool_error() -> None:
    outside = sorted(_name(cls) for cls in _exception_classes()
                     if not issubclass(cls, WasmtoolError) and _name(cls) not in INTERNAL)
    assert outside == [], "exceptions outside the hierarchy (add to it, or to INTERNAL with why)"


def test_internal_exceptions_are_still_there() -> None:
    """A stale INTERNAL entry would hide nothing, but says something untrue."""
    names = {_name(cls) for cls in _exception_classes()}
    assert set(INTERNAL) <= names


def test_every_class_names_its_own_code() -> None:
    inherited = [_name(cls) for cls in _error_classes() if "code" not in vars(cls)]
    assert inherited == []


def test_codes_are_unique() -> None:
    by_code: dict[str, list[str]] = {}
    for cls in _error_classes():
        by_code.setdefault(cls.code, []).append(_name(cls))
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    assert shared == {}


@pytest.mark.parametrize("cls", _error_classes(), ids=_name)
def test_code_is_in_the_range_of_its_module(cls: type[WasmtoolError]) -> None:
    module = cls.__module__
    assert module in RANGES, f"{_name(cls)}: errors are defined in an errors.py listed in RANGES"
    number = _number(cls.code)
    if module == "wasmtool.errors":
        if cls is WasmtoolError or WasmtoolError in cls.__bases__ or _in(RANGES[module], number):
            return    # the root, a domain base (its range starts at its code), or WT000-WT049
        assert cls.__name__ in SHARED, f"{_name(cls)} {cls.code}: the root defines only shared errors outside WT0xx"
        base = _domain_base(cls)
        assert _range_of(_number(base.code)) == _range_of(number), (cls.code, base.code)
        return
    assert _in(RANGES[module], number), f"{_name(cls)}: {cls.code} is outside {module}'s range {RANGES[module]}"


def test_domain_bases_open_their_range() -> None:
    """Each domain base's code is the first of the range its errors module owns."""
    import wasmtool.errors as root

    bases = [cls for cls in vars(root).values()
             if inspect.isclass(cls) and issubclass(cls, WasmtoolError) and WasmtoolError in cls.__bases__]
    firsts = {ranges[0][0] for ranges in RANGES.values()}
    for base in bases:
        if base.__name__ == "ConfigError" or _in(RANGES["wasmtool.errors"], _number(base.code)):
            continue
        assert _number(base.code) in firsts, base


def test_every_error_is_defined_in_an_errors_module() -> None:
    elsewhere = sorted(_name(cls) for cls in _error_classes()
                       if cls.__module__ != "wasmtool.errors" and not cls.__module__.endswith(".errors"))
    assert elsewhere == []


def test_docstring_tree_matches_the_root_classes() -> None:
    """Every class of wasmtool.errors appears in its docstring with its code."""
    import wasmtool.errors as root

    doc = root.__doc__ or ""
    for cls in vars(root).values():
        if inspect.isclass(cls) and issubclass(cls, WasmtoolError) and cls.__module__ == root.__name__:
            assert re.search(rf"\b{re.escape(cls.__name__)}\b.*\b{cls.code}\b", doc), cls


def test_old_import_paths_still_work() -> None:
    from wasmtool.bundle.errors import WheelMetadataError as BundleWheelMetadataError
    from wasmtool.errors import HashMismatchError, WheelMetadataError
    from wasmtool.ops.bind import NotBoundError as BindNotBound
    from wasmtool.ops.lock import TargetNotLockableError as LockNotLockable
    from wasmtool.ops.pyodide_install import DistributionPackageError, SmokeTestError
    from wasmtool.ops.wasi_install import WasiInstallError
    from wasmtool.resolve.errors import WheelMetadataError as ResolveWheelMetadataError
    from wasmtool.run import errors as run_errors
    from wasmtool.run import session, wasm_session
    from wasmtool.synth.errors import NotBoundError
    from wasmtool.targets import errors as target_errors
    from wasmtool.targets.profile import ProfileError, UnknownProfileError

    assert BundleWheelMetadataError is ResolveWheelMetadataError is WheelMetadataError
    assert BindNotBound is NotBoundError and LockNotLockable is target_errors.TargetNotLockableError
    assert (ProfileError, UnknownProfileError) == (target_errors.ProfileError, target_errors.UnknownProfileError)
    assert {DistributionPackageError.code, SmokeTestError.code, WasiInstallError.code} == {"WT820", "WT821", "WT830"}
    for name in ("CallLineError", "CallsFailedError", "EmbeddedWorkspaceConflictError", "InterpreterMismatchError",
                 "ProjectVenvError", "SessionConfigError", "UnknownFunctionError", "UnsupportedTargetError",
                 "WorkspaceMissingError"):
        assert getattr(session, name) is getattr(run_errors, name) and name in session.__all__
    assert wasm_session.ComponentMissingError is run_errors.ComponentMissingError
    from wasmtool.bundle.errors import WheelHashMismatchError

    assert issubclass(WheelHashMismatchError, HashMismatchError)


def test_wheel_hash_mismatch_keeps_its_fields_and_message() -> None:
    from wasmtool.bundle.errors import WheelHashMismatchError, error_for_code

    err = WheelHashMismatchError(filename="a-1-py3-none-any.whl", expected="aa", actual="bb", package="a")
    assert (err.code, err.filename, err.expected, err.actual, err.algorithm, err.package) == (
        "WT842", "a-1-py3-none-any.whl", "aa", "bb", "sha256", "a")
    assert str(err).startswith("WT842 a: a-1-py3-none-any.whl: sha256 mismatch: expected aa, got bb\n  hint: ")
    assert "rebuild the bundle" in str(err)
    again = error_for_code("WT842", "x", file="w.whl", expected="aa", actual="bb")
    assert isinstance(again, WheelHashMismatchError) and again.filename == "w.whl"


@pytest.mark.parametrize(("argv", "field"), [
    (["run", "{tmp}/absent.jsonl"], "CALLS_FILE"),
    (["call", "a.f", "--args", "{{not json"], "--args"),
    (["call", "a.f", "--args", '{{"a": 1}}'], "--args"),
    (["call", "a.f", "--kwargs", "[1]"], "--kwargs"),
])
def test_cli_usage_errors_carry_their_code_and_the_banner(
        argv: list[str], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``call``/``run`` argument errors are coded WT002 (exit 2), after click's usage banner."""
    from wasmtool.cli.main import main

    code = main(["-C", str(tmp_path), *(arg.format(tmp=tmp_path) for arg in argv)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith(f"Usage: wasmtool {argv[0]} [OPTIONS]")
    assert f"Try 'wasmtool {argv[0]} --help' for help." in err
    assert "\nerror: WT002 " in err and f"{field}: " in err and "Traceback" not in err
