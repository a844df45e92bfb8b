"""The session runtimes of the WebAssembly targets (see :mod:`wasmtool.run.session`).

* ``wasi`` profiles: one :class:`~wasmtool.run.wasi.WasiComponentRuntime` per alias, over
  the component ``wasmtool install --target=<target>`` wrote to
  ``.mochi/<target>/<alias>/`` (``component.wasm``, ``build.json``, ``plan.json``) or, after
  a project install, over the project component ``.mochi/<target>/project-component/`` that
  the alias's ``component.json`` names: the aliases' runtimes share one instance of it
  (:class:`~wasmtool.run.wasi.ComponentInstance`), each calling its package's interfaces
  with its own handle table (handles are numbered per alias, as natively). Its
  compiled ``.cwasm`` sits beside the component, so a warm call does not compile. It is
  granted what ``mochi.lock`` records in ``[python-capabilities]`` for the distributions the
  component carries (``build.json``'s wheels: the bound package and its dependencies), no
  more (:func:`component_grants`); without a lock, nothing.
* ``pyodide`` profiles: ONE :class:`~wasmtool.run.pyodide.PyodideNodeRuntime` over the
  bundle in ``.mochi/<target>/`` (every alias's wrapper is in its ``mochi_bindings`` wheel),
  seen by each alias through :class:`PyodideAliasRuntime`, which calls
  ``python_wrap.<alias>.<pkg>_externs:<extern>`` and raises what the native runtimes raise
  (a Python exception raised inside Pyodide is the same
  :class:`~wasmtool.run.errors.RemotePythonError`; arguments that do not fit, an
  :class:`~wasmtool.run.errors.InvalidParamsError`), with values in the same encoding:
  handles are numbered per wrapper module, so per alias, and live as long as the process,
  so one table of calls can be compared across targets.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from wasmtool.project.capabilities import Grants
from wasmtool.run.errors import ComponentMissingError, RuntimeClosedError

if TYPE_CHECKING:
    from wasmtool.run.pyodide import PyodideNodeRuntime
    from wasmtool.run.wasi import ComponentInstance, WasiComponentRuntime

__all__ = ["ComponentMissingError", "PyodideAliasRuntime", "component_dir", "component_grants", "component_runtime",
           "exported_functions", "pyodide_bundle", "pyodide_runtime"]

#: What a call into Pyodide may take when the session sets no timeout (seconds).
DEFAULT_PYODIDE_CALL_TIMEOUT = 120.0


#: Instances of project components shared by the runtimes of their aliases (one CPython for
#: all of them), by component build, project and grants; an entry lives while a runtime uses it.
_SHARED: weakref.WeakValueDictionary[tuple[str, str, str, Grants], ComponentInstance] = (
    weakref.WeakValueDictionary())
_SHARED_LOCK = threading.Lock()


def component_dir(root: Path, target: str, alias: str) -> Path:
    """The folder of the component that serves ``alias``: the project component's when the
    alias's folder points to it (``component.json``, a project install), else the alias's own."""
    directory = root / ".mochi" / target / alias
    pointer = directory / "component.json"
    if not pointer.is_file():
        return directory
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["component"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ComponentMissingError(f"cannot read which component serves alias {alias!r}: {exc}",
                                    file=str(pointer), hint=f"run `wasmtool install --target={target}` again") from exc
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ComponentMissingError(f"alias {alias!r} names no component folder ({name!r})", file=str(pointer),
                                    hint=f"run `wasmtool install --target={target}` again")
    return root / ".mochi" / target / name


def component_runtime(root: Path, target: str, alias: str) -> WasiComponentRuntime:
    """The runtime of alias ``alias``'s component in ``.mochi/<target>/<alias>/`` (or of the
    project component serving it, whose instance the runtimes of all its aliases share: calls
    route to the alias's package by the package's plan), with the grants
    :func:`component_grants` gives it."""
    import dataclasses

    from wasmtool.run.wasi import ComponentInstance, WasiComponentRuntime
    from wasmtool.wit.build import BuiltComponent
    from wasmtool.wit.model import WitPlan

    directory = root / ".mochi" / target / alias
    comp_dir = component_dir(root, target, alias)
    for where in [directory / "plan.json", *(comp_dir / n for n in ("component.wasm", "build.json", "plan.json"))]:
        if not where.is_file():
            raise ComponentMissingError(
                f"no built component for alias {alias!r} ({where.name} is missing)", file=str(where),
                hint=f"run `wasmtool install --target={target}`")
    grantee, grants = component_grants(root, target, alias)
    built = BuiltComponent.load(comp_dir)
    if comp_dir == directory:
        return WasiComponentRuntime(built, grants=grants, root=root, grantee=grantee)
    try:
        plan = WitPlan.from_dict(json.loads((directory / "plan.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ComponentMissingError(f"cannot read the component plan: {exc}", file=str(directory / "plan.json"),
                                    hint=f"run `wasmtool install --target={target}` again") from exc
    key = (str(comp_dir.resolve()), built.input_hash, str(root.resolve()), grants)
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None or shared.users <= 0:
            shared = ComponentInstance(built, grants=grants, root=root)
            _SHARED[key] = shared
        return WasiComponentRuntime(dataclasses.replace(built, plan=plan), grantee=grantee, shared=shared)


def component_grants(root: Path, target: str, alias: str) -> tuple[str, Grants]:
    """``(package, grants)`` for alias ``alias``'s component: the union of the grants
    ``mochi.lock`` records for each distribution the component carries (one WASI instance
    runs them all, so a grant to one is a grant to the others; a project component carries
    every bound package's closure, so its grants are the project's), and the distribution the
    alias binds (named in a denial's hint). No lock, or nothing recorded: nothing granted."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    from wasmtool.lock.io import LOCK_NAME, read_lock

    build = component_dir(root, target, alias) / "build.json"
    try:
        wheels = json.loads(build.read_text(encoding="utf-8")).get("wheels", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise ComponentMissingError(f"cannot read the component's build record: {exc}", file=str(build),
                                    hint=f"run `wasmtool install --target={target}` again") from exc
    carried: set[str] = set()
    for wheel in wheels if isinstance(wheels, list) else []:
        try:
            carried.add(str(parse_wheel_filename(str(wheel))[0]))
        except InvalidWheelFilename:
            continue
    lock_path = root / LOCK_NAME
    if not lock_path.is_file():
        return "", Grants()
    lock = read_lock(lock_path)
    entry = next((p for p in lock.for_target(target) if p.alias == alias), None)
    grantee = str(canonicalize_name(entry.name)) if entry is not None else (
        alias if str(canonicalize_name(alias)) in carried else "")
    grants = Grants()
    for name, granted in lock.capabilities:
        if name in carried:
            grants = grants.union(granted)
    return grantee, grants


def exported_functions(root: Path, target: str, alias: str) -> frozenset[str] | None:
    """Extern names alias ``alias``'s installed component exports (None: it has no component,
    because none of its functions has a WIT form, or install has not run)."""
    from wasmtool.wit.model import WitPlan

    plan_file = root / ".mochi" / target / alias / "plan.json"
    if not plan_file.is_file():
        return None
    try:
        plan = WitPlan.from_dict(json.loads(plan_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ComponentMissingError(f"cannot read the component plan: {exc}", file=str(plan_file),
                                    hint=f"run `wasmtool install --target={target}` again") from exc
    return frozenset(fn.extern_name for _iface, fn in plan.functions())


def pyodide_bundle(root: Path, target: str) -> Path:
    """``.mochi/<target>/``, checked to hold a bundle."""
    bundle = root / ".mochi" / target
    if not (bundle / "bundle.json").is_file():
        raise ComponentMissingError(
            f"no Pyodide bundle for target {target!r}", file=str(bundle / "bundle.json"),
            hint=f"run `wasmtool install --target={target}`")
    return bundle


def pyodide_runtime(bundle: Path) -> PyodideNodeRuntime:
    from wasmtool.run.pyodide import PyodideNodeRuntime

    return PyodideNodeRuntime(bundle)


class PyodideAliasRuntime:
    """One alias's wrapper module inside a shared Pyodide process (a ``Runtime``)."""

    def __init__(self, node: PyodideNodeRuntime, module: str, *, default_timeout: float | None = None) -> None:
        self.node = node
        self.module = module
        self.default_timeout = default_timeout
        self._closed = False

    def call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        if self._closed:
            raise RuntimeClosedError(f"{method}: the runtime is closed")
        wait = timeout if timeout is not None else self.default_timeout
        # handles are numbered per module inside Pyodide, so per alias as natively
        return self.node.call_method(self.module, method, args, kwargs,
                                     timeout=wait if wait is not None else DEFAULT_PYODIDE_CALL_TIMEOUT)

    def close(self) -> None:
        """Forget the shared process (the session closes it)."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
