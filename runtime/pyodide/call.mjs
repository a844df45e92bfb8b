#!/usr/bin/env node
// One-shot call into a wasmtool Pyodide bundle; prints exactly one JSON line on stdout.
//
//   node call.mjs --bundle DIR --module M --function F --args JSON [--kwargs JSON] [--pyodide DIR]
//   node call.mjs --bundle DIR --smoke [--pyodide DIR]
//
// Output: {"ok": true, "value": ...} | {"ok": false, "error": {"type", "message", "code", ...}}
// (args, kwargs and value in wasmtool's value encoding, through wasmtool_runtime.bridge: see
// server.mjs; a handle returned here dies with the process)
// and, for --smoke, {"ok": <no failures>, "imported": [...], "failures": [{package, import, type, message}]}.
// Exit status: 0 when ok, 1 otherwise, 2 for usage errors. Python's own output and Pyodide's
// messages go to stderr, so stdout carries nothing but the result line.
import { parseArgs } from "node:util";
import { loadBundle, callFunction, smokeTest, errorToJson } from "./loader.mjs";
import { provideRuntime } from "./provide_runtime.mjs";

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

console.log = (...a) => console.error(...a);   // keep stdout for the result line only
process.on("unhandledRejection", (err) => {
  emit({ ok: false, error: errorToJson(err) });
  process.exit(1);
});

let values;
try {
  ({ values } = parseArgs({ options: {
    bundle: { type: "string" }, module: { type: "string" }, function: { type: "string" },
    args: { type: "string", default: "[]" }, kwargs: { type: "string", default: "{}" },
    smoke: { type: "boolean", default: false }, pyodide: { type: "string" },
  } }));
  if (!values.bundle || (!values.smoke && (!values.module || !values.function))) {
    throw new Error("usage: call.mjs --bundle DIR (--smoke | --module M --function F [--args JSON] [--kwargs JSON])");
  }
} catch (err) {
  emit({ ok: false, error: { type: "UsageError", message: err.message, code: "WT002" } });
  process.exit(2);
}

try {
  const bundle = await loadBundle({
    bundleDir: values.bundle,
    indexURL: values.pyodide,
    stdout: (s) => process.stderr.write(s + "\n"),
    stderr: (s) => process.stderr.write(s + "\n"),
  });
  if (!values.smoke) provideRuntime(bundle);
  if (values.smoke) {
    const res = smokeTest(bundle);
    emit({ ok: res.failures.length === 0, ...res });
    process.exitCode = res.failures.length === 0 ? 0 : 1;
  } else {
    const res = callFunction(bundle, values.module, values.function, values.args, values.kwargs);
    emit(res);
    process.exitCode = res.ok ? 0 : 1;
  }
} catch (err) {
  emit({ ok: false, error: errorToJson(err) });
  process.exitCode = 1;
}
