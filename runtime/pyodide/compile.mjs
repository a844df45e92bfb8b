#!/usr/bin/env node
// Byte-compile Python sources with Pyodide's own CPython; prints exactly one JSON line on stdout.
//
//   node compile.mjs --src DIR --out DIR [--pyodide DIR]
//
// Every *.py under --src (sorted by path) is compiled by py_compile in a fresh Pyodide, with
// hash-based invalidation (PEP 552, checked: the .pyc is used only while the source's hash
// matches, and it holds no timestamp, so the same sources give the same bytes) and the
// source's relative path as its file name. The .pyc lands under --out at the path
// importlib.util.cache_from_source gives (`pkg/__pycache__/mod.cpython-314.pyc`).
// `wasmtool install` ships them in a Pyodide bundle's bindings wheel (wasmtool/targets/pyodide.py):
// the page then imports the bindings without compiling them.
//
// Output: {"ok": true, "cache_tag": "cpython-314", "files": {"pkg/mod.py": "pkg/__pycache__/mod.cpython-314.pyc"}}
// | {"ok": false, "error": {"type", "message", "code"}}. Exit status 0 when ok, 1 otherwise,
// 2 for usage errors. Python's own output goes to stderr.
import { parseArgs } from "node:util";
import fs from "node:fs/promises";
import path from "node:path";
import url from "node:url";

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

console.log = (...a) => console.error(...a);   // keep stdout for the result line only
process.on("unhandledRejection", (err) => {
  emit({ ok: false, error: { type: err?.name ?? "Error", message: String(err?.message ?? err), code: "WT859" } });
  process.exit(1);
});

let values;
try {
  ({ values } = parseArgs({ options: { src: { type: "string" }, out: { type: "string" }, pyodide: { type: "string" } } }));
  if (!values.src || !values.out) throw new Error("usage: compile.mjs --src DIR --out DIR [--pyodide DIR]");
} catch (err) {
  emit({ ok: false, error: { type: "UsageError", message: err.message, code: "WT002" } });
  process.exit(2);
}

async function sources(root, rel = "") {
  const out = [];
  for (const entry of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...await sources(root, child));
    else if (entry.isFile() && entry.name.endsWith(".py")) out.push(child);
  }
  return out;
}

const { loadPyodide } = values.pyodide
  ? await import(url.pathToFileURL(path.join(values.pyodide, "pyodide.mjs")).href)
  : await import("pyodide");
const pyodide = await loadPyodide({ stdout: (l) => console.error(l), stderr: (l) => console.error(l) });
const files = (await sources(values.src)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const ROOT = "/wasmtool-compile";
for (const rel of files) {
  const target = `${ROOT}/${rel}`;
  pyodide.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
  pyodide.FS.writeFile(target, await fs.readFile(path.join(values.src, ...rel.split("/"))));
}
const scope = pyodide.globals.get("dict")();
scope.set("ROOT", ROOT);
scope.set("FILES", pyodide.toPy(files));
const answer = JSON.parse(pyodide.runPython(`
import importlib.util, json, py_compile, sys
done = {}
for rel in FILES:
    pyc = importlib.util.cache_from_source(rel)
    py_compile.compile(f"{ROOT}/{rel}", cfile=f"{ROOT}/{pyc}", dfile=rel, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    done[rel] = pyc
json.dumps({"cache_tag": sys.implementation.cache_tag, "files": done})
`, { globals: scope }));
scope.destroy();
for (const [rel, pyc] of Object.entries(answer.files)) {
  const dest = path.join(values.out, ...pyc.split("/"));
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.writeFile(dest, pyodide.FS.readFile(`${ROOT}/${pyc}`));
}
emit({ ok: true, ...answer });
