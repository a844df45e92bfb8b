#!/usr/bin/env node
// Cold-start measurement of a wasmtool Pyodide bundle (`wasmtool install --smoke` with a
// [python.budget.<target>] table, `wasmtool lock --check --budget`; docs/budget.md).
//
//   node measure.mjs --bundle DIR [--pyodide DIR]
//
// --pyodide is the folder Pyodide is loaded from (loadBundle's indexURL): the runtime copied
// into the bundle (DIR/pyodide/), or the npm package for a bundle that has none of its own.
// The bundle is loaded the way a user loads it: its own loader.mjs is imported and
// loadBundle({bundleDir}) is awaited, so whatever that loader does (a memory snapshot it
// restores, or Pyodide plus loadPackage) is what is measured. The clock starts before the
// loader is imported. Then every bundled package's top-level modules are imported, in the
// bundle's load order (dependencies first, so a package's time does not include theirs), each
// timed inside Python; then one call goes through the loader's callFunction (the bridge every
// generated binding uses). Cold start is the loader's first line to that call's result.
//
// One JSON line on stdout:
//   {"ok": true, "cold_start_ms": n, "load_ms": n, "import_ms": n, "first_call_ms": n,
//    "packages": [{"name", "import_ms", "imports": [...]}], "snapshot": bool,
//    "timings": {...} (the loader's own phases, when it reports any), "pyodide": "x.y.z",
//    "node": "vNN..."}
// or {"ok": false, "error": {type, message, code, package?}} and exit status 1. Python's
// output goes to stderr.
import { parseArgs } from "node:util";
import path from "node:path";
import { pathToFileURL } from "node:url";

const started = performance.now();

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function fail(error) {
  emit({ ok: false, error });
  process.exit(1);
}

const { values } = parseArgs({ options: { bundle: { type: "string" }, pyodide: { type: "string" } } });
if (!values.bundle) fail({ type: "UsageError", message: "usage: measure.mjs --bundle DIR", code: "WT002" });
const bundleDir = path.resolve(values.bundle);

// Python's side: import one package's names and time it with Python's own clock.
const PY_IMPORT = `
import importlib, json, time

def import_timed(names_json):
    start = time.perf_counter()
    for name in json.loads(names_json):
        importlib.import_module(name)
    return (time.perf_counter() - start) * 1000.0
`;

let loader;
try {
  loader = await import(pathToFileURL(path.join(bundleDir, "loader.mjs")).href);
} catch (err) {
  fail({ type: "BundleError", message: `${bundleDir}: cannot import the bundle's loader.mjs: ${err?.message ?? err}`,
         code: "WT841", file: "loader.mjs" });
}

let bundle;
try {
  bundle = await loader.loadBundle({
    bundleDir,
    ...(values.pyodide ? { indexURL: path.resolve(values.pyodide) + path.sep } : {}),
    stdout: (s) => process.stderr.write(s + "\n"),
    stderr: (s) => process.stderr.write(s + "\n"),
  });
} catch (err) {
  fail(loader.errorToJson(err));
}
const loaded = performance.now();

const scope = bundle.pyodide.globals.get("dict")();
bundle.pyodide.runPython(PY_IMPORT, { globals: scope });
const importTimed = scope.get("import_timed");
const packages = [];
for (const pkg of [...bundle.manifest.packages, ...bundle.manifest.referenced]) {
  const imports = pkg.imports ?? [];
  let ms;
  try {
    ms = importTimed(JSON.stringify(imports));
  } catch (err) {
    fail({ type: "ImportError", message: `${pkg.name}: import ${imports.join(", ")} failed: ${err?.message ?? err}`,
           code: "WT854", package: pkg.name });
  }
  packages.push({ name: pkg.name, import_ms: ms, imports });
}
importTimed.destroy();
scope.destroy();
const imported = performance.now();

const res = loader.callFunction(bundle, "builtins", "len", "[[1, 2, 3]]", "{}");
const called = performance.now();
if (!res.ok || res.value !== 3) {
  fail(res.error ?? { type: "BundleError", message: `the first call answered ${JSON.stringify(res)}`, code: "WT859" });
}

const timings = bundle.timings && typeof bundle.timings === "object" ? bundle.timings : {};
emit({
  ok: true,
  cold_start_ms: called - started,
  load_ms: loaded - started,
  import_ms: packages.reduce((sum, p) => sum + p.import_ms, 0),
  first_call_ms: called - imported,
  packages,
  snapshot: bundle.snapshot === true,
  timings,
  pyodide: String(bundle.pyodide.version),
  node: process.version,
});
process.exit(0);
