"""Generate the componentize-py 0.25 guest glue (``app.py``) for a :class:`WitPlan`.

componentize-py 0.25 generates ``wit_world.exports.<Interface>`` protocols (interface
label in PascalCase) with one method per function (label in snake_case, Python keywords
get a trailing ``_``), records as dataclasses and enums as ``enum.Enum`` classes in
``wit_world.exports.types``, and ``py-error`` (an imported interface) as
``wit_world.imports.types.PyError``. The app module must define a class of the same name
per exported interface.

Every generated method takes ``*args`` (positional, in WIT order), converts them to the
wrapper's calling convention (:mod:`wasmtool.wit.values`, bundled as
``wasmtool_wit_values``), calls the ``<pkg>_externs`` function, converts the result back,
and turns ANY exception into ``Err(PyError(kind, message, traceback))``: an uncaught
exception would trap the instance.

Everything is imported at module top level: the guest holds only modules imported at
build time (docs/wasi.md, "Modules a component carries").
``preimport`` (:func:`wasmtool.wit.preimport.carried_modules`:
every module of the bundled wheels and what they reach in the standard library) lists what
the component carries; the glue imports each of them once and keeps the error of each one
that fails (a Windows-only module, say) instead of stopping.

With ``selfcheck``, the glue also implements :data:`SELFCHECK_INTERFACE`: ``check()`` imports
every carried module again and returns ``(module, "build" | "run", error)`` for each failure
(install and ``lock --smoke`` call it; a module that imported at build time and fails at run
time means the component does not carry what it claims).

The guest has no file system holding the wheels at run time, so ``importlib.metadata``
(``attrs.__version__``, entry points) would find no distribution. ``dist_metadata`` (the
small ``*.dist-info`` text files of the bundled wheels) is embedded and served by a
``sys.meta_path`` finder that only answers ``find_distributions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .carry import CARRY_MODULE
from .model import WitPlan
from .names import py_class_name, py_ident

__all__ = ["APP_MODULE", "SELFCHECK_INTERFACE", "SELFCHECK_WIT", "VALUES_MODULE", "render_app", "render_probe_app",
           "values_module_source"]

APP_MODULE = "app"
VALUES_MODULE = "wasmtool_wit_values"
#: The interface every component built by wasmtool also exports: a check that imports every
#: module the component carries and reports each failure (run by install and ``lock --smoke``).
SELFCHECK_INTERFACE = "wasmtool-selfcheck"
SELFCHECK_CLASS = "WasmtoolSelfcheck"
#: The world of a probe component (``lock --smoke``): the self-check alone.
SELFCHECK_WORLD = "wasmtool-probe"
SELFCHECK_WIT = f"""interface {SELFCHECK_INTERFACE} {{
  /// Every carried module that does not import: (module, "build" when it already failed
  /// while the component was built, else "run", the Python error).
  check: func() -> list<tuple<string, string, string>>;
}}
"""


def values_module_source() -> str:
    """The text of :mod:`wasmtool.wit.values`, bundled into the guest."""
    return (Path(__file__).with_name("values.py")).read_text(encoding="utf-8")


def _literal(value: object) -> str:
    """A deterministic Python literal (JSON is valid Python for these tables once
    ``true``/``false``/``null`` are mapped)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ": "))
    return f"_json.loads({text!r})"


def _resource_class(label: str) -> str:
    """componentize-py finds the implementation of an exported resource by its class name
    in the app module (the PascalCase label)."""
    return py_class_name(label)


def _preimport_lines(preimport: Sequence[str]) -> list[str]:
    return [
        "import importlib as _importlib",
        "",
        f"import {CARRY_MODULE} as _carry",
        "",
        "# Every module the component carries (every module of the bundled wheels, what they and",
        "# the wrapper reach in the standard library, the encodings package): a componentize-py",
        "# guest holds only what is imported at build time. A failure is kept for the self-check.",
        f"_PREIMPORT = {_literal(sorted(set(preimport)))}",
        "_PREIMPORT_FAILED = {}",
        "",
        "",
        "def _import_error(exc):",
        "    try:",
        "        return type(exc).__name__ + ': ' + str(exc)",
        "    except BaseException:  # noqa: BLE001",
        "        return type(exc).__name__",
        "",
        "",
        "# The standard-library modules stored compressed (wasmtool_carry) are imported on first use.",
        "_CARRIED = _carry.install()",
        "for _name in _PREIMPORT:",
        "    if _name in _CARRIED:",
        "        continue",
        "    try:",
        "        _importlib.import_module(_name)",
        "    except BaseException as _exc:  # noqa: BLE001 - e.g. a module for another platform",
        "        _PREIMPORT_FAILED[_name] = _import_error(_exc)",
        "_carry.seal()",
        "",
    ]


def _selfcheck_lines() -> list[str]:
    return [
        "",
        f"class {SELFCHECK_CLASS}(_exports.{SELFCHECK_CLASS}):",
        '    """Import every carried module again: (module, \'build\' | \'run\', error) per failure."""',
        "",
        "    def check(self):",
        "        failed = []",
        "        for name in _PREIMPORT:",
        "            if name in _PREIMPORT_FAILED:",
        "                failed.append((name, 'build', _PREIMPORT_FAILED[name]))",
        "                continue",
        "            try:",
        "                _importlib.import_module(name)",
        "            except BaseException as exc:  # noqa: BLE001 - reported, never a trap",
        "                phase = _carry.phase(name, exc, _PREIMPORT_FAILED) if name in _CARRIED else 'run'",
        "                failed.append((name, phase, _import_error(exc)))",
        "        return failed",
        "",
        "",
    ]


def render_probe_app(*, preimport: Sequence[str],
                     dist_metadata: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The guest of a probe component: the carried modules and the self-check, no wrapper
    (what ``lock --smoke`` builds from the locked wheels alone)."""
    out = [
        "# Generated by wasmtool: the self-check probe of a wasi-p2 lock. Do not edit.",
        "import json as _json",
        "",
        "import wit_world as _wit_world  # noqa: F401",
        "from wit_world import exports as _exports",
        "",
        *_metadata_lines(dist_metadata),
        *_preimport_lines(preimport),
        *_selfcheck_lines(),
    ]
    return "\n".join(out).rstrip("\n") + "\n"


def _metadata_lines(dist_metadata: Mapping[str, Mapping[str, str]] | None) -> list[str]:
    if not dist_metadata:
        return []
    return [
        "import importlib.metadata as _metadata",
        "import re as _re",
        "import sys as _sys",
        "",
        "# The *.dist-info text files of the bundled wheels, for importlib.metadata.",
        f"_DISTS = {_literal({k: dict(v) for k, v in dist_metadata.items()})}",
        "",
        "",
        "class _EmbeddedDistribution(_metadata.Distribution):",
        "    def __init__(self, files):",
        "        self._files = files",
        "",
        "    def read_text(self, filename):",
        "        return self._files.get(str(filename))",
        "",
        "    def locate_file(self, path):",
        "        return path",
        "",
        "",
        "class _EmbeddedFinder:",
        "    @staticmethod",
        "    def find_spec(*_args, **_kwargs):",
        "        return None",
        "",
        "    @staticmethod",
        "    def find_distributions(context=_metadata.DistributionFinder.Context()):",
        "        wanted = context.name",
        "        key = None if wanted is None else _re.sub(r'[-_.]+', '_', wanted).lower()",
        "        for name in sorted(_DISTS):",
        "            if key is None or _re.sub(r'[-_.]+', '_', name).lower() == key:",
        "                yield _EmbeddedDistribution(_DISTS[name])",
        "",
        "",
        "_sys.meta_path.append(_EmbeddedFinder)",
        "",
    ]


def render_app(plan: WitPlan, *, externs_module: str, dist: str = "", dist_version: str = "",
               preimport: Sequence[str] = (), dist_metadata: Mapping[str, Mapping[str, str]] | None = None,
               selfcheck: bool = False) -> str:
    """The guest module ``app.py`` (same plan and module name, same bytes). ``selfcheck``:
    the world also exports :data:`SELFCHECK_INTERFACE` (the build adds it to the WIT)."""
    if not externs_module.isidentifier():
        raise ValueError(f"externs module {externs_module!r} is not a Python identifier")
    records, enums = plan.codec_tables()
    origin = f" from {dist} {dist_version}".rstrip() if dist else ""
    out: list[str] = [
        f"# Generated by wasmtool{origin} for wasi-p2 (componentize-py guest). Do not edit.",
        f'"""Exports of {plan.package_id}: calls into `{externs_module}`."""',
        "",
        "import json as _json",
        "import traceback as _traceback",
        "",
        "from componentize_py_types import Err as _Err",
        "",
        "import wit_world as _wit_world  # noqa: F401",
        "from wit_world import exports as _exports",
        "from wit_world.imports import types as _py_error_types",
    ]
    if plan.has_types:
        out.append("from wit_world.exports import types as _wit_types")
    out += [
        f"import {VALUES_MODULE} as _values",
        f"import {externs_module} as _externs",
        "",
    ]
    out += _metadata_lines(dist_metadata)
    if preimport or selfcheck:
        out += _preimport_lines(preimport)
    if selfcheck:
        out += _selfcheck_lines()
    out += [
        f"_RECORDS = {_literal(records)}",
        f"_ENUMS = {_literal(enums)}",
    ]
    rec_classes = ", ".join(f"{r.label!r}: _wit_types.{py_class_name(r.label)}" for r in plan.records)
    enum_classes = ", ".join(f"{e.label!r}: _wit_types.{py_class_name(e.label)}"
                             for e in plan.enums if e.value_kind == "string")
    res_classes = ", ".join(f"{r.name!r}: {_resource_class(r.label)}" for r in plan.resources)
    for res in plan.resources:
        out += [
            "",
            "",
            f"class {_resource_class(res.label)}(_wit_types.{py_class_name(res.label)}):",
            f'    """The resource `{res.label}`: a `{res.py or res.name}` object, kept as `.obj`."""',
            "",
            "    def __init__(self, obj):",
            "        self.obj = obj",
            "",
            "    def python_type(self):",
            "        return _values.python_type_name(type(self.obj))",
        ]
    if plan.resources:
        out += ["", ""]
    out += [
        f"_CODEC = _values.Codec(_RECORDS, _ENUMS, _values.BindingsAdapter({{{rec_classes}}}, {{{enum_classes}}}, "
        f"{{{res_classes}}}))",
        "",
        "",
        "def _py_error(exc):",
        "    try:",
        "        message = str(exc)",
        "    except BaseException:  # noqa: BLE001 - a broken __str__ must not trap the instance",
        "        message = '<unprintable ' + type(exc).__name__ + '>'",
        "    try:",
        "        tb = _traceback.format_exc()",
        "    except BaseException:  # noqa: BLE001",
        "        tb = ''",
        "    return _py_error_types.PyError(kind=_values.python_type_name(type(exc)), message=message,"
        " traceback=tb)",
        "",
        "",
        "def _call(fn, params, result, args):",
        "    try:",
        "        if len(args) != len(params):",
        "            raise TypeError('expected %d arguments, got %d' % (len(params), len(args)))",
        "        pos = []",
        "        kw = {}",
        "        for (name, kind, t), value in zip(params, args):",
        "            value = _CODEC.from_wit(t, value, name)",
        "            if kind == 'keyword_only':",
        "                kw[name] = value",
        "            else:",
        "                pos.append(value)",
        "        out = fn(*pos, **kw)",
        "        return None if result is None else _CODEC.to_wit(result, out, 'return')",
        "    except BaseException as exc:  # noqa: BLE001 - every exception becomes err(py-error)",
        "        raise _Err(_py_error(exc)) from None",
        "",
    ]
    specs: list[str] = []
    classes: list[str] = []
    if plan.has_types:
        classes += ["", f"class Types(_exports.{py_class_name('types')}):", "    pass", ""]
    for n, (_iface, fn) in enumerate(plan.functions()):
        params = [[p.name, p.kind, p.type.to_dict()] for p in fn.params]
        result = fn.result.to_dict() if fn.result is not None else None
        # resolved at import time: a missing wrapper function fails the build, not a call
        specs.append(f"_F{n} = (_externs.{fn.extern_name}, {_literal(params)}, {_literal(result)})")
    n = 0
    for iface in plan.interfaces:
        cls = py_class_name(iface.label)
        classes += ["", f"class {cls}(_exports.{cls}):", f'    """`{iface.module}`."""']
        for fn in iface.functions:
            classes += [
                "",
                f"    def {py_ident(fn.label)}(self, *args):",
                f"        return _call(*_F{n}, args)  # {fn.extern_name}",
            ]
            n += 1
        classes.append("")
    out[out.index("def _py_error(exc):") - 2:out.index("def _py_error(exc):") - 2] = [*specs, ""] if specs else []
    out += classes
    return "\n".join(out).rstrip("\n") + "\n"
