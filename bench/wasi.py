"""bench: the WASI Preview 2 runner (componentize-py + wasmtime-py), in one run.

(a) call overhead: one export of a real component called through
    ``wasmtool.run.wasi.WasiComponentRuntime.call`` (name lookup, argument binding and the
    value codec, the wasmtime call, telling ``ok`` from ``err(py-error)``, decoding the result)
    vs the peer, a raw wasmtime-py call of the same export on the same ``.cwasm``: its own
    ``Engine`` (the runner's ``DEFAULT_ENGINE_CONFIG``), ``Component.deserialize_file``, a
    ``Linker`` with WASI p2, a ``Store`` with a ``WasiConfig`` (without one wasmtime-py aborts
    the process) and no epoch deadline, the ``Func`` found once through the interface's export
    index, then ``func(store, arg)`` in the loop. ``post_return`` is not called: since the
    wasmtime 4x C API it is a deprecated no-op (``wasmtime_component_func_call`` does it), and
    the runner does not call it either. Target: runner / raw <= 1.5x (median seconds per call);
(b) cold build: ``wasmtool.wit.build.build_component`` into a fresh, empty cache folder
    (render + check the WIT, the guest glue, unpack the wheel, one componentize-py run), one
    sample by default; no peer and no target;
(c) warm start: from constructing ``WasiComponentRuntime(built)`` to the first call's result
    while the ``.cwasm`` exists (``load_path == "deserialize"``), vs the same with
    ``use_cwasm=False`` (``load_path == "compile"``: Cranelift compiles the ~40 MB component)
    as the peer; the raw wasmtime-py setup on the same ``.cwasm`` is recorded next to it.
    Target: deserialize <= 50 ms (median). In-process: wasmtime is already imported, the OS
    file cache is warm, a fresh interpreter would add its start and ``import wasmtime``;
(d) the peer eryx (``pyeryx``: CPython 3.14 in a WASI sandbox, packages pre-imported into a
    saved snapshot), given the same wheel file and the same call (``tomli.loads`` of the same
    document, its JSON text back): build (ours: (b) plus the first start that compiles and
    writes the ``.cwasm``; eryx: ``SandboxFactory(packages=[wheel], imports, setup_code)`` and
    ``save``, in a fresh interpreter whose ``TMPDIR`` is empty, since eryx keeps a first-use cache
    there), artefact size (our ``.cwasm``, which a new process loads, and ``component.wasm``; the
    eryx factory file), time from spawning a new interpreter to the first result (the runner on
    ``BuiltComponent.load(dir)`` vs ``SandboxFactory.load`` + ``create_sandbox`` + ``execute``),
    and per-call time in one process (the runner vs an eryx ``Session`` and ``Sandbox``). Needs
    the ``bench`` extra (``pip install -e '.[bench]'``); ``--no-eryx`` leaves (d) out.

The component is the tomli test component (tests/wit/surfaces.py ``tomli_surface()``, the
wrapper tests/wit/fixtures/tomli_ext/tomli_externs.py, the pinned tomli-2.5.0 wheel from
``WASMTOOL_TEST_WHEELS``, default tests/data/artefacts). The timed export is
``tomli_loads_json`` (``string -> result<string, py-error>``) on a one-line document, so that
the host-side work is a visible share of the call; ``tomli_scale`` (two floats in, one out,
no parsing in the guest) is recorded as the cheapest export. Runner and raw samples are
interleaved so that machine noise hits both alike.

Committed figures (2 cores, a quiet machine; bench/results/wasi.json): (a) tomli_loads_json:
runner 142.8 us vs raw 139.9 us per call, 1.02x (target 1.5x); the cheapest export,
tomli_scale (no parsing, so the runner's fixed cost per call shows most), 1.53x (1.07x in the
run before; an earlier run had 1.58x when the runner asked wasmtime-py for the function's
result type and rebuilt the ok/err class sets on every call, about 25 us, now computed once
per function); (c) 6.2 ms from construction to the first result with the ``.cwasm`` (raw
wasmtime-py 6.7 ms) vs 6.3 s compiling; (b) 11.4 s cold build, 9.0 s of it componentize-py
(the rest is mostly the guest's import closure, computed on a miss only).

(d) against eryx 0.11.0, same run (medians): build to a loadable artefact 18.0 s (11.4 s
build_component + first compile) vs eryx 16.7 s (one sample each; two runs on a loaded machine
had 117 s vs 127 s and 131 s vs 83 s); artefact 35.8 MB ``.cwasm`` (19.0 MB
``component.wasm``) vs a 46.8 MB factory file, plus 46.8 MB of runtime eryx caches once per
machine; new process to first result 259 ms vs 250 ms, eryx by 4%: 161 ms of ours is importing
``wasmtool.run.wasi`` and what it pulls in, while the wasmtime part (load the ``.cwasm``,
instantiate, call) takes 68 ms against eryx's 215 ms (load, create_sandbox, execute); per call
130 us vs 344 us for an eryx ``Session`` (minima 113 vs 296 us) and 2.4 ms for an eryx
``Sandbox.execute``.

    .venv/bin/python bench/wasi.py [--calls N] [--samples N] [--warm-runs N] [--compile-runs N]
                                   [--fresh-runs N] [--no-eryx] [--tree DIR]

``--tree DIR`` measures another wasmtool tree (e.g. ``git archive HEAD wasmtool tests wit | tar -x
-C DIR``) instead of this checkout; the results record which (``wasmtool_tree``).

Component sizes (``--sizes``, bench/results/wasi_sizes.json and .png): what a component
carries decides its size (the guest holds every module imported while it was built). One
component per case (:data:`SIZE_CASES`: the tomli test component, unidecode, idna, rich with
pygments), built into a fresh cache by a subprocess running either this tree ("after") or
the wasmtool tree given by ``--before-tree`` ("before", e.g. ``git archive HEAD wasmtool
tests | tar -x -C DIR`` of the commit before a change); the number of modules each carries
is recorded when the build reports it. Goal: the tomli component <= 20 MB.

Committed sizes (bench/results/wasi_sizes.json), before (every carried module imported at build
time) -> after (the standard-library modules nothing imports at build time stored
zlib-compressed and imported on first use, name sections stripped; the same modules carried):
tomli 28.6 -> 19.0 MB (353 modules), unidecode 28.4 -> 20.6 MB (541), idna 35.7 -> 30.0 MB
(358: its tables are the wheel's own modules), rich 50.1 -> 41.7 MB (877: every pygments lexer).
The tomli goal is met. The component stores the guest's memory after the build (for tomli a
12 MB data section, was 21 MB, beside 6 MB of interpreter code).

    .venv/bin/python bench/wasi.py --sizes [--before-tree DIR] [--cases tomli,unidecode]

Modules that do not import (``--modules``, bench/results/wasi_modules.json): one probe
component (``lock --smoke``'s) carrying every pure wheel of the corpus (:data:`CORPUS_WHEELS`),
its self-check, and each failing module imported natively too (a fresh interpreter with the
same wheels on ``sys.path``): the table in docs/wasi.md ("What cannot import on wasi-p2").

    .venv/bin/python bench/wasi.py --modules [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import ROOT, Panel, machine, per_call, summary, write_results

TOMLI_WHEEL = "tomli-2.5.0-py3-none-any.whl"
DOC = "a = 1"
CALLS: dict[str, list[Any]] = {"tomli_loads_json": [DOC], "tomli_scale": [1.25, -4.0]}
HEADLINE = "tomli_loads_json"
TARGET_RATIO = 1.5
TARGET_WARM_S = 0.050
_NO_DEADLINE = 1 << 62
SIZE_GOAL_MB = 20.0

#: The peer of (d): pyeryx (``eryx``), given the same wheel file. The snapshot pre-imports tomli and
#: defines the call, so that one call is one ``execute`` of a line, as close to our export as its API gets.
ERYX_DIST = "pyeryx"
ERYX_IMPORTS = ["json", "tomli"]
ERYX_SETUP = "import json\nimport tomli\n\n\ndef _call(s):\n    return json.dumps(tomli.loads(s))\n"
ERYX_CODE = f"result = _call({DOC!r})"
ERYX_SANDBOX_CALL_DIVISOR = 10   # Sandbox.execute costs milliseconds: calls/10 per sample

#: Run by (d) in a fresh interpreter: ``SandboxFactory`` from the wheel, then ``save``.
_ERYX_BUILD = """
import json, sys, time
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
import eryx
t1 = time.perf_counter()
factory = eryx.SandboxFactory(packages=[args["wheel"]], imports=args["imports"], setup_code=args["setup"])
t2 = time.perf_counter()
factory.save(args["out"])
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "factory_s": t2 - t1, "save_s": t3 - t2}))
"""

#: Run by (d) in a fresh interpreter: spawn -> first result with the saved factory / the ``.cwasm``.
#: ``argv[2]`` is the parent's ``time.time()`` just before the spawn (interpreter start included).
_ERYX_FIRST = """
import json, sys, time
args, spawned = json.loads(sys.argv[1]), float(sys.argv[2])
t0 = time.perf_counter()
import eryx
t1 = time.perf_counter()
factory = eryx.SandboxFactory.load(args["factory"])
t2 = time.perf_counter()
sandbox = factory.create_sandbox()
t3 = time.perf_counter()
out = sandbox.execute(args["code"]).result
t4 = time.perf_counter()
wall = time.time() - spawned
print(json.dumps({"wall_s": wall, "import_s": t1 - t0, "load_s": t2 - t1, "create_s": t3 - t2,
                  "call_s": t4 - t3, "result": out}))
"""
_WASMTOOL_FIRST = """
import json, sys, time
args, spawned = json.loads(sys.argv[1]), float(sys.argv[2])
t0 = time.perf_counter()
from pathlib import Path
from wasmtool.run.wasi import WasiComponentRuntime
from wasmtool.wit.component import BuiltComponent
t1 = time.perf_counter()
runtime = WasiComponentRuntime(BuiltComponent.load(Path(args["component"])))
out = runtime.call(args["method"], args["args"])
t2 = time.perf_counter()
wall = time.time() - spawned
print(json.dumps({"wall_s": wall, "import_s": t1 - t0, "start_and_call_s": t2 - t1, "result": out,
                  "load_path": runtime.load_path}))
"""

#: Size cases: name -> (wheels, externs module text, [(extern name, Python target)]) with
#: ``str -> str`` functions; "tomli" is the tomli test component (tests/wit/surfaces.py).
SIZE_CASES: dict[str, tuple[list[str], str, list[tuple[str, str]]]] = {
    "tomli": ([TOMLI_WHEEL], "", []),
    "unidecode": (["Unidecode-1.4.0-py3-none-any.whl"],
                  "import unidecode\n\ndef size_unidecode(s: str) -> str:\n    return unidecode.unidecode(s)\n",
                  [("size_unidecode", "unidecode:unidecode")]),
    "idna": (["idna-3.20-py3-none-any.whl"],
             "import idna\n\ndef size_idna(s: str) -> str:\n    return idna.decode(s)\n",
             [("size_idna", "idna:decode")]),
    "rich": (["rich-15.0.0-py3-none-any.whl", "pygments-2.21.0-py3-none-any.whl",
              "markdown_it_py-4.3.0-py3-none-any.whl", "mdurl-0.1.2-py3-none-any.whl"],
             "from rich.text import Text\n\ndef size_rich(s: str) -> str:\n    return Text.from_markup(s).plain\n",
             [("size_rich", "rich.text:Text.from_markup")]),
}

#: Run by ``--sizes`` in a subprocess whose ``sys.path`` starts with the tree measured.
_SIZE_PROBE = """
import json, sys
from pathlib import Path
from wasmtool.typemap.surface import Function, MappedSurface, Param, TypeRef
from wasmtool.wit.build import build_component
args = json.loads(sys.argv[1])
folder = Path(args["wheels_dir"])
if args["case"] == "tomli":
    from tests.wit.surfaces import TOMLI_EXTERNS_DIR, tomli_surface
    surface, externs = tomli_surface(), TOMLI_EXTERNS_DIR
else:
    externs = Path(args["work"]) / "externs"
    externs.mkdir(parents=True, exist_ok=True)
    (externs / "size_externs.py").write_text(args["externs"])
    s = TypeRef("str")
    surface = MappedSurface(dist=args["case"], version="1.0", alias="size", import_names=(args["case"],),
                            tier="inline", functions=tuple(Function(e, t, "function", (Param("s", "s", s,
                            "positional_or_keyword"),), s) for e, t in args["functions"]))
built = build_component(surface, externs_dir=externs, wheels=[folder / w for w in args["wheels"]],
                        cache_dir=Path(args["work"]) / "cache")
info = json.loads((built.directory / "build.json").read_text())
print(json.dumps({"size": built.path.stat().st_size, "seconds": info.get("seconds"),
                  "carried_modules": info.get("carried_modules")}))
"""


#: The pure-Python wheels of the corpus that have components (and their dependencies).
CORPUS_WHEELS = (
    "Unidecode-1.4.0-py3-none-any.whl", "anyio-4.16.0-py3-none-any.whl", "attrs-26.1.0-py3-none-any.whl",
    "certifi-2026.10.19.post1-py3-none-any.whl", "charset_normalizer-3.5.2-py3-none-any.whl",
    "click-8.5.1-py3-none-any.whl", "h11-0.16.0-py3-none-any.whl", "httpcore-1.0.9-py3-none-any.whl",
    "httpx-0.28.1-py3-none-any.whl", "idna-3.20-py3-none-any.whl", "markdown_it_py-4.3.0-py3-none-any.whl",
    "mdurl-0.1.2-py3-none-any.whl", "packaging-26.3-py3-none-any.whl", "pygments-2.21.0-py3-none-any.whl",
    "requests-2.34.2-py3-none-any.whl", "rich-15.0.0-py3-none-any.whl", "starlette-1.10.0-py3-none-any.whl",
    "toml-0.10.2-py2.py3-none-any.whl", "tomli-2.5.0-py3-none-any.whl", "tqdm-4.70.1-py3-none-any.whl",
    "typing_extensions-4.16.0-py3-none-any.whl", "urllib3-2.8.0-py3-none-any.whl",
)
_NATIVE_IMPORTS = """
import importlib, json, sys
out = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        out[name] = ""
    except BaseException as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(out))
"""


def modules(cache_dir: Path | None) -> int:
    """The ``--modules`` table (see the module docstring)."""
    import json
    import subprocess
    import zipfile

    from wasmtool.wit.build import build_probe_component, run_selfcheck
    from wasmtool.wit.guest_python import guest_stdlib

    wheels = [wheel().parent / w for w in CORPUS_WHEELS]
    with tempfile.TemporaryDirectory(prefix="wasmtool-bench-modules-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        probe = build_probe_component(wheels, cache_dir=cache_dir or tmp / "cache")
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        failures = run_selfcheck(probe)
        check_s = time.perf_counter() - t0
        site = tmp / "site"
        for w in wheels:
            with zipfile.ZipFile(w) as zf:
                zf.extractall(site)
        proc = subprocess.run([sys.executable, "-c", _NATIVE_IMPORTS, json.dumps([m for m, _p, _e in failures])],
                              capture_output=True, text=True, env={"PYTHONPATH": str(site)}, timeout=600)
        native: dict[str, str] = json.loads(proc.stdout)
        size = probe.path.stat().st_size
        carried = json.loads((probe.directory / "modules.json").read_text())["carried"]
    guest = guest_stdlib()
    rows = [{"module": m, "phase": phase, "wasi_error": err, "native_error": native.get(m, "?"),
             "stdlib": guest.is_module(m)} for m, phase, err in failures]
    lost = [r for r in rows if r["phase"] == "run"]
    data = {"benchmark": "wasi_modules", "machine": machine(), "wheels": list(CORPUS_WHEELS),
            "probe_component_mb": round(size / 1e6, 1), "carried_modules": len(carried),
            "build_s": round(build_s, 1), "selfcheck_s": round(check_s, 2), "failed": rows,
            "lost_between_build_and_run": len(lost),
            "wheel_modules_failing_on_wasi_only": sorted(r["module"] for r in rows
                                                         if not r["stdlib"] and not r["native_error"]),
            "notes": "failed: every carried module whose import fails in the guest (self-check), with the "
                     "error natively ('' when it imports there)."}
    wasi_only = data["wheel_modules_failing_on_wasi_only"]
    counts = {"wheels' modules,\nwasi only": float(len(wasi_only)),
              "wheels' modules,\nnatively too": float(sum(1 for r in rows if not r["stdlib"] and r["native_error"])),
              "standard library": float(sum(1 for r in rows if r["stdlib"])), "lost at run": float(len(lost))}
    write_results("wasi_modules", data, counts, "modules",
                  panels=[Panel({"carried": float(len(carried))}, "modules", "carried by the probe"),
                          Panel(counts, "modules", "do not import in the guest")],
                  title="wasi-p2: the corpus's pure wheels in one probe component", ours=("carried",))
    print(f"probe {size / 1e6:.1f} MB, {len(carried)} modules carried, {len(rows)} failing "
          f"({len(wasi_only)} of the wheels' only on wasi), {len(lost)} lost at run")
    return 0 if not lost else 1


def measure_size(tree: Path, case: str, work: Path) -> dict[str, Any]:
    """Build ``case`` with the wasmtool of ``tree`` into a fresh cache under ``work``."""
    import json
    import subprocess

    wheels, externs, functions = SIZE_CASES[case]
    args = {"case": case, "wheels": wheels, "externs": externs, "functions": functions, "work": str(work),
            "wheels_dir": str(wheel().parent)}
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = str(tree)
    proc = subprocess.run([sys.executable, "-c", _SIZE_PROBE, json.dumps(args)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{case} ({tree}): {proc.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def sizes(before_tree: Path | None, cases: list[str]) -> int:
    from _common import RESULTS

    path = RESULTS / "wasi_sizes.json"
    import json

    data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    rows: dict[str, Any] = data.get("components", {})
    trees = [("after", ROOT)] + ([("before", before_tree)] if before_tree is not None else [])
    with tempfile.TemporaryDirectory(prefix="wasmtool-bench-sizes-") as tmp_name:
        for case in cases:
            for label, tree in trees:
                got = measure_size(tree, case, Path(tmp_name) / f"{case}-{label}")
                rows.setdefault(case, {})[label] = {"component_wasm_mb": round(got["size"] / 1e6, 2), **got}
                print(f"{case} {label}: {got['size'] / 1e6:.1f} MB "
                      f"({got.get('carried_modules') or '?'} modules carried)", flush=True)
                _write_sizes(rows)      # after each build: a later failure keeps what was measured
    met = _write_sizes(rows)
    print(f"tomli goal <= {SIZE_GOAL_MB:g} MB: {'met' if met else 'NOT met'}")
    return 0


def _write_sizes(rows: dict[str, Any]) -> bool:
    """Write bench/results/wasi_sizes.json and .png from ``rows``; whether the tomli goal is met."""
    tomli_after = rows.get("tomli", {}).get("after", {}).get("component_wasm_mb")
    data = {"benchmark": "wasi_sizes", "machine": machine(), "components": rows,
            "goal_tomli_mb": SIZE_GOAL_MB,
            "meets_goal": tomli_after is not None and tomli_after <= SIZE_GOAL_MB,
            "notes": "component.wasm bytes per case, each built into a fresh cache. before: the tree given by "
                     "--before-tree (committed: every carried module imported at build time); after: this tree "
                     "(the same modules carried: every module of every bundled wheel, what they reach in the "
                     "standard library, the whole encodings package, and the self-check; the standard-library "
                     "modules nothing imports at build time stored zlib-compressed and imported on first use; "
                     "name sections stripped). carried_modules: as build.json reports it."}
    bars = {f"{label} {case}": row[label]["component_wasm_mb"] for case, row in rows.items()
            for label in ("before", "after") if label in row}
    modules = {f"after {case}": float(row["after"]["carried_modules"]) for case, row in rows.items()
               if row.get("after", {}).get("carried_modules")}
    write_results("wasi_sizes", data, bars, "MB",
                  panels=[Panel(bars, "component.wasm MB", f"component size (goal: tomli <= {SIZE_GOAL_MB:g} MB)"),
                          Panel(modules, "modules", "modules carried")],
                  title="wasi-p2 components (blue: after, orange: before)", ours=("after",))
    return bool(data["meets_goal"])


def wheel() -> Path:
    folder = Path(os.environ.get("WASMTOOL_TEST_WHEELS", str(ROOT / "tests" / "data" / "artefacts")))
    path = folder / TOMLI_WHEEL
    if not path.is_file():
        raise SystemExit(f"{TOMLI_WHEEL} is not in {folder} (scripts/fetch_artefacts.py fetches it)")
    return path


def engine_config(wt: Any, spec: str) -> Any:
    """A ``wasmtime.Config`` from ``DEFAULT_ENGINE_CONFIG`` (``name=1,name=0``: boolean settings)."""
    config = wt.Config()
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if value not in ("0", "1") or not hasattr(type(config), name):
            raise SystemExit(f"cannot mirror the engine setting {item!r} of DEFAULT_ENGINE_CONFIG")
        setattr(config, name, value == "1")
    return config


class RawComponent:
    """The peer: plain wasmtime-py on the runner's ``.cwasm``, no wasmtool code on the call path."""

    def __init__(self, built: Any, method: str) -> None:
        import wasmtime
        import wasmtime.component

        from wasmtool.wit.build import DEFAULT_ENGINE_CONFIG

        iface, fn = next((i, f) for i, f in built.plan.functions() if f.extern_name == method)
        self.engine = wasmtime.Engine(engine_config(wasmtime, DEFAULT_ENGINE_CONFIG))
        self.component = wasmtime.component.Component.deserialize_file(self.engine, str(built.cwasm_path))
        linker = wasmtime.component.Linker(self.engine)
        linker.add_wasip2()
        self.store = wasmtime.Store(self.engine)
        self.store.set_wasi(wasmtime.WasiConfig())   # REQUIRED, else the process aborts
        self.store.set_epoch_deadline(_NO_DEADLINE)
        instance = linker.instantiate(self.store, self.component)
        iface_index = instance.get_export_index(self.store, built.plan.interface_id(iface.label))
        index = instance.get_export_index(self.store, fn.label, iface_index) if iface_index is not None else None
        func = instance.get_func(self.store, index) if index is not None else None
        if func is None:
            raise SystemExit(f"the component does not export {iface.label}#{fn.label}")
        self.func = func

    def __call__(self, *args: Any) -> Any:
        return self.func(self.store, *args)


def eryx_missing() -> str:
    """Why (d) cannot run (pyeryx not installed), or ``""``."""
    try:
        metadata.version(ERYX_DIST)
    except metadata.PackageNotFoundError:
        return (f"{ERYX_DIST} (the peer of (d), imported as eryx) is not installed: "
                f"`.venv/bin/pip install -e '.[bench]'`, or pass --no-eryx to leave the eryx columns out")
    return ""


def child(script: str, payload: dict[str, Any], *, env: dict[str, str] | None = None,
          spawned: bool = False, cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter (this venv's) and return the JSON it prints last."""
    import json
    import subprocess

    argv = [sys.executable, "-c", script, json.dumps(payload)]
    if spawned:
        argv.append(repr(time.time()))
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=900,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"a child process failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def vs_eryx(built: Any, whl: Path, tmp: Path, expected: str, *, tree: Path, build_runs: int, fresh_runs: int,
            calls: int, samples: int) -> dict[str, Any]:
    """(d): eryx on the same wheel and call; build, artefact, fresh-process first call, per call.

    Everything eryx writes goes below ``tmp``: its factory file, and its own first-use cache (the
    embedded runtime's ``.cwasm`` and standard library, ``$TMPDIR/eryx-embedded``), so the first
    build starts as cold as ours (an empty cache folder)."""
    import eryx

    from wasmtool.run.wasi import WasiComponentRuntime

    eryx_tmp = tmp / "eryx-tmp"
    eryx_tmp.mkdir()
    env = {"TMPDIR": str(eryx_tmp)}
    factory_path = tmp / "tomli-factory.bin"
    builds = [child(_ERYX_BUILD, {"wheel": str(whl), "imports": ERYX_IMPORTS, "setup": ERYX_SETUP,
                                  "out": str(factory_path)}, env=env) for _ in range(build_runs)]
    embedded = sorted(eryx_tmp.glob("eryx-embedded/*.cwasm"))

    ours_first: dict[str, list[float]] = {"wall_s": [], "import_s": [], "start_and_call_s": []}
    eryx_first: dict[str, list[float]] = {"wall_s": [], "import_s": [], "load_s": [], "create_s": [], "call_s": []}
    ours_payload = {"component": str(built.directory), "method": HEADLINE, "args": CALLS[HEADLINE]}
    eryx_payload = {"factory": str(factory_path), "code": ERYX_CODE}
    for i in range(fresh_runs + 1):   # the first pair pages the files in; not a sample
        got = child(_WASMTOOL_FIRST, ours_payload, spawned=True, cwd=tree)   # -c: the cwd comes first
        if got["result"] != expected or got["load_path"] != "deserialize":
            raise SystemExit(f"fresh process (wasmtool): {got}")
        peer = child(_ERYX_FIRST, eryx_payload, env=env, spawned=True)
        if peer["result"] != expected:
            raise SystemExit(f"fresh process (eryx): {peer}")
        if i:
            for key, values in ours_first.items():
                values.append(got[key])
            for key, values in eryx_first.items():
                values.append(peer[key])

    # per call, in this process: the runner, an eryx Session (state kept) and an eryx Sandbox
    os.environ["TMPDIR"] = str(eryx_tmp)   # eryx reads it at first use (its embedded cache)
    factory = eryx.SandboxFactory.load(str(factory_path))
    session = factory.create_session()
    sandbox = factory.create_sandbox()
    runner = WasiComponentRuntime(built)
    contenders: dict[str, tuple[Any, int]] = {
        "wasmtool runner": (lambda: runner.call(HEADLINE, CALLS[HEADLINE]), calls),
        "eryx Session.execute": (lambda: session.execute(ERYX_CODE).result, calls),
        "eryx Sandbox.execute": (lambda: sandbox.execute(ERYX_CODE).result,
                                 max(1, calls // ERYX_SANDBOX_CALL_DIVISOR)),
    }
    guest_python = session.execute("import sys\nresult = sys.version").result
    for name, (fn, _n) in contenders.items():
        for _ in range(3):   # warm-up
            if fn() != expected:
                raise SystemExit(f"per call: {name} returned something else")
    per: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(samples):
        for name, (fn, n) in contenders.items():
            per[name].append(per_call(fn, n))
    runner.close()

    factory_s = [b["factory_s"] for b in builds]
    save_s = [b["save_s"] for b in builds]
    return {
        "pyeryx": metadata.version(ERYX_DIST), "guest_python": guest_python,
        "wheel_sha256": hashlib.sha256(whl.read_bytes()).hexdigest(),
        "call": {"wasmtool": f"{HEADLINE}({DOC!r}) (the component's export)",
                 "eryx": f"execute({ERYX_CODE!r}) on a factory whose snapshot ran {ERYX_SETUP!r}",
                 "result": expected},
        "build": {"eryx_factory_and_save": summary([f + s for f, s in zip(factory_s, save_s, strict=True)]),
                  "eryx_factory": summary(factory_s), "eryx_save": summary(save_s),
                  "eryx_import_s": [b["import_s"] for b in builds]},
        "artefact_mb": {"eryx_factory_file": round(factory_path.stat().st_size / 1e6, 1),
                        "eryx_embedded_runtime_cwasm": round(sum(p.stat().st_size for p in embedded) / 1e6, 1)},
        "fresh_process_first_call": {"wasmtool": {k: summary(v) for k, v in ours_first.items()},
                                     "eryx": {k: summary(v) for k, v in eryx_first.items()}},
        "per_call": {name: summary(v) for name, v in per.items()},
        "calls_per_sample": {name: n for name, (_fn, n) in contenders.items()},
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000, help="calls per sample for (a)")
    ap.add_argument("--samples", type=int, default=7, help="samples per contender for (a)")
    ap.add_argument("--build-runs", type=int, default=1, help="cold builds for (b) (~15-20 s each)")
    ap.add_argument("--warm-runs", type=int, default=9, help="deserialize starts for (c)")
    ap.add_argument("--compile-runs", type=int, default=3, help="compile starts for (c) (~10-15 s each)")
    ap.add_argument("--fresh-runs", type=int, default=5, help="fresh-process first calls per side for (d)")
    ap.add_argument("--no-eryx", action="store_true", help="leave out (d), the eryx columns")
    ap.add_argument("--tree", type=Path, default=None, metavar="DIR",
                    help="measure the wasmtool (and tests) tree in DIR instead of this checkout, e.g. "
                         "`git archive HEAD wasmtool tests wit | tar -x -C DIR`")
    ap.add_argument("--sizes", action="store_true", help="measure component sizes instead (see the docstring)")
    ap.add_argument("--before-tree", type=Path, default=None, help="with --sizes: the wasmtool tree to compare")
    ap.add_argument("--cases", default=",".join(SIZE_CASES), help="with --sizes: comma-separated cases")
    ap.add_argument("--modules", action="store_true", help="list the modules that do not import (see the docstring)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="with --modules: a component cache to reuse")
    args = ap.parse_args()
    if args.modules:
        return modules(args.cache_dir)
    if args.sizes:
        return sizes(args.before_tree, [c for c in args.cases.split(",") if c])
    missing = "" if args.no_eryx else eryx_missing()
    if missing:
        raise SystemExit(missing)
    tree = (args.tree or ROOT).resolve()
    if args.tree is not None:
        sys.path.insert(0, str(tree))
    # imported by name so that mypy does not type-check the test module itself
    surfaces = importlib.import_module("tests.wit.surfaces")
    from wasmtool.run.wasi import WasiComponentRuntime
    from wasmtool.wit.build import (
        DEFAULT_ENGINE_CONFIG,
        BuiltComponent,
        build_component,
        build_stats,
        componentize_py_version,
    )

    whl = wheel()
    surface = surfaces.tomli_surface()
    externs_dir: Path = surfaces.TOMLI_EXTERNS_DIR
    with tempfile.TemporaryDirectory(prefix="wasmtool-bench-wasi-") as tmp_name:
        tmp = Path(tmp_name)

        # (b) cold builds, each into a fresh empty cache; the first one's component is used below
        builds: list[float] = []
        componentize: list[float] = []
        built: BuiltComponent | None = None
        for i in range(args.build_runs):
            t0 = time.perf_counter()
            b = build_component(surface, externs_dir=externs_dir, wheels=[whl], cache_dir=tmp / f"cache-{i}")
            builds.append(time.perf_counter() - t0)
            componentize.append(build_stats().last_build_seconds)
            if b.from_cache:
                raise SystemExit("the cold build hit a cache")
            built = built or b
        assert built is not None
        if built.cwasm_path.exists():
            raise SystemExit(f"{built.cwasm_path} exists right after a cold build")
        size_mb = built.path.stat().st_size / 1e6

        # the first start compiles and writes the .cwasm (one sample, recorded as such)
        t0 = time.perf_counter()
        with WasiComponentRuntime(built) as rt:
            expected = {m: rt.call(m, a) for m, a in CALLS.items()}
            first_path = rt.load_path
        first_start = time.perf_counter() - t0
        if first_path != "compile" or not built.cwasm_path.is_file():
            raise SystemExit(f"the first start did not compile and write the .cwasm (load_path {first_path!r})")

        # (c) construct -> first result, interleaved; deserialize, compile and the raw setup
        def start(use_cwasm: bool, want: str) -> float:
            t0 = time.perf_counter()
            rt = WasiComponentRuntime(built, use_cwasm=use_cwasm)
            got = rt.call(HEADLINE, CALLS[HEADLINE])
            took = time.perf_counter() - t0
            if rt.load_path != want or got != expected[HEADLINE] or rt.cwasm_load_errors:
                raise SystemExit(f"start: load_path {rt.load_path!r} (wanted {want!r}), {got!r}, "
                                 f"{rt.cwasm_load_errors}")
            rt.close()
            return took

        def raw_start() -> float:
            t0 = time.perf_counter()
            got = RawComponent(built, HEADLINE)(*CALLS[HEADLINE])
            took = time.perf_counter() - t0
            if got != expected[HEADLINE]:
                raise SystemExit(f"raw start: {got!r}")
            return took

        warm: list[float] = []
        cold: list[float] = []
        raw_warm: list[float] = []
        start(True, "deserialize")   # pages the .cwasm in; not a sample
        for i in range(max(args.warm_runs, args.compile_runs)):
            if i < args.warm_runs:
                warm.append(start(True, "deserialize"))
                raw_warm.append(raw_start())
            if i < args.compile_runs:
                cold.append(start(False, "compile"))

        # (a) call overhead, one runner and one raw instance per export, samples interleaved
        per: dict[str, dict[str, list[float]]] = {}
        for method, call_args in CALLS.items():
            runner = WasiComponentRuntime(built)
            raw = RawComponent(built, method)
            if runner.call(method, call_args) != expected[method] or raw(*call_args) != expected[method]:
                raise SystemExit(f"{method}: the runner or the raw call returned something else")
            for _ in range(3):   # warm-up
                runner.call(method, call_args)
                raw(*call_args)
            rows: dict[str, list[float]] = {"runner": [], "raw": []}
            for _ in range(args.samples):
                rows["runner"].append(per_call(lambda: runner.call(method, call_args), args.calls))  # noqa: B023
                rows["raw"].append(per_call(lambda: raw(*call_args), args.calls))  # noqa: B023
            per[method] = rows
            if runner.load_path != "deserialize" or runner.instantiations != 1:
                raise SystemExit(f"{method}: runner load_path {runner.load_path!r}, "
                                 f"{runner.instantiations} instantiations")
            runner.close()
        cwasm_mb = built.cwasm_path.stat().st_size / 1e6

        # (d) the peer eryx, same wheel, same call, same run
        eryx_out = None if args.no_eryx else vs_eryx(
            built, whl, tmp, expected[HEADLINE], tree=tree, build_runs=args.build_runs, fresh_runs=args.fresh_runs,
            calls=args.calls, samples=args.samples)

    calls_out: dict[str, Any] = {}
    for method, rows in per.items():
        r, w = summary(rows["runner"]), summary(rows["raw"])
        ratio = r["median_s"] / w["median_s"]
        calls_out[method] = {"args": CALLS[method], "result": expected[method], "runner_call": r, "raw_call": w,
                             "ratio_median": round(ratio, 3), "within_target_ratio": ratio <= TARGET_RATIO,
                             "runner_extra_median_us": round((r["median_s"] - w["median_s"]) * 1e6, 2)}
    ratio_a = calls_out[HEADLINE]["ratio_median"]
    w_s, c_s, rw_s = summary(warm), summary(cold), summary(raw_warm)
    data: dict[str, Any] = {
        "benchmark": "wasi", "machine": machine(),
        "wasmtool_tree": str(args.tree) if args.tree is not None else "this checkout",
        "wasmtime": metadata.version("wasmtime"), "componentize_py": componentize_py_version(),
        "engine_config": DEFAULT_ENGINE_CONFIG,
        "component": {"package": "tomli 2.5.0 (tests/wit/surfaces.py tomli_surface)", "wheel": whl.name,
                      "component_wasm_mb": round(size_mb, 1), "cwasm_mb": round(cwasm_mb, 1)},
        "call_overhead": {
            "headline": HEADLINE, "calls_per_sample": args.calls, "per_export": calls_out,
            "ratio_median": ratio_a, "target_ratio": TARGET_RATIO, "meets_target": ratio_a <= TARGET_RATIO,
            "notes": "seconds per call, one instance each, samples interleaved. runner = "
                     "WasiComponentRuntime.call(name, args); raw = the wasmtime-py component Func of the "
                     "same export (own Engine with the same config, the same .cwasm deserialized, Linker "
                     "with add_wasip2, Store with a WasiConfig and no epoch deadline) called as "
                     "func(store, arg); post_return is a deprecated no-op in this wasmtime and is not "
                     "called by either side."},
        "cold_build": {
            "build_component": summary(builds), "componentize_py_run": summary(componentize),
            "first_start_compile_and_write_cwasm_s": first_start,
            "notes": "build_component into a fresh empty cache folder (render + wasm-tools check of the WIT, "
                     "guest glue, import closure, unpack the wheel, one componentize-py run, plan/build.json); "
                     "componentize_py_run = the subprocess alone. first_start = the first "
                     "WasiComponentRuntime after it: compile + write the .cwasm + instantiate + first call."},
        "warm_start": {
            "deserialize": w_s, "compile": c_s, "raw_wasmtime_deserialize": rw_s,
            "ratio_compile_vs_deserialize": round(c_s["median_s"] / w_s["median_s"], 1),
            "ratio_runner_vs_raw_deserialize": round(w_s["median_s"] / rw_s["median_s"], 3),
            "target_s": TARGET_WARM_S, "meets_target": w_s["median_s"] <= TARGET_WARM_S,
            "notes": "seconds from WasiComponentRuntime(built) to the first call's result "
                     f"({HEADLINE}); deserialize: the .cwasm exists (load_path == 'deserialize'); compile: "
                     "use_cwasm=False (load_path == 'compile', the peer); raw_wasmtime_deserialize: the same "
                     "steps in plain wasmtime-py on the same .cwasm. In-process: wasmtime already imported, OS "
                     "file cache warm."},
    }
    build_ready_s = summary(builds)["median_s"] + first_start
    panels_d: list[Panel] = []
    build_bars = {"build_component": summary(builds)["median_s"]}
    if eryx_out is not None:
        e_first = eryx_out["fresh_process_first_call"]
        versus = {   # metric -> (wasmtool, eryx); lower is better for each
            "build_s": (build_ready_s, eryx_out["build"]["eryx_factory_and_save"]["median_s"]),
            "artefact_mb": (round(cwasm_mb, 1), eryx_out["artefact_mb"]["eryx_factory_file"]),
            "fresh_process_first_call_s": (e_first["wasmtool"]["wall_s"]["median_s"],
                                           e_first["eryx"]["wall_s"]["median_s"]),
            "per_call_s": (eryx_out["per_call"]["wasmtool runner"]["median_s"],
                           eryx_out["per_call"]["eryx Session.execute"]["median_s"]),
        }
        per_d = eryx_out["per_call"]
        minima = {"fresh_process_first_call_s": (e_first["wasmtool"]["wall_s"]["min_s"],
                                                 e_first["eryx"]["wall_s"]["min_s"]),
                  "per_call_s": (per_d["wasmtool runner"]["min_s"], per_d["eryx Session.execute"]["min_s"])}
        eryx_out["comparison"] = {
            k: {"wasmtool": a, "eryx": b, "ratio_wasmtool_over_eryx": round(a / b, 3),
                "winner": "wasmtool" if a < b else "eryx",
                **({"wasmtool_min": minima[k][0], "eryx_min": minima[k][1]} if k in minima else {})}
            for k, (a, b) in versus.items()}
        eryx_out["artefact_mb"].update({"wasmtool_component_wasm": round(size_mb, 1),
                                        "wasmtool_cwasm": round(cwasm_mb, 1)})
        eryx_out["build"]["wasmtool_build_component_s"] = summary(builds)["median_s"]
        eryx_out["build"]["wasmtool_build_and_cwasm_s"] = build_ready_s
        eryx_out["notes"] = (
            "Same wheel file (wheel_sha256) and call on both sides, one run. build: wasmtool = "
            "build_component into an empty cache + the first start (Cranelift compile, .cwasm written, "
            "first call), i.e. until the artefact a fresh process loads exists; eryx = SandboxFactory(packages="
            "[wheel], imports, setup_code) + save, in a fresh interpreter whose TMPDIR is empty (eryx extracts "
            "its embedded runtime .cwasm and standard library there on first use: eryx_embedded_runtime_cwasm, "
            "shared by every factory). artefact: what a fresh process loads (our .cwasm; the eryx factory "
            "file); component.wasm is our portable artefact. fresh_process_first_call: wall seconds from the "
            "parent's spawn of a fresh interpreter to the first result (interpreter start, imports, "
            "WasiComponentRuntime(BuiltComponent.load(dir)).call vs SandboxFactory.load + create_sandbox + "
            "execute), files paged in by one unsampled pair; the runner API, not the `wasmtool call` CLI. "
            "per_call: seconds per call in one process, samples interleaved; eryx's best is a Session "
            "(state kept), a Sandbox.execute is also recorded. Lower wins on every row; the winner is "
            "by median, the minima are recorded next to it (a loaded machine moves medians most).")
        data["vs_eryx"] = eryx_out
        build_bars["build + .cwasm"] = build_ready_s
        build_bars["eryx factory + save"] = versus["build_s"][1]
        panels_d = [
            Panel({"wasmtool runner": versus["fresh_process_first_call_s"][0] * 1e3,
                   "eryx load+sandbox+execute": versus["fresh_process_first_call_s"][1] * 1e3},
                  "median milliseconds", "(d) new process -> first result"),
            Panel({"wasmtool .cwasm": cwasm_mb, "wasmtool component.wasm": size_mb,
                   "eryx factory file": versus["artefact_mb"][1]}, "MB", "(d) artefact"),
            Panel({"wasmtool runner": versus["per_call_s"][0] * 1e6,
                   **{name: v["median_s"] * 1e6 for name, v in eryx_out["per_call"].items()
                      if name.startswith("eryx")}},
                  "median microseconds (log)", "(d) per call", log=True),
        ]
    call_bars = {f"runner {HEADLINE}": calls_out[HEADLINE]["runner_call"]["median_s"] * 1e6,
                 f"raw {HEADLINE}": calls_out[HEADLINE]["raw_call"]["median_s"] * 1e6,
                 "runner tomli_scale": calls_out["tomli_scale"]["runner_call"]["median_s"] * 1e6,
                 "raw tomli_scale": calls_out["tomli_scale"]["raw_call"]["median_s"] * 1e6}
    warm_bars = {"runner, .cwasm (deserialize)": w_s["median_s"] * 1e3,
                 "raw wasmtime-py, .cwasm": rw_s["median_s"] * 1e3,
                 "runner, use_cwasm=False (compile)": c_s["median_s"] * 1e3}
    path = write_results(
        "wasi", data, call_bars, "median microseconds per call",
        panels=[Panel(call_bars, "median microseconds per call", "(a) one call"),
                Panel(build_bars, "seconds", "(b) cold build"),
                Panel(warm_bars, "median milliseconds (log)", "(c) construct -> first result", log=True),
                *panels_d],
        title="wasi-p2: tomli under wasmtime-py (blue: wasmtool, orange: peers: raw wasmtime-py, compile, eryx)",
        ours=("runner", "build", "wasmtool"))
    head = calls_out[HEADLINE]
    print(f"(a) {HEADLINE}: runner {head['runner_call']['median_s'] * 1e6:.1f}us vs raw "
          f"{head['raw_call']['median_s'] * 1e6:.1f}us per call: {ratio_a:.3f}x (target <= {TARGET_RATIO}); "
          f"tomli_scale {calls_out['tomli_scale']['ratio_median']:.3f}x\n"
          f"(b) cold build {summary(builds)['median_s']:.1f}s "
          f"(componentize-py {summary(componentize)['median_s']:.1f}s)\n"
          f"(c) warm start {w_s['median_s'] * 1e3:.1f}ms (raw {rw_s['median_s'] * 1e3:.1f}ms) vs compile "
          f"{c_s['median_s']:.2f}s (target <= {TARGET_WARM_S * 1e3:.0f}ms)  -> {path}")
    if eryx_out is not None:
        for metric, row in eryx_out["comparison"].items():
            print(f"(d) {metric}: wasmtool {row['wasmtool']:.6g} vs eryx {row['eryx']:.6g} "
                  f"({row['ratio_wasmtool_over_eryx']}x, {row['winner']} wins)"
                  + (f"; minima {row['wasmtool_min']:.6g} vs {row['eryx_min']:.6g}" if "eryx_min" in row else ""))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
