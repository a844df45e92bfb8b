#!/usr/bin/env node
// bench/pyodide.py (e): first call, memory snapshot vs plain, in Node. One process per sample,
// from the first line of this script until the first call's result is back.
//
//   node first_call.mjs --bundle DIR --pyodide DIR [--plain] --alias A --method M [--args JSON]
//
// The bundle's own loader.mjs and bindings.mjs (as the example app's page uses them): loadBundle
// (restores snapshot.bin when the bundle has one and --plain is not given; else loadPyodide +
// loadPackage), bindAlias(A), then A.M(...args). Prints one JSON line
// {"ok": true, "snapshot": bool, "value", "total_ms", "phases_ms": {...}} where phases_ms holds
// the loader's own timings (runtime-start + packages on the plain path, restore + unpack on the
// snapshot path), "load" (loadBundle as a whole: the checks and hashing included), "bind" and
// "first-call".
import { parseArgs } from "node:util";
import path from "node:path";
import url from "node:url";

const t0 = performance.now();
console.log = (...a) => console.error(...a);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
process.on("unhandledRejection", (err) => { emit({ ok: false, error: String(err?.message ?? err) }); process.exit(1); });

const { values } = parseArgs({ options: {
  bundle: { type: "string" }, pyodide: { type: "string" }, plain: { type: "boolean", default: false },
  alias: { type: "string" }, method: { type: "string" }, args: { type: "string", default: "[]" } } });
const bundleDir = path.resolve(values.bundle ?? "");
const fileUrl = (name) => url.pathToFileURL(path.join(bundleDir, name)).href;
try {
  const { loadBundle } = await import(fileUrl("loader.mjs"));
  const { bindAlias } = await import(fileUrl("bindings.mjs"));
  const tLoad = performance.now();
  const bundle = await loadBundle({ bundleDir, indexURL: path.resolve(values.pyodide ?? "") + path.sep,
    snapshot: values.plain ? false : undefined, stdout: (s) => console.error(s), stderr: (s) => console.error(s) });
  const tBind = performance.now();
  const alias = bindAlias(bundle, values.alias);
  const tCall = performance.now();
  const value = await alias[values.method](...JSON.parse(values.args));
  const tEnd = performance.now();
  emit({ ok: true, snapshot: bundle.snapshot === true, value, total_ms: tEnd - t0,
         phases_ms: { ...bundle.timings, "import-loader": tLoad - t0, load: tBind - tLoad, bind: tCall - tBind,
                      "first-call": tEnd - tCall } });
} catch (err) {
  emit({ ok: false, error: String(err?.stack ?? err?.message ?? err) });
  process.exitCode = 1;
}
