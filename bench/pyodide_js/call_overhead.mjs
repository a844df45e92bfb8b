#!/usr/bin/env node
// bench/pyodide.py (c): the cost of a call through the generated wrapper, measured inside ONE
// Pyodide instance (one Node process; no per-call process round trips).
//
//   node call_overhead.mjs --bundle DIR --pyodide DIR --doc TEXT [--calls N] [--samples K]
//
// Six ways to parse the same small TOML document with tomli, each timed over N calls, K samples,
// the ways interleaved sample by sample (seconds per call):
//   py_direct       Python loop: tomli.loads(DOC)
//   py_wrapper      Python loop: python_wrap.tomli.tomli_externs.tomli_loads(DOC) (the generated extern)
//   js_runpython    JS loop: pyodide.runPython("tomli.loads(DOC)") -> toJs() (compiles each time)
//   js_proxy        JS loop: a PyProxy of tomli.loads called with DOC -> toJs()
//   js_wrapper      JS loop: loader.mjs callFunction(bundle, extern module, "tomli_loads", args JSON)
//                   -- the path every call of the Node runtime server takes (JSON in, JSON out)
//   js_call_direct  JS loop: callFunction on tomli.loads itself (the same JSON path, no wrapper)
// Prints one JSON line {"ok": true, "per_call_s": {way: [sample, ...]}, "calls", "samples"}.
import { parseArgs } from "node:util";
import path from "node:path";
import url from "node:url";

console.log = (...a) => console.error(...a);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
process.on("unhandledRejection", (err) => { emit({ ok: false, error: String(err?.message ?? err) }); process.exit(1); });

const { values } = parseArgs({ options: {
  bundle: { type: "string" }, pyodide: { type: "string" }, doc: { type: "string" },
  calls: { type: "string", default: "2000" }, samples: { type: "string", default: "7" } } });
const bundleDir = path.resolve(values.bundle ?? "");
const indexURL = path.resolve(values.pyodide ?? "") + path.sep;
const N = Number(values.calls);
const K = Number(values.samples);
const DOC = values.doc;
const MODULE = "python_wrap.tomli.tomli_externs";

try {
  const { loadBundle, callFunction } = await import(url.pathToFileURL(path.join(bundleDir, "loader.mjs")).href);
  const bundle = await loadBundle({ bundleDir, indexURL,
    stdout: (s) => console.error(s), stderr: (s) => console.error(s) });
  const py = bundle.pyodide;
  const g = py.globals.get("dict")();
  g.set("DOC", DOC);
  g.set("N", N);
  py.runPython(`
import time, tomli
import ${MODULE} as externs
def py_loop(fn):
    t0 = time.perf_counter()
    for _ in range(N):
        fn(DOC)
    return (time.perf_counter() - t0) / N
`, { globals: g });
  const pyLoop = g.get("py_loop");
  const tomliLoads = g.get("tomli").loads;
  const externLoads = g.get("externs").tomli_loads;
  const argsJson = JSON.stringify([DOC]);
  const expected = JSON.stringify(callFunction(bundle, MODULE, "tomli_loads", argsJson).value);
  const toJs = (proxy) => {
    const v = proxy.toJs({ dict_converter: Object.fromEntries });
    proxy.destroy();
    return v;
  };
  const jsLoop = (fn) => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) fn();
    return (performance.now() - t0) / 1000 / N;
  };
  const ways = {
    py_direct: () => pyLoop(tomliLoads),
    py_wrapper: () => pyLoop(externLoads),
    js_runpython: () => jsLoop(() => toJs(py.runPython("tomli.loads(DOC)", { globals: g }))),
    js_proxy: () => jsLoop(() => toJs(tomliLoads(DOC))),
    js_wrapper: () => jsLoop(() => {
      const r = callFunction(bundle, MODULE, "tomli_loads", argsJson);
      if (!r.ok) throw new Error(JSON.stringify(r.error));
    }),
    js_call_direct: () => jsLoop(() => {
      const r = callFunction(bundle, "tomli", "loads", argsJson);
      if (!r.ok) throw new Error(JSON.stringify(r.error));
    }),
  };
  // every way gives the same value
  for (const v of [toJs(py.runPython("tomli.loads(DOC)", { globals: g })), toJs(tomliLoads(DOC)),
                   callFunction(bundle, "tomli", "loads", argsJson).value]) {
    if (JSON.stringify(v) !== expected) throw new Error(`values differ: ${JSON.stringify(v)} vs ${expected}`);
  }
  for (const fn of Object.values(ways)) fn();   // warm-up
  const per = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let s = 0; s < K; s++) for (const [k, fn] of Object.entries(ways)) per[k].push(fn());
  emit({ ok: true, calls: N, samples: K, per_call_s: per, value: JSON.parse(expected) });
} catch (err) {
  emit({ ok: false, error: String(err?.stack ?? err) });
  process.exitCode = 1;
}
