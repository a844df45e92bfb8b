// Loads a wasmtool Pyodide bundle (wasmtool/bundle/pyodide.py) in Node or in a browser.
//
//   const bundle = await loadBundle({ bundleDir });                    // Node
//   const bundle = await loadBundle({ bundleUrl, indexURL });          // browser
//   callFunction(bundle, "mod", "fn", "[1, 2]", "{}")  -> {ok, value} | {ok: false, error}
//   smokeTest(bundle)                                   -> {imported, failures}
//
// What it guarantees, in order:
//  1. bundle.json and pyodide-lock.json are read; the lock's sha256 and its entries for the
//     app's packages (bundled and referenced) must agree with bundle.json (WT851 / WT842).
//  2. Every wheel is hashed HERE before Pyodide sees it: in Node, Pyodide does not check
//     integrity at all. A mismatch throws WT842 naming the file and both hashes. Referenced
//     packages (bundle.json "referenced") are fetched from their absolute URL and checked the
//     same way (WT864 when they cannot be fetched).
//  3. In a browser, the Pyodide runtime files bundle.json lists ("runtime": ./pyodide/ in the
//     bundle, or a hosted URL) are fetched once, with SRI, and checked against their sha256
//     (WT842) before any of them runs: pyodide.mjs and pyodide.asm.mjs are imported from the
//     checked bytes, and while Pyodide loads, its requests for the checked files (the wasm,
//     the standard library, the wheels) are answered with those same bytes, so what runs is
//     what was checked and nothing is downloaded twice. Node takes Pyodide from node_modules.
//  4. Pyodide starts with lockFileContents and packageBaseUrl set, and the app's entries point
//     at absolute paths (Node) or absolute URLs (browser). With packageBaseUrl set, Pyodide's
//     CDN fallback URL is the bundle folder itself, so nothing is ever fetched from elsewhere
//     but the referenced packages and a hosted runtime.
//  5. loadPackage does not throw when a package fails: the names it returns are compared with
//     the names asked for, and any difference throws WT854 with the errorCallback messages.
//  6. micropip must not be in sys.modules (WT855): the bundle needs no resolution.
//
// Error codes are shared with wasmtool/bundle/errors.py.

/** snapshot.mjs (memory snapshots), imported only by a load that uses one. */
let snapshotModule;
async function snapshotsModule() {
  snapshotModule ??= await import("./snapshot.mjs");
  return snapshotModule;
}

const IN_NODE = typeof process === "object" && typeof process.versions?.node === "string"
  && typeof window === "undefined";

export const FORMAT = "wasmtool-pyodide-bundle";
export const FORMAT_VERSION = 2;
/** bundle.json versions this loader reads (1: no "referenced", no "runtime"). */
export const READABLE_FORMAT_VERSIONS = [1, 2];

export class BundleError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = "BundleError";
    this.code = code;
    Object.assign(this, extra);
  }
}

/** Any thrown value as the JSON error object of the wire protocol. */
export function errorToJson(err) {
  if (err instanceof BundleError) {
    const out = { type: err.name, message: err.message, code: err.code };
    for (const key of ["file", "package", "expected", "actual", "py_type", "url"]) {
      if (err[key] !== undefined) out[key] = err[key];
    }
    return out;
  }
  return { type: err?.name ?? "Error", message: String(err?.message ?? err), code: "WT859" };
}

/** PEP 503 normalised name (what pyodide-lock.json uses as keys). */
export function canonicalName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(bytes) {
  if (IN_NODE) {
    const crypto = await import("node:crypto");
    return crypto.createHash("sha256").update(bytes).digest("hex");
  }
  return hex(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

/** Where the bundle lives: read files and resolve names in it, in Node or in a browser. */
async function openBundle(opts) {
  if (IN_NODE) {
    if (!opts.bundleDir) throw new BundleError("WT851", "loadBundle: bundleDir is required in Node");
    const path = await import("node:path");
    const fs = await import("node:fs/promises");
    const root = path.resolve(opts.bundleDir);
    return {
      base: root + path.sep,
      resolve: (rel) => path.join(root, ...rel.split("/")),
      async read(rel) {
        try {
          const buf = await fs.readFile(path.join(root, ...rel.split("/")));
          return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        } catch (err) {
          if (err.code === "ENOENT") {
            throw new BundleError("WT841", `${rel}: file not found in the bundle ${root}`, { file: rel });
          }
          throw new BundleError("WT851", `${rel}: cannot read: ${err.message}`, { file: rel });
        }
      },
    };
  }
  if (!opts.bundleUrl) throw new BundleError("WT851", "loadBundle: bundleUrl is required in a browser");
  let base = new URL(opts.bundleUrl, globalThis.location?.href).href;
  if (!base.endsWith("/")) base += "/";
  return {
    base,
    resolve: (rel) => new URL(rel, base).href,
    async read(rel) {
      const resp = await fetch(new URL(rel, base), { cache: "no-store" });
      if (resp.status === 404) {
        throw new BundleError("WT841", `${rel}: file not found in the bundle ${base}`, { file: rel });
      }
      if (!resp.ok) throw new BundleError("WT851", `${rel}: HTTP ${resp.status}`, { file: rel });
      return new Uint8Array(await resp.arrayBuffer());
    },
  };
}

function parseManifest(bytes) {
  let m;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new BundleError("WT851", `bundle.json: not JSON: ${err.message}`, { file: "bundle.json" });
  }
  if (m?.format !== FORMAT || !READABLE_FORMAT_VERSIONS.includes(m?.format_version)) {
    throw new BundleError("WT851",
      `bundle.json: not a ${FORMAT} v${READABLE_FORMAT_VERSIONS.join("/v")} manifest ` +
      `(format ${m?.format} v${m?.format_version})`, { file: "bundle.json" });
  }
  if (!Array.isArray(m.packages) || typeof m.lock?.file !== "string" || typeof m.lock?.sha256 !== "string") {
    throw new BundleError("WT851", "bundle.json: packages or lock missing", { file: "bundle.json" });
  }
  m.referenced ??= [];
  m.runtime ??= null;
  if (!Array.isArray(m.referenced)
      || m.referenced.some((r) => typeof r?.url !== "string" || typeof r?.sha256 !== "string"
                                  || typeof r?.file_name !== "string" || typeof r?.name !== "string")) {
    throw new BundleError("WT851", "bundle.json: referenced must list {name, file_name, url, sha256}",
      { file: "bundle.json" });
  }
  if (m.runtime !== null && (typeof m.runtime.index_url !== "string" || !Array.isArray(m.runtime.files))) {
    throw new BundleError("WT851", "bundle.json: runtime must be null or {index_url, files}", { file: "bundle.json" });
  }
  return m;
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function hexToBytes(hexText) {
  return Uint8Array.from(hexText.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * Fetch an absolute URL and check its sha256 (in a browser also with SRI, which the browser
 * enforces): WT864 when it cannot be fetched, WT842 when its bytes are not the pinned ones.
 * `shown` is the name errors give the file.
 */
async function fetchVerified(url, expected, shown, pkg) {
  const extra = { file: shown, url, ...(pkg ? { package: pkg } : {}) };
  let resp;
  try {
    resp = await fetch(url, IN_NODE ? {} : { integrity: `sha256-${base64(hexToBytes(expected))}` });
  } catch (first) {
    // The browser refused the bytes (SRI), or the fetch itself failed: fetch once more without
    // SRI to tell which, and to name the hash the bytes have. Those bytes are checked below.
    try {
      resp = await fetch(url);
    } catch (err) {
      throw new BundleError("WT864", `${shown}: cannot fetch ${url}: ${err?.message ?? first?.message ?? err}`,
        extra);
    }
  }
  if (!resp.ok) throw new BundleError("WT864", `${shown}: cannot fetch ${url}: HTTP ${resp.status}`, extra);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new BundleError("WT842",
      `${shown}: sha256 mismatch: expected ${expected}, got ${actual}; refusing to load it`,
      { ...extra, expected, actual });
  }
  return bytes;
}

const MIME_TYPES = { ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                     ".zip": "application/zip", ".json": "application/json" };

function mimeOf(name) {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && MIME_TYPES[name.slice(dot)]) || "application/octet-stream";
}

/**
 * Run fn() while fetch() answers the URLs of `served` (absolute URL -> checked bytes) from
 * memory; every other request goes out as usual. Pyodide fetches its wasm, its standard
 * library and the wheels through the global fetch: this makes it get the checked bytes.
 */
async function withCheckedFetch(served, fn) {
  if (served.size === 0) return await fn();
  const realFetch = globalThis.fetch;
  const hooked = function fetch(input, init) {
    let key;
    try {
      const raw = typeof input === "string" ? input : input instanceof URL ? input.href : input?.url;
      key = new URL(raw, globalThis.location?.href).href;
    } catch {
      key = undefined;
    }
    const hit = key === undefined ? undefined : served.get(key);
    if (hit) {
      return Promise.resolve(new Response(hit, { status: 200, headers: { "Content-Type": mimeOf(key) } }));
    }
    return realFetch.call(globalThis, input, init);
  };
  globalThis.fetch = hooked;
  try {
    return await fn();
  } finally {
    if (globalThis.fetch === hooked) globalThis.fetch = realFetch;
  }
}

async function importBytes(bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "text/javascript" }));
  try {
    return await import(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * The browser's Pyodide: bundle.json's runtime files (or opts.indexURL holding the same
 * files), fetched and checked; their bytes are added to `served`. A bundle without a runtime
 * (built for Node, or format v1) needs opts.indexURL and is imported from there unchecked.
 */
async function browserRuntime(opts, manifest, where, served) {
  const rt = manifest.runtime;
  let indexURL;
  if (opts.indexURL) indexURL = new URL(opts.indexURL, globalThis.location?.href).href;
  else if (rt) indexURL = new URL(rt.index_url, where.base).href;
  else {
    throw new BundleError("WT851",
      "bundle.json names no Pyodide runtime (the bundle was built without one): pass indexURL to loadBundle",
      { file: "bundle.json" });
  }
  if (!indexURL.endsWith("/")) indexURL += "/";
  if (!rt || opts.pyodideModule) {
    const { loadPyodide } = await import(opts.pyodideModule ?? new URL("pyodide.mjs", indexURL).href);
    return { indexURL, loadPyodide };
  }
  const bytes = {};
  await Promise.all(rt.files.map(async (f) => {
    const url = new URL(f.file, indexURL).href;
    const shown = opts.indexURL ? url : rt.index_url + f.file;
    bytes[f.file] = await fetchVerified(url, f.sha256, shown);
    served.set(url, bytes[f.file]);
  }));
  for (const needed of ["pyodide.mjs", "pyodide.asm.mjs"]) {
    if (!bytes[needed]) {
      throw new BundleError("WT851", `bundle.json: runtime.files lacks ${needed}`, { file: "bundle.json" });
    }
  }
  const { loadPyodide } = await importBytes(bytes["pyodide.mjs"]);
  const createPyodideModule = (await importBytes(bytes["pyodide.asm.mjs"])).default;
  return { indexURL, loadPyodide, createPyodideModule };
}

/**
 * Node: referenced wheels are written, checked, to a private temporary folder and the lock
 * points at them there (Node's Pyodide resolves file names as paths). Returns a cleanup.
 */
async function stageReferencedInNode(manifest, lock, fetched) {
  if (manifest.referenced.length === 0) return async () => {};
  const fs = await import("node:fs/promises");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wasmtool-referenced-"));
  for (const ref of manifest.referenced) {
    const file = path.join(dir, ref.file_name);
    await fs.writeFile(file, fetched.get(ref.name), { mode: 0o600 });
    lock.packages[ref.name].file_name = file;
  }
  return async () => { await fs.rm(dir, { recursive: true, force: true }); };
}

async function verifyFile(where, rel, expected, pkg) {
  const bytes = await where.read(rel);
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new BundleError("WT842",
      `${rel}: sha256 mismatch: expected ${expected}, got ${actual}; refusing to load it`,
      { file: rel, expected, actual, ...(pkg ? { package: pkg } : {}) });
  }
  return bytes;
}

/** Node's Pyodide: opts.pyodideModule, opts.indexURL's pyodide.mjs, or the npm package. */
async function importPyodide(opts) {
  if (opts.pyodideModule) return await import(opts.pyodideModule);
  if (opts.indexURL) {
    const url = await import("node:url");
    const path = await import("node:path");
    return await import(url.pathToFileURL(path.join(opts.indexURL, "pyodide.mjs")).href);
  }
  return await import("pyodide");
}

const PY_HELPERS = `
import importlib, json, sys

def _err(code, exc, **extra):
    t = type(exc)
    name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    return json.dumps({"ok": False, "error": {"type": name, "py_type": name, "message": str(exc),
                                               "code": code, **extra}})

def call(module, function, args_json, kwargs_json):
    try:
        args = json.loads(args_json)
        kwargs = json.loads(kwargs_json)
    except ValueError as exc:
        return _err("WT858", exc)
    try:
        target = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return _err("WT857", exc)
        return _err("WT856", exc)
    except BaseException as exc:
        return _err("WT856", exc)
    try:
        for part in function.split("."):
            target = getattr(target, part)
    except AttributeError as exc:
        return _err("WT857", exc)
    try:
        value = target(*args, **kwargs)
    except BaseException as exc:
        return _err("WT856", exc)
    try:
        return json.dumps({"ok": True, "value": value})
    except (TypeError, ValueError) as exc:
        return _err("WT858", exc)

def smoke(packages_json):
    imported, failures = [], []
    for pkg in json.loads(packages_json):
        for name in pkg["imports"]:
            try:
                importlib.import_module(name)
                imported.append(name)
            except BaseException as exc:
                t = type(exc)
                failures.append({"package": pkg["name"], "import": name, "type": t.__qualname__,
                                 "message": str(exc)})
    return json.dumps({"imported": imported, "failures": failures})

def micropip_imported():
    return "micropip" in sys.modules
`;

/**
 * Load a bundle. Options: bundleDir (Node) or bundleUrl (browser); indexURL (Pyodide's folder
 * or URL, default: the installed npm package in Node; in a browser the runtime bundle.json
 * names, "./pyodide/" beside bundle.json or the hosted URL given to install --pyodide-url;
 * its files are checked against bundle.json either way); pyodideModule (explicit URL of
 * pyodide.mjs, imported unchecked); stdout/stderr (line callbacks for Python's output).
 * Returns {pyodide, manifest, loaded, micropipImported()}.
 */
export async function loadBundle(opts = {}) {
  const where = await openBundle(opts);
  const manifest = parseManifest(await where.read("bundle.json"));
  const lockBytes = await verifyFile(where, manifest.lock.file, manifest.lock.sha256);
  const lock = JSON.parse(new TextDecoder().decode(lockBytes));
  const expectations = [
    ...manifest.packages.map((p) => [p.name, p.sha256, p.file]),
    ...manifest.referenced.map((r) => [r.name, r.sha256, r.url]),
  ];
  for (const [name, sha256, fileName] of expectations) {
    const entry = lock.packages?.[name];
    if (!entry || entry.sha256 !== sha256 || entry.file_name !== fileName) {
      throw new BundleError("WT851",
        `${manifest.lock.file}: entry for ${name} disagrees with bundle.json`,
        { file: manifest.lock.file, package: name });
    }
  }
  // (2) verify every wheel before Pyodide sees it; in a browser Pyodide is then served these bytes.
  const served = new Map();
  const verified = new Map();   // name -> {file_name, bytes}: what a snapshot restore unpacks
  for (const pkg of manifest.packages) {
    const bytes = await verifyFile(where, pkg.file, pkg.sha256, pkg.name);
    if (!IN_NODE) served.set(where.resolve(pkg.file), bytes);
    verified.set(pkg.name, { file_name: pkg.file.split("/").pop(), bytes });
  }
  const fetched = new Map();
  for (const ref of manifest.referenced) {
    const bytes = await fetchVerified(ref.url, ref.sha256, ref.file_name, ref.name);
    fetched.set(ref.name, bytes);
    if (!IN_NODE) served.set(new URL(ref.url).href, bytes);
    verified.set(ref.name, { file_name: ref.file_name, bytes });
  }
  // (4) absolute locations for the app's wheels: no lookup relative to anything else.
  for (const pkg of manifest.packages) lock.packages[pkg.name].file_name = where.resolve(pkg.file);
  const cleanup = IN_NODE ? await stageReferencedInNode(manifest, lock, fetched) : async () => {};
  fetched.clear();

  const config = {
    lockFileContents: lock,
    packageBaseUrl: where.base,
    checkAPIVersion: true,
  };
  let loadPyodide;
  if (IN_NODE) {
    ({ loadPyodide } = await importPyodide(opts));
    if (opts.indexURL) config.indexURL = opts.indexURL;
    config.packageCacheDir = where.base;
  } else {
    // (3) the runtime, checked; its bytes join `served`.
    const rt = await browserRuntime(opts, manifest, where, served);
    loadPyodide = rt.loadPyodide;
    config.indexURL = rt.indexURL;
    if (rt.createPyodideModule) config.createPyodideModule = rt.createPyodideModule;
  }
  if (opts.stdout) config.stdout = opts.stdout;
  if (opts.stderr) config.stderr = opts.stderr;

  // (5) loadPackage resolves even when a package failed: compare names.
  const wanted = [...manifest.packages.map((p) => p.name), ...manifest.referenced.map((r) => r.name)];
  const errors = [];
  let pyodide, loadedData;
  // A memory snapshot (snapshot.mjs, docs/snapshot.md): made here when opts.makeSnapshot, else
  // restored when the bundle has one whose key matches; any mismatch or failure warns and falls
  // through to the plain path below (opts.snapshot === "require" throws instead).
  const timings = {};
  const ordered = wanted.map((n) => verified.get(n));
  if (opts.makeSnapshot) {
    try {
      return await withCheckedFetch(served, () => makeSnapshot(loadPyodide, config, manifest, ordered, opts));
    } finally {
      served.clear();
      await cleanup();
    }
  }
  const snapshotSource = opts.snapshot === false ? null
    : opts.snapshotDir ? await openBundle({ bundleDir: opts.snapshotDir })
    : manifest.snapshot ? where : null;
  if (snapshotSource) {
    try {
      pyodide = await withCheckedFetch(served, () => restoreSnapshot(snapshotSource, opts, manifest, config,
                                                                      loadPyodide, ordered, timings));
      loadedData = wanted.map((name) => ({ name }));
    } catch (err) {
      if (opts.snapshot === "require") {
        served.clear();
        await cleanup();
        throw err instanceof BundleError ? err : new BundleError("WT654",
          `snapshot.bin: restoring the memory snapshot failed: ${err?.name ?? "Error"}: ` +
          `${err?.message ?? err}`, { file: "snapshot.bin" });
      }
      (opts.warn ?? console.warn)(`wasmtool: memory snapshot not used, loading the plain way: ${err?.message ?? err}`);
      pyodide = undefined;
    }
  }
  if (pyodide === undefined) {
    try {
      [pyodide, loadedData] = await withCheckedFetch(served, async () => {
        let t0 = performance.now();
        const py = await loadPyodide(config);
        timings["runtime-start"] = performance.now() - t0;
        t0 = performance.now();
        const data = await py.loadPackage(wanted, {
          messageCallback: opts.messageCallback ?? (() => {}),
          errorCallback: (msg) => errors.push(String(msg)),
          checkIntegrity: true,
        });
        timings.packages = performance.now() - t0;
        return [py, data];
      });
    } finally {
      served.clear();
      await cleanup();
    }
  } else {
    served.clear();
    await cleanup();
  }
  const loaded = new Set(loadedData.map((p) => canonicalName(p.name)));
  const missing = wanted.filter((n) => !loaded.has(canonicalName(n)));
  if (missing.length) {
    throw new BundleError("WT854",
      `Pyodide did not load ${missing.join(", ")}${errors.length ? ": " + errors.join("; ") : ""}`,
      { package: missing[0] });
  }
  const helpers = pyodide.globals.get("dict")();
  pyodide.runPython(PY_HELPERS, { globals: helpers });
  const fns = {
    call: helpers.get("call"),
    smoke: helpers.get("smoke"),
    micropipImported: helpers.get("micropip_imported"),
  };
  const bundle = {
    pyodide,
    manifest,
    loaded: [...loaded].sort(),
    micropipImported: () => fns.micropipImported() || "micropip" in pyodide.loadedPackages,
    snapshot: timings.restore !== undefined,
    timings,
    _fns: fns,
  };
  // (6) nothing may have pulled micropip in.
  if (bundle.micropipImported()) {
    throw new BundleError("WT855", "micropip was imported while loading the bundle; a bundle must need no resolution");
  }
  return bundle;
}

/**
 * Call module.function(*args, **kwargs); args/kwargs are JSON text in wasmtool's value encoding
 * (docs/value-encoding.md). Never throws for Python errors: {ok: true, value} | {ok: false, error}.
 *
 * The call goes through wasmtool_runtime.bridge, shipped in the bindings wheel of every bundle
 * `wasmtool install` writes: the same code as the native worker, so a result with no JSON form
 * is a handle {"$handle": n} (numbered from 1 per module; the same object twice is the same
 * number) that a later call of the same module takes as an argument, and
 * callFunction(bundle, module, "wasmtool.release", "[1, 2]") drops handles (value: how many
 * were known). Arguments that do not fit, or an unknown handle, answer error code WT727.
 * A bundle without wasmtool_runtime (built from bare wheels) passes plain JSON only.
 */
export function callFunction(bundle, module, fn, argsJson = "[]", kwargsJson = "{}") {
  if (bundle._bridgeCall === undefined) {
    const scope = bundle.pyodide.globals.get("dict")();
    try {
      bundle._bridgeCall = bundle.pyodide.runPython([
        "try:",
        "    from wasmtool_runtime.bridge import Bridge",
        "except ImportError:",
        "    Bridge = None",
        "Bridge().call if Bridge is not None else None",
      ].join("\n"), { globals: scope }) ?? null;
    } finally {
      scope.destroy();
    }
  }
  const call = bundle._bridgeCall ?? bundle._fns.call;
  const out = JSON.parse(call(module, fn, argsJson, kwargsJson));
  if (out.ok && bundle.micropipImported()) {
    return { ok: false, error: { type: "BundleError", code: "WT855",
                                 message: `micropip was imported by ${module}.${fn}` } };
  }
  return out;
}

/** Import every top-level import name of every bundled and referenced package. */
export function smokeTest(bundle) {
  const packages = [...bundle.manifest.packages, ...bundle.manifest.referenced];
  return JSON.parse(bundle._fns.smoke(JSON.stringify(packages)));
}

// ------------------------------------------------------------------ memory snapshots (snapshot.mjs)

/** What the snapshot key is made of, for this loader, this Pyodide and this bundle. */
async function snapshotInputs(opts, manifest, config) {
  const snapshots = await snapshotsModule();
  let pyodide;
  if (opts.pyodideModule) {
    throw new BundleError("WT652", "the snapshot's key does not cover a Pyodide given as pyodideModule");
  }
  if (IN_NODE) {
    pyodide = await snapshots.nodeRuntimeHashes(await snapshots.nodePyodideDir(opts.indexURL));
  } else if (config.createPyodideModule && manifest.runtime) {
    // the runtime files were fetched and checked against these sha256 (browserRuntime)
    pyodide = Object.fromEntries(manifest.runtime.files.map((f) => [f.file, f.sha256]));
  } else {
    throw new BundleError("WT652", "the Pyodide runtime is not one bundle.json names and checks");
  }
  const packages = [...manifest.packages, ...manifest.referenced].map(
    (p) => ({ name: p.name, version: p.version, sha256: p.sha256 }));
  return { pyodide, packages, loader: await snapshots.loaderHashes() };
}

function parseSnapshotRecord(snapshots, bytes) {
  const file = snapshots.SNAPSHOT_JSON;
  let rec;
  try {
    rec = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new BundleError("WT656", `${file}: not JSON: ${err.message}`, { file });
  }
  if (rec?.format !== snapshots.SNAPSHOT_FORMAT || rec?.format_version !== snapshots.SNAPSHOT_FORMAT_VERSION
      || typeof rec.file !== "string" || typeof rec.sha256 !== "string" || typeof rec.key !== "string"
      || typeof rec.inputs !== "object" || rec.inputs === null) {
    throw new BundleError("WT656", `${file}: not a ${snapshots.SNAPSHOT_FORMAT} v${snapshots.SNAPSHOT_FORMAT_VERSION} ` +
      "record with file, sha256, key and inputs", { file });
  }
  return rec;
}

/** Start Pyodide from the bundle's memory snapshot; throws (BundleError WT65x) when it cannot. */
async function restoreSnapshot(source, opts, manifest, config, loadPyodide, wheels, timings) {
  const snapshots = await snapshotsModule();
  const record = parseSnapshotRecord(snapshots, await source.read(snapshots.SNAPSHOT_JSON));
  const actual = await snapshotInputs(opts, manifest, config);
  const why = snapshots.inputsDiffer(record.inputs, actual);
  const key = await snapshots.snapshotKey(actual);
  if (why || key !== record.key) {
    throw new BundleError("WT652", `${snapshots.SNAPSHOT_JSON}: the snapshot's key does not match: ` +
      (why ?? `recorded ${record.key}, computed ${key}`), { file: snapshots.SNAPSHOT_JSON });
  }
  const bytes = await verifyFile(source, record.file, record.sha256);
  // compiled extensions: their code is loaded again at the recorded bases (snapshot.mjs)
  const libs = Array.isArray(record.libraries) && record.libraries.length
    ? await snapshots.compileLibraries(record.libraries, wheels) : [];
  const factory = IN_NODE
    ? await snapshots.nodeModuleFactory(await snapshots.nodePyodideDir(opts.indexURL))
    : config.createPyodideModule;
  const seen = {};
  let t0 = performance.now();
  let py;
  try {
    py = await loadPyodide({ ...config, _loadSnapshot: bytes,
      createPyodideModule: snapshots.restoringFactory(factory, { libs, tableLength: record.table_length, seen }) });
  } catch (err) {
    if (err instanceof RangeError) {
      throw new BundleError("WT651", `${record.file}: the snapshot (heap ${snapshots.snapshotHeapBytes(bytes)} bytes) ` +
        `does not fit Pyodide's memory on restore (heap was ${seen.heapBefore ?? "?"} bytes, grown to ` +
        `${seen.heapAfter ?? "?"}): RangeError: ${err.message}`, { file: record.file });
    }
    throw err;
  }
  timings.restore = performance.now() - t0;
  const table = py._module.wasmTable?.length;
  if (typeof record.table_length === "number" && table !== record.table_length) {
    throw new BundleError("WT654", `${record.file}: the function table has ${table} slots after the restore, ` +
      `the snapshot was made with ${record.table_length}`, { file: record.file });
  }
  t0 = performance.now();
  await snapshots.unpackWheels(py, wheels);
  snapshots.reseed(py);
  timings.unpack = performance.now() - t0;
  return py;
}

/**
 * opts.makeSnapshot (Node, `wasmtool install --snapshot` through snapshot_make.mjs): start
 * Pyodide with _makeSnapshot, unpack the verified wheels, import every package, and take the
 * snapshot. Returns {snapshot: Uint8Array, record, inputs, key}. A package that fails to import
 * throws WT655; a compiled library that cannot be restored (one that needs other libraries, or
 * does not come from a wheel) throws WT653 (opts.allowLibraries lets it through, for measuring).
 */
async function makeSnapshot(loadPyodide, config, manifest, wheels, opts) {
  const snapshots = await snapshotsModule();
  const py = await loadPyodide({ ...config, _makeSnapshot: true });
  await snapshots.unpackWheels(py, wheels);
  const imports = [...manifest.packages, ...manifest.referenced].flatMap((p) => p.imports);
  const { failures } = snapshots.importAll(py, imports);
  if (failures.length) {
    const f = failures[0];
    throw new BundleError("WT655", `import ${f.import} failed while making the memory snapshot: ${f.type}: ${f.message}` +
      (failures.length > 1 ? ` (and ${failures.length - 1} more)` : ""), { package: f.import });
  }
  const { libraries, refused } = await snapshots.loadedLibraries(py, wheels);
  if (refused.length && !opts.allowLibraries) {
    throw new BundleError("WT653", `importing the bundle's packages loaded compiled libraries a snapshot ` +
      `cannot restore: ${refused.join(", ")} (only a wheel's extension modules that need no other library ` +
      "are restored)", { file: refused[0] });
  }
  const table_length = py._module.wasmTable.length;
  const snapshot = py.makeMemorySnapshot();
  const inputs = await snapshotInputs(opts, manifest, config);
  return { snapshot, inputs, key: await snapshots.snapshotKey(inputs),
           record: { imports, libraries, table_length, heap_bytes: snapshots.snapshotHeapBytes(snapshot) } };
}
