#!/usr/bin/env node
// bench/pyodide.py (b): one cold start, from the first line of this script until every
// package of the bundle is loaded into a fresh Pyodide. One process per sample.
//
//   node cold_load.mjs --mode bundle   --bundle DIR --pyodide DIR
//        wasmtool's loader (the bundle's own loader.mjs): bundle.json + pyodide-lock.json read
//        and checked, every wheel's sha256 computed, loadPyodide, loadPackage, helper set-up
//   node cold_load.mjs --mode plain    --bundle DIR --pyodide DIR
//        the peer: loadPyodide with its default lock, then loadPackage([absolute wheel paths])
//        of the same wheel files (no lock of ours, no verification)
//   node cold_load.mjs --mode lockfile --bundle DIR --pyodide DIR
//        in between: loadPyodide({lockFileURL: <bundle>/pyodide-lock.json}) + loadPackage(names),
//        i.e. the bundle's lock without wasmtool's checks
//
// Prints one JSON line {"ok": true, "mode", "total_s", "start_s", "packages_s", "loaded": [...]}.
import { parseArgs } from "node:util";
import path from "node:path";
import fs from "node:fs";
import url from "node:url";

const t0 = performance.now();
console.log = (...a) => console.error(...a);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
process.on("unhandledRejection", (err) => { emit({ ok: false, error: String(err?.message ?? err) }); process.exit(1); });

const { values } = parseArgs({ options: {
  mode: { type: "string" }, bundle: { type: "string" }, pyodide: { type: "string" } } });
const bundleDir = path.resolve(values.bundle ?? "");
const indexURL = path.resolve(values.pyodide ?? "") + path.sep;
const quiet = { stdout: (s) => console.error(s), stderr: (s) => console.error(s) };

async function plain(lockFile) {
  const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, "bundle.json"), "utf8"));
  const { loadPyodide } = await import(url.pathToFileURL(path.join(indexURL, "pyodide.mjs")).href);
  const config = { indexURL, ...quiet };
  if (lockFile) config.lockFileURL = path.join(bundleDir, manifest.lock.file);
  const py = await loadPyodide(config);
  const t1 = performance.now();
  const wanted = lockFile ? manifest.packages.map((p) => p.name)
    : manifest.packages.map((p) => path.join(bundleDir, ...p.file.split("/")));
  const errors = [];
  const got = await py.loadPackage(wanted, { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
  if (got.length !== manifest.packages.length) {
    throw new Error(`loaded ${got.length} of ${manifest.packages.length}: ${errors.join("; ")}`);
  }
  return { t1, loaded: got.map((p) => p.name).sort() };
}

try {
  let res;
  if (values.mode === "bundle") {
    const { loadBundle } = await import(url.pathToFileURL(path.join(bundleDir, "loader.mjs")).href);
    // loadBundle does not expose the split; start_s is left out for this mode.
    const bundle = await loadBundle({ bundleDir, indexURL, ...quiet });
    res = { t1: null, loaded: bundle.loaded };
  } else if (values.mode === "plain" || values.mode === "lockfile") {
    res = await plain(values.mode === "lockfile");
  } else {
    throw new Error(`--mode must be bundle, plain or lockfile, got ${values.mode}`);
  }
  const t2 = performance.now();
  emit({ ok: true, mode: values.mode, total_s: (t2 - t0) / 1000,
         start_s: res.t1 === null ? null : (res.t1 - t0) / 1000,
         packages_s: res.t1 === null ? null : (t2 - res.t1) / 1000, loaded: res.loaded });
} catch (err) {
  emit({ ok: false, error: String(err?.message ?? err) });
  process.exitCode = 1;
}
