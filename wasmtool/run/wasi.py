"""Call the functions of a WASI Preview 2 component with wasmtime-py 50.

:class:`WasiComponentRuntime` implements :class:`~wasmtool.run.protocol.Runtime` for a
:class:`~wasmtool.wit.component.BuiltComponent`:

- ``method`` names a function the component exports, by its extern name
  (``tomli_loads``, as for every other runtime), by the Python target it wraps
  (``tomli:loads``, when only one function wraps it), or by its WIT path
  (``api#loads-json``: interface label, ``#``, function label).
- Arguments and results use the wrapper's calling convention (records as dicts by
  Python field name, tuples as ``{"t0": ..}``, bytes as ``list[int]``, enums as their
  values; :mod:`wasmtool.wit.values`). ``kwargs`` bind by Python parameter name; an
  omitted ``option`` parameter is ``None``.
- The component is instantiated lazily, with WASI Preview 2 linked and ALWAYS a
  ``WasiConfig`` on the store (without one the whole process aborts, recipes.md §7).
- The compiled code is kept as a ``.cwasm`` beside the component, keyed by the build's
  input hash, the wasmtime version and the engine configuration; a later runtime deserializes it (``load_path ==
  "deserialize"``) and falls back to a compile on any load error.
- A project component (one component serving every bound package) is called through one
  runtime per alias over the alias's own plan (its calls route to its package's interfaces,
  ``mochi:py-<dist>/<label>@<version>``); those runtimes share one
  :class:`ComponentInstance` (engine, compiled code, the one instance and its grants: one
  CPython), each with its own handle table, so handles are numbered per alias. A trap in any
  of them drops the shared instance; every runtime then forgets its handles.
- Least privilege (``grants``, :class:`~wasmtool.project.capabilities.Grants`, the union of
  the recorded ``[python-capabilities]`` of the distributions the component carries): each
  granted folder of the project (``root``) is preopened at ``/<folder>`` (the guest's working
  directory is ``/``, so project-relative paths name the same files as natively), read-only
  for ``fs-read`` and read-write for ``fs-write``; each granted environment variable is
  passed with the host's value when the host has it set; nothing else: no other folder, no
  other variable, no argv, no stdin, no network (wasmtime-py only offers the whole host
  network, so ``net`` grants are recorded and never given). wasmtime's WASI always provides
  clocks and random: those grants are recorded, not enforced. A folder that cannot be granted
  (missing, or leading out of the project through a link) raises
  :class:`~wasmtool.wit.errors.CapabilityGrantError` before anything is instantiated. No
  ``grants`` (a project without ``[python.capabilities]``) gives exactly that: nothing.
- ``err(py-error)`` raises :class:`~wasmtool.wit.errors.GuestPythonError` (a
  :class:`~wasmtool.run.errors.RemotePythonError`), or its subclass
  :class:`~wasmtool.wit.errors.CapabilityDeniedError` when the grants explain it (an
  ``OSError`` on a path outside every granted folder, a write refused in a read-only one, a
  ``KeyError`` from ``os.environ[...]`` for an ungranted variable:
  :func:`~wasmtool.project.capabilities.denial_of`); results are told apart by the
  function's WIT type (wasmtime-py returns them untagged when the ok and err types
  differ in Python). A trap raises :class:`~wasmtool.wit.errors.InstanceTrappedError`
  and the next call instantiates again; ``timeout`` uses epoch interruption and raises
  :class:`~wasmtool.wit.errors.WitCallTimeoutError`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from wasmtool.fsutil import atomic_write_bytes
from wasmtool.project.capabilities import Grants, check_grant_folders, denial_of, grant_folders
from wasmtool.run.codec import Handle, HandleTable
from wasmtool.run.errors import RuntimeClosedError
from wasmtool.wit.component import DEFAULT_ENGINE_CONFIG, BuiltComponent, cwasm_path_for, engine_key
from wasmtool.wit.errors import (
    CapabilityDeniedError,
    CapabilityGrantError,
    InstanceTrappedError,
    ToolMissingError,
    WitCallTimeoutError,
    WitError,
    WitMethodNotFoundError,
    WitValueError,
    guest_error,
    value_error,
)
from wasmtool.wit.model import WitFunction, WitInterface
from wasmtool.wit.values import Codec, WasmtimeAdapter, WitValueMismatch

__all__ = ["ComponentInstance", "LoadPath", "WasiComponentRuntime"]

log = logging.getLogger("wasmtool.run.wasi")

LoadPath = Literal["", "compile", "deserialize"]
_NO_DEADLINE = 1 << 62


@dataclass(frozen=True)
class _ResultClasses:
    """How to read one function's ``result<ok, err>`` value from wasmtime-py."""

    tagged: bool                  # ok and err share Python classes: values come as ``Variant``
    err: tuple[type, ...]         # otherwise an instance of these is the err case
    ok_is_unit: bool              # ``result<_, e>``: ``None`` is ok


def _result_classes(result_type: Any) -> _ResultClasses:
    ok_classes: set[type] = set()
    err_classes: set[type] = set()
    if result_type.ok is None:
        ok_classes.add(object)
    else:
        result_type.ok.add_classes(ok_classes)
    if result_type.err is None:
        err_classes.add(object)
    else:
        result_type.err.add_classes(err_classes)
    return _ResultClasses(bool(ok_classes & err_classes), tuple(err_classes), result_type.ok is None)


def _wasmtime() -> Any:
    try:
        import wasmtime
        import wasmtime.component
    except ImportError as exc:  # pragma: no cover - the wasi extra is missing
        raise ToolMissingError("wasmtime (the Python package)") from exc
    return wasmtime


class ComponentInstance:
    """A component's engine, compiled code and (lazily) its one instance, with the grants it
    runs under: what the runtimes of the aliases a project component serves share (one
    CPython for all of them). ``generation`` changes whenever the instance is created or
    dropped (a trap), so each runtime knows when its handles died."""

    def __init__(self, component: BuiltComponent, *, use_cwasm: bool = True, inherit_stdio: bool = False,
                 grants: Grants | None = None, root: Path | None = None) -> None:
        self.component = component
        self.grants = grants if grants is not None else Grants()
        self.root = root
        self.use_cwasm = use_cwasm
        self.inherit_stdio = inherit_stdio
        self.engine_config = DEFAULT_ENGINE_CONFIG
        self.load_path: LoadPath = ""
        self.cwasm_load_errors: list[str] = []
        self.instantiations = 0
        self.generation = 0
        self.users = 0                # open runtimes on this instance
        self.lock = threading.RLock()
        self.granted = False
        self.engine: Any = None
        self.compiled: Any = None
        self.linker: Any = None
        self.store: Any = None
        self.instance: Any = None

    def drop(self) -> None:
        self.store = self.instance = None
        self.generation += 1

    def release(self) -> None:
        """One runtime closed; the last one frees the instance and the engine."""
        with self.lock:
            self.users -= 1
            if self.users <= 0:
                self.drop()
                self.compiled = self.linker = self.engine = None


class WasiComponentRuntime:
    """Calls a built component's exports (see the module docstring). ``shared``: the instance
    of a project component other aliases' runtimes use too (default: one of its own)."""

    def __init__(self, component: BuiltComponent, *, use_cwasm: bool = True, inherit_stdio: bool = False,
                 grants: Grants | None = None, root: Path | None = None, grantee: str = "",
                 shared: ComponentInstance | None = None) -> None:
        self.component = component
        self._inst = shared if shared is not None else ComponentInstance(
            component, use_cwasm=use_cwasm, inherit_stdio=inherit_stdio, grants=grants, root=root)
        with self._inst.lock:
            self._inst.users += 1
        self.grants = self._inst.grants
        self.root = self._inst.root
        self.grantee = grantee    # the package named in a denial's hint (the one the component binds)
        self.plan = component.plan
        self._lock = self._inst.lock
        self._closed = False
        self._generation = self._inst.generation
        self._funcs: dict[str, Any] = {}
        self._handles = HandleTable()
        self._result_types: dict[str, _ResultClasses] = {}
        self._codec_cache: Codec | None = None
        self._by_name: dict[str, tuple[WitInterface, WitFunction]] = {}
        targets: dict[str, list[tuple[WitInterface, WitFunction]]] = {}
        for iface, fn in self.plan.functions():
            self._by_name[fn.extern_name] = (iface, fn)
            self._by_name[f"{iface.label}#{fn.label}"] = (iface, fn)
            targets.setdefault(fn.target, []).append((iface, fn))
        for target, items in targets.items():
            if len(items) == 1 and target not in self._by_name:
                self._by_name[target] = items[0]
        records, enums = self.plan.codec_tables()
        self._records, self._enums = records, enums

    # -- the (possibly shared) instance ----------------------------------------------------

    @property
    def use_cwasm(self) -> bool:
        return self._inst.use_cwasm

    @property
    def inherit_stdio(self) -> bool:
        return self._inst.inherit_stdio

    @property
    def engine_config(self) -> str:
        return self._inst.engine_config

    @property
    def load_path(self) -> LoadPath:
        return self._inst.load_path

    @property
    def cwasm_load_errors(self) -> list[str]:
        return self._inst.cwasm_load_errors

    @property
    def instantiations(self) -> int:
        return self._inst.instantiations

    @property
    def _instance(self) -> Any:
        return self._inst.instance

    @property
    def _store(self) -> Any:
        return self._inst.store

    @property
    def _engine(self) -> Any:
        return self._inst.engine

    def _sync(self) -> None:
        """Forget functions and handles of an instance that is gone (a trap, in any alias)."""
        if self._generation != self._inst.generation:
            self._generation = self._inst.generation
            self._funcs = {}
            self._handles = HandleTable()     # resources die with their instance

    # -- introspection -------------------------------------------------------------------

    @property
    def methods(self) -> list[str]:
        """Extern names of the exported functions."""
        return list(self.plan.exported)

    @property
    def cwasm_path(self) -> Any:
        return cwasm_path_for(self.component.path, engine_key(self.engine_config), self.component.input_hash)

    # -- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        inst = self._inst
        if inst.compiled is not None:
            return
        wt = _wasmtime()
        config = wt.Config()
        config.epoch_interruption = True
        inst.engine = wt.Engine(config)
        cwasm = self.cwasm_path
        comp = None
        if inst.use_cwasm and cwasm.is_file():
            try:
                comp = wt.component.Component.deserialize_file(inst.engine, str(cwasm))
                inst.load_path = "deserialize"
            except Exception as exc:  # a stale or foreign .cwasm: compile instead
                inst.cwasm_load_errors.append(str(exc))
                log.info("cannot load %s (%s); compiling", cwasm, exc)
                comp = None
        if comp is None:
            try:
                comp = wt.component.Component.from_file(inst.engine, str(self.component.path))
            except wt.WasmtimeError as exc:
                raise WitError(f"{self.component.path}: wasmtime cannot compile the component: {exc}") from exc
            inst.load_path = "compile"
            if inst.use_cwasm:
                try:
                    atomic_write_bytes(cwasm, bytes(comp.serialize()))
                except (OSError, wt.WasmtimeError) as exc:
                    log.warning("cannot write %s: %s", cwasm, exc)
        inst.compiled = comp
        linker = wt.component.Linker(inst.engine)
        linker.add_wasip2()
        inst.linker = linker

    def _check_grants(self) -> None:
        """The granted folders exist in the project and stay in it (checked once)."""
        if self._inst.granted:
            return
        folders = grant_folders(self.grants)
        if folders and self.root is None:
            raise CapabilityGrantError(f"{self.component.path}: folders are granted but no project root is given",
                                       package=self.grantee or None)
        problems = check_grant_folders(self.root, self.grants) if folders and self.root is not None else []
        if problems:
            raise CapabilityGrantError("cannot grant " + "; ".join(problems), package=self.grantee or None,
                                       field=f"python.capabilities.{self.grantee}" if self.grantee else None,
                                       hint="create the folder in the project, or change the grant and relock")
        self._inst.granted = True

    def _wasi_config(self, wt: Any) -> Any:
        """The component's WASI context: exactly the grants (see the module docstring)."""
        wasi = wt.WasiConfig()          # REQUIRED: without it wasmtime-py aborts the process
        if self.inherit_stdio:
            wasi.inherit_stdout()
            wasi.inherit_stderr()
        for g in grant_folders(self.grants):
            assert self.root is not None   # _check_grants
            try:
                wasi.preopen_dir(str((self.root / g.folder).resolve()), g.guest, g.writable)
            except wt.WasmtimeError as exc:
                raise CapabilityGrantError(f"cannot grant {g.folder}: {exc}", package=self.grantee or None) from exc
        env = [[name, os.environ[name]] for name in self.grants.env if name in os.environ]
        if env:
            wasi.env = env
        return wasi

    def _instantiate(self) -> None:
        self._check_grants()
        self._load()
        wt = _wasmtime()
        inst = self._inst
        store = wt.Store(inst.engine)
        store.set_wasi(self._wasi_config(wt))
        store.set_epoch_deadline(_NO_DEADLINE)
        try:
            instance = inst.linker.instantiate(store, inst.compiled)
        except (wt.WasmtimeError, wt.Trap) as exc:
            raise WitError(f"{self.component.path}: cannot instantiate: {exc}") from exc
        inst.store, inst.instance = store, instance
        inst.generation += 1
        inst.instantiations += 1
        self._sync()

    def _func(self, iface: WitInterface, fn: WitFunction) -> Any:
        key = f"{iface.label}#{fn.label}"
        func = self._funcs.get(key)
        if func is None:
            store, inst = self._store, self._instance
            iface_index = inst.get_export_index(store, self.plan.interface_id(iface.label))
            index = inst.get_export_index(store, fn.label, iface_index) if iface_index is not None else None
            func = inst.get_func(store, index) if index is not None else None
            if func is None:
                raise WitError(f"the component does not export {self.plan.interface_id(iface.label)}#{fn.label}")
            self._funcs[key] = func
        return func

    def _drop_instance(self) -> None:
        self._inst.drop()
        self._sync()

    def _to_resource(self, name: str, value: Any, path: str) -> Any:
        """A handle from an earlier call (``Handle(n)``, or the ``ResourceAny`` itself)."""
        wt = _wasmtime()
        if isinstance(value, Handle):
            try:
                value = self._handles.get(value.id)
            except ValueError:
                raise WitValueMismatch(f"no {name} handle {value.id} in this runtime (instances are "
                                       "re-created after a trap)", path) from None
        if not isinstance(value, wt.component.ResourceAny):
            raise WitValueMismatch(f"expected a {name} handle, got {type(value).__name__}", path)
        return value

    def _from_resource(self, name: str, value: Any) -> Handle:
        return Handle(self._handles.add(value))

    # -- calling -------------------------------------------------------------------------

    def _codec(self) -> Codec:
        if self._codec_cache is not None:
            return self._codec_cache
        wt = _wasmtime()
        adapter = WasmtimeAdapter(
            wt.component.Record,
            {r["label"]: [f["label"] for f in r["fields"]] for r in self._records.values()},
            {e["label"]: [c[0] for c in e["cases"]] for e in self._enums.values()},
            to_resource=self._to_resource, from_resource=self._from_resource,
        )
        self._codec_cache = Codec(self._records, self._enums, adapter)
        return self._codec_cache

    def _bind(self, method: str, fn: WitFunction, args: Sequence[Any],
              kwargs: Mapping[str, Any] | None) -> list[Any]:
        if len(args) > len(fn.params):
            raise WitValueError(f"takes {len(fn.params)} arguments, {len(args)} given", method=method)
        values: list[Any] = list(args)
        rest = dict(kwargs or {})
        for p in fn.params[len(args):]:
            if p.name in rest:
                values.append(rest.pop(p.name))
            elif p.type.kind == "option":
                values.append(None)
            else:
                raise WitValueError(f"missing argument {p.name!r}", method=method)
        if rest:
            raise WitValueError(f"unexpected keyword arguments {sorted(rest)}", method=method)
        codec = self._codec()
        try:
            return [codec.to_wit(p.type.to_dict(), v, p.name) for p, v in zip(fn.params, values, strict=True)]
        except WitValueMismatch as exc:
            raise value_error(str(exc), exc, method=method) from exc

    def call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """``method(*args, **kwargs)`` inside the component; see the module docstring."""
        if self._closed:
            raise RuntimeClosedError(f"{method}: the runtime is closed")
        found = self._by_name.get(method)
        if found is None:
            raise WitMethodNotFoundError(method, known=self.methods)
        iface, fn = found
        wt = _wasmtime()
        with self._lock:
            self._sync()
            params = self._bind(method, fn, args, kwargs)
            if self._instance is None:
                self._instantiate()
            func = self._func(iface, fn)
            store = self._store
            timer: threading.Timer | None = None
            if timeout is not None:
                store.set_epoch_deadline(1)
                timer = threading.Timer(max(timeout, 0.0), self._engine.increment_epoch)
                timer.daemon = True
                timer.start()
            try:
                raw = func(store, *params)
            except (wt.Trap, wt.WasmtimeError) as exc:
                self._drop_instance()
                text = str(exc) if not isinstance(exc, wt.Trap) else exc.message
                if timeout is not None and ("interrupt" in text or _is_interrupt(exc, wt)):
                    raise WitCallTimeoutError(method=method, timeout=timeout) from exc
                raise InstanceTrappedError(_trap_summary(exc, text), method=method) from exc
            except (TypeError, ValueError) as exc:   # wasmtime-py refused to lower a value
                raise WitValueError(f"cannot pass the arguments: {exc}", method=method) from exc
            finally:
                if timer is not None:
                    timer.cancel()
                    if self._store is not None:
                        self._store.set_epoch_deadline(_NO_DEADLINE)
            ok, payload = self._split_result(self._result_classes(iface, fn, func, store), raw)
        if not ok:
            kind, message = str(getattr(payload, "kind", "Exception")), str(getattr(payload, "message", ""))
            trace = str(getattr(payload, "traceback", ""))
            denial = denial_of(kind, message, trace, self.grants)
            if denial is not None:
                raise CapabilityDeniedError(kind, message, trace, method=method, capability=denial.capability,
                                            subject=denial.subject, package=self.grantee or "<package>",
                                            detail=denial.detail)
            raise guest_error(kind, message, trace, method=method)
        if fn.result is None:
            return None
        try:
            return self._codec().from_wit(fn.result.to_dict(), payload, "return")
        except (WitValueMismatch, LookupError, TypeError) as exc:
            raise value_error(f"cannot read the result: {exc}", exc, method=method) from exc

    def _result_classes(self, iface: WitInterface, fn: WitFunction, func: Any, store: Any) -> _ResultClasses:
        """The ok / err Python classes of ``fn``'s result type, asked of wasmtime once per
        function (the type lookup and class sets cost about 25 us a call otherwise)."""
        key = f"{iface.label}#{fn.label}"
        found = self._result_types.get(key)
        if found is None:
            found = self._result_types[key] = _result_classes(func.type(store).result)
        return found

    @staticmethod
    def _split_result(classes: _ResultClasses, raw: Any) -> tuple[bool, Any]:
        """``(is_ok, payload)`` of a ``result<T, py-error>`` value.

        wasmtime-py tags the value (``Variant``) only when the ok and err cases map to the same
        Python classes; otherwise it returns the bare payload, and only the classes of the
        err type can tell an err from an ok.
        """
        wt = _wasmtime()
        if classes.tagged:
            if not isinstance(raw, wt.component.Variant):
                raise WitError(f"expected a tagged result, got {type(raw).__name__}")
            return raw.tag == "ok", raw.payload
        if isinstance(raw, classes.err) and not (classes.ok_is_unit and raw is None):
            return False, raw
        return True, raw

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._funcs = {}
            self._handles = HandleTable()
            self._inst.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _is_interrupt(exc: BaseException, wt: Any) -> bool:
    code = getattr(exc, "trap_code", None)
    return code is not None and getattr(code, "name", "") == "INTERRUPT"


def _trap_summary(exc: BaseException, text: str) -> str:
    """One line: ``the guest exited with status 3`` / the trap's cause (``wasm trap: unreachable``)."""
    code = getattr(exc, "code", None)
    if isinstance(code, int) and type(exc).__name__ == "ExitTrap":
        return f"the guest exited with status {code}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "Caused by:" in lines:
        after = lines[lines.index("Caused by:") + 1:]
        if after:
            return f"trapped: {after[-1].lstrip('0123456789: ')}"
    return f"trapped: {lines[0]}" if lines else "trapped"
