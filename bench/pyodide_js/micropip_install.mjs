#!/usr/bin/env node
// bench/pyodide.py (a), the peer: micropip 0.11.1 resolves and installs requirements inside
// Pyodide under Node, from a local simple index (never the CDN, never PyPI).
//
//   node micropip_install.mjs --micropip WHEEL --index URL --req SPEC [--req SPEC ...] [--check MODULE ...]
//
// Prints one JSON line: {"ok": true, "node_boot_s", "pyodide_start_s", "micropip_load_s",
// "install_s", "until_installed_s", "installed": {name: version}} or {"ok": false, "error": "..."}.
// Everything else goes to stderr. --check imports modules after the timed part.
// Timing phases: loadPyodide (default distribution lock), loadPackage(micropip wheel), then
// micropip.install(reqs, index_urls=[INDEX]). With a non-default index micropip searches the
// index before Pyodide's lock (its "index first"), which is what the wasmtool project asks for.
import { parseArgs } from "node:util";
import path from "node:path";

const t0 = performance.now();
console.log = (...a) => console.error(...a);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
process.on("unhandledRejection", (err) => { emit({ ok: false, error: String(err?.message ?? err) }); process.exit(1); });

const { values } = parseArgs({ options: {
  micropip: { type: "string" }, index: { type: "string" },
  req: { type: "string", multiple: true, default: [] }, check: { type: "string", multiple: true, default: [] },
} });
if (!values.micropip || !values.index || values.req.length === 0) {
  emit({ ok: false, error: "usage: micropip_install.mjs --micropip WHEEL --index URL --req SPEC ..." });
  process.exit(2);
}

try {
  const { loadPyodide } = await import("pyodide");
  const py = await loadPyodide({ stdout: (s) => console.error(s), stderr: (s) => console.error(s) });
  const t1 = performance.now();
  const errors = [];
  const loaded = await py.loadPackage(path.resolve(values.micropip), {
    messageCallback: () => {}, errorCallback: (m) => errors.push(String(m)) });
  if (!loaded.some((p) => p.name === "micropip")) throw new Error(`micropip did not load: ${errors.join("; ")}`);
  py.runPython("import micropip");
  const t2 = performance.now();
  py.globals.set("INDEX", values.index.replace(/\/$/, "") + "/{package_name}/");
  py.globals.set("REQS", py.toPy(values.req));
  await py.runPythonAsync("await micropip.install(list(REQS), index_urls=[INDEX])");
  const t3 = performance.now();
  py.globals.set("CHECK", py.toPy(values.check));
  const installed = JSON.parse(py.runPython(`
import importlib, json
from importlib.metadata import distributions
for _m in CHECK:
    importlib.import_module(_m)
json.dumps({d.metadata["Name"].lower().replace("_", "-"): d.version for d in distributions()
            if d.metadata["Name"].lower() != "micropip"})`));
  // performance.now() counts from the process's time origin (its start), so t3 / 1000 is the
  // time from process start until the requirements are installed (the checks are not in it).
  emit({ ok: true, node_boot_s: t0 / 1000, pyodide_start_s: (t1 - t0) / 1000,
         micropip_load_s: (t2 - t1) / 1000, install_s: (t3 - t2) / 1000, until_installed_s: t3 / 1000,
         installed });
} catch (err) {
  emit({ ok: false, error: String(err?.message ?? err) });
  process.exitCode = 1;
}
