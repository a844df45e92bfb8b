#!/usr/bin/env node
// Persistent wasmtool Pyodide runtime: loads a bundle once (about 2.5 s), then answers one
// JSON request per stdin line with one JSON response per stdout line.
//
//   node server.mjs --bundle DIR [--pyodide DIR]
//
// First line written: {"ready": true, "loaded": [...]} or, if the bundle cannot be loaded,
// {"ready": false, "ok": false, "error": {...}} and exit status 1.
// Requests:  {"id": 1, "op": "call", "module": "m", "function": "f", "args": [...], "kwargs": {...}}
//            {"id": 2, "op": "smoke"}   {"id": 3, "op": "ping"}   {"id": 4, "op": "shutdown"}
// Responses: {"id": 1, "ok": true, "value": ...} | {"id": 1, "ok": false, "error": {type, message, code}}
//            smoke: {"id": 2, "ok": true, "imported": [...], "failures": [...]}
// Requests are answered in order, one at a time. Python's output goes to stderr.
//
// Calls go through wasmtool_runtime.bridge (provide_runtime.mjs): args, kwargs and value are in
// wasmtool's value encoding (docs/value-encoding.md), an object with no JSON form is a handle
// {"$handle": n} numbered per module that later calls of that module take as an argument, and
// the function "wasmtool.release" with args [n, ...] drops handles. Handles live as long as
// this process.
import { parseArgs } from "node:util";
import readline from "node:readline";
import { loadBundle, callFunction, smokeTest, errorToJson } from "./loader.mjs";
import { provideRuntime } from "./provide_runtime.mjs";

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

console.log = (...a) => console.error(...a);   // stdout is the protocol channel
process.on("unhandledRejection", (err) => {
  emit({ id: null, ok: false, error: errorToJson(err) });
  process.exit(1);
});

const { values } = parseArgs({ options: { bundle: { type: "string" }, pyodide: { type: "string" } } });
if (!values.bundle) {
  emit({ ready: false, ok: false, error: { type: "UsageError", message: "usage: server.mjs --bundle DIR", code: "WT002" } });
  process.exit(2);
}

let bundle;
try {
  bundle = await loadBundle({
    bundleDir: values.bundle,
    indexURL: values.pyodide,
    stdout: (s) => process.stderr.write(s + "\n"),
    stderr: (s) => process.stderr.write(s + "\n"),
  });
  provideRuntime(bundle);
} catch (err) {
  emit({ ready: false, ok: false, error: errorToJson(err) });
  process.exit(1);
}
emit({ ready: true, loaded: bundle.loaded });

function handle(req) {
  switch (req.op) {
    case "call":
      if (typeof req.module !== "string" || typeof req.function !== "string") {
        return { ok: false, error: { type: "ProtocolError", message: "call needs module and function", code: "WT859" } };
      }
      return callFunction(bundle, req.module, req.function,
        JSON.stringify(req.args ?? []), JSON.stringify(req.kwargs ?? {}));
    case "smoke": {
      const res = smokeTest(bundle);
      return { ok: res.failures.length === 0, ...res };
    }
    case "ping":
      return { ok: true, value: "pong" };
    default:
      return { ok: false, error: { type: "ProtocolError", message: `unknown op ${JSON.stringify(req.op)}`, code: "WT859" } };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    emit({ id: null, ok: false, error: { type: "ProtocolError", message: `not JSON: ${err.message}`, code: "WT859" } });
    continue;
  }
  if (req.op === "shutdown") {
    emit({ id: req.id ?? null, ok: true, value: null });
    break;
  }
  let res;
  try {
    res = handle(req);
  } catch (err) {
    res = { ok: false, error: errorToJson(err) };
  }
  emit({ id: req.id ?? null, ...res });
}
process.exit(0);
