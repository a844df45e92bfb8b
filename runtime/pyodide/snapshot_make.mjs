#!/usr/bin/env node
// Make and verify a bundle's memory snapshot (wasmtool/bundle/snapshot.py runs this; docs/snapshot.md).
//
//   node snapshot_make.mjs make   --bundle DIR --out FILE [--pyodide DIR] [--allow-libraries]
//   node snapshot_make.mjs verify --bundle DIR --snapshot-dir DIR [--pyodide DIR]
//
// make: loads the bundle with loader.mjs's checks, makes the snapshot (Pyodide started with
// _makeSnapshot, wheels unpacked from Python, every package imported), writes its bytes to FILE
// and prints {"ok": true, "key", "inputs", "record", "sha256", "size", "gzip", "brotli", "ms",
// "runtime": {file: {size, gzip, brotli}} for Pyodide's own files}.
// verify: restores DIR's snapshot.json + snapshot.bin for the bundle (a failure is an error, not a
// fallback), imports every package and prints {"ok": true, "timings", "smoke"}.
// Failures print {"ok": false, "error": {type, message, code, ...}} and exit 1.
import fs from "node:fs/promises";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import { loadBundle, smokeTest, errorToJson } from "./loader.mjs";
import path from "node:path";
import { RUNTIME_KEY_FILES, nodePyodideDir, sha256Hex } from "./snapshot.mjs";

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

console.log = (...a) => console.error(...a);   // stdout carries the result line only
process.on("unhandledRejection", (err) => {
  emit({ ok: false, error: errorToJson(err) });
  process.exit(1);
});

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  bundle: { type: "string" }, out: { type: "string" }, "snapshot-dir": { type: "string" },
  pyodide: { type: "string" }, "allow-libraries": { type: "boolean", default: false },
} });
const mode = positionals[0];
if (!values.bundle || !((mode === "make" && values.out) || (mode === "verify" && values["snapshot-dir"]))) {
  emit({ ok: false, error: { type: "UsageError", code: "WT002",
    message: "usage: snapshot_make.mjs make --bundle DIR --out FILE | verify --bundle DIR --snapshot-dir DIR" } });
  process.exit(2);
}
const quiet = (s) => process.stderr.write(s + "\n");

function sizes(bytes) {
  return { size: bytes.byteLength, gzip: zlib.gzipSync(bytes, { level: 9 }).byteLength,
           brotli: zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
             [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }).byteLength };
}

try {
  if (mode === "make") {
    const t0 = performance.now();
    const made = await loadBundle({ bundleDir: values.bundle, indexURL: values.pyodide, makeSnapshot: true,
                                    allowLibraries: values["allow-libraries"], stdout: quiet, stderr: quiet });
    const ms = performance.now() - t0;
    await fs.writeFile(values.out, made.snapshot, { mode: 0o644 });
    const dir = await nodePyodideDir(values.pyodide);
    const runtime = {};
    for (const f of RUNTIME_KEY_FILES) runtime[f] = sizes(await fs.readFile(path.join(dir, f)));
    emit({ ok: true, key: made.key, inputs: made.inputs, record: made.record, ms, runtime,
           sha256: await sha256Hex(made.snapshot), ...sizes(made.snapshot) });
  } else {
    const t0 = performance.now();
    const bundle = await loadBundle({ bundleDir: values.bundle, indexURL: values.pyodide,
                                      snapshotDir: values["snapshot-dir"], snapshot: "require",
                                      stdout: quiet, stderr: quiet });
    const total = performance.now() - t0;
    const smoke = smokeTest(bundle);
    // a collection walks every object, those of compiled extensions too (their tp_traverse)
    bundle.pyodide.runPython("import gc\ngc.collect()");
    emit({ ok: smoke.failures.length === 0 && bundle.snapshot, timings: { ...bundle.timings, total }, smoke,
           ...(bundle.snapshot ? {} : { error: { type: "BundleError", code: "WT654",
                                                  message: "the loader did not restore the snapshot" } }) });
  }
} catch (err) {
  emit({ ok: false, error: errorToJson(err) });
  process.exit(1);
}
process.exit(0);
