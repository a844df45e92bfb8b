// Node only (server.mjs, call.mjs): make wasmtool_runtime importable in a loaded bundle, so that
// loader.mjs's callFunction goes through wasmtool_runtime.bridge (the value encoding and handle
// tables of the native runtimes) whatever the bundle holds.
//
// A bundle written by `wasmtool install` ships wasmtool_runtime in its bindings wheel, and that
// copy is used (the one a browser gets). A bundle built from bare wheels has none: wasmtool's own
// copy (../wasmtool_runtime beside this file) is written into Pyodide's file system under
// /wasmtool-runtime and put at the END of sys.path, so it never shadows a bundled module.
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const SOURCE = path.join(path.dirname(url.fileURLToPath(import.meta.url)), "..", "wasmtool_runtime");
const MOUNT = "/wasmtool-runtime";

function pythonFiles(dir, rel = "") {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const sub = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory() && entry.name !== "__pycache__") out.push(...pythonFiles(dir, sub));
    else if (entry.isFile() && entry.name.endsWith(".py")) out.push(sub);
  }
  return out.sort();
}

/** "bundle" when the bundle ships wasmtool_runtime, else "wasmtool" once its copy is provided. */
export function provideRuntime(bundle) {
  const { pyodide } = bundle;
  const shipped = pyodide.runPython(
    "import importlib.util\nimportlib.util.find_spec('wasmtool_runtime') is not None");
  if (shipped) return "bundle";
  for (const rel of pythonFiles(SOURCE)) {
    const target = `${MOUNT}/wasmtool_runtime/${rel}`;
    pyodide.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
    pyodide.FS.writeFile(target, fs.readFileSync(path.join(SOURCE, ...rel.split("/"))));
  }
  pyodide.runPython(`import sys\nif ${JSON.stringify(MOUNT)} not in sys.path: sys.path.append(${JSON.stringify(MOUNT)})`);
  return "wasmtool";
}
