// Loads a wasmtool Pyodide bundle (wasmtool/bundle/pyodide.py) in Node or in a browser.
//
//   const bundle = await loadBundle({ bundleDir });                    // Node
//   const bundle = await loadBundle({ bundleUrl, indexURL });          // browser
//   callFunction(bundle, "mod", "fn", "[1, 2]", "{}")  -> {ok, value} | {ok: false, error}
//   smokeTest(bundle)                                   -> {imported, failures}
//
// What it guarantees, in order:
//  1. bundle.json and pyodide-lock.json are read; the lock's sha256 and its entries for the
//     app's packages must agree with bundle.json (WT851 / WT842).
//  2. Every wheel is hashed HERE before Pyodide sees it: in Node, Pyodide does not check
//     integrity at all. A mismatch throws WT842 naming the file and both hashes.
//  3. Pyodide starts with lockFileContents and packageBaseUrl set, and the app's entries point
//     at absolute paths (Node) or absolute URLs (browser). With packageBaseUrl set, Pyodide's
//     CDN fallback URL is the bundle folder itself, so nothing is ever fetched from elsewhere.
//  4. loadPackage does not throw when a package fails: the names it returns are compared with
//     the names asked for, and any difference throws WT854 with the errorCallback messages.
//  5. micropip must not be in sys.modules (WT855): the bundle needs no resolution.
//
// Error codes are shared with wasmtool/bundle/errors.py.

const IN_NODE = typeof process === "object" && typeof process.versions?.node === "string"
  && typeof window === "undefined";

export const FORMAT = "wasmtool-pyodide-bundle";
export const FORMAT_VERSION = 1;

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
    for (const key of ["file", "package", "expected", "actual", "py_type"]) {
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
  if (m?.format !== FORMAT || m?.format_version !== FORMAT_VERSION) {
    throw new BundleError("WT851",
      `bundle.json: not a ${FORMAT} v${FORMAT_VERSION} manifest (format ${m?.format} v${m?.format_version})`,
      { file: "bundle.json" });
  }
  if (!Array.isArray(m.packages) || typeof m.lock?.file !== "string" || typeof m.lock?.sha256 !== "string") {
    throw new BundleError("WT851", "bundle.json: packages or lock missing", { file: "bundle.json" });
  }
  return m;
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

async function importPyodide(opts) {
  if (opts.pyodideModule) return await import(opts.pyodideModule);
  if (IN_NODE) {
    if (opts.indexURL) {
      const url = await import("node:url");
      const path = await import("node:path");
      return await import(url.pathToFileURL(path.join(opts.indexURL, "pyodide.mjs")).href);
    }
    return await import("pyodide");
  }
  const indexURL = opts.indexURL ?? new URL("/pyodide/", globalThis.location.href).href;
  return await import(new URL("pyodide.mjs", indexURL).href);
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
 * or URL, default: the installed npm package in Node, "/pyodide/" in a browser); pyodideModule
 * (explicit URL of pyodide.mjs); stdout/stderr (line callbacks for Python's output).
 * Returns {pyodide, manifest, loaded, micropipImported()}.
 */
export async function loadBundle(opts = {}) {
  const where = await openBundle(opts);
  const manifest = parseManifest(await where.read("bundle.json"));
  const lockBytes = await verifyFile(where, manifest.lock.file, manifest.lock.sha256);
  const lock = JSON.parse(new TextDecoder().decode(lockBytes));
  for (const pkg of manifest.packages) {
    const entry = lock.packages?.[pkg.name];
    if (!entry || entry.sha256 !== pkg.sha256 || entry.file_name !== pkg.file) {
      throw new BundleError("WT851",
        `${manifest.lock.file}: entry for ${pkg.name} disagrees with bundle.json`,
        { file: manifest.lock.file, package: pkg.name });
    }
  }
  // (2) verify every wheel before Pyodide sees it.
  for (const pkg of manifest.packages) await verifyFile(where, pkg.file, pkg.sha256, pkg.name);
  // (3) absolute locations for the app's wheels: no lookup relative to anything else.
  for (const pkg of manifest.packages) lock.packages[pkg.name].file_name = where.resolve(pkg.file);

  const { loadPyodide } = await importPyodide(opts);
  const config = {
    lockFileContents: lock,
    packageBaseUrl: where.base,
    checkAPIVersion: true,
  };
  if (opts.indexURL) config.indexURL = opts.indexURL;
  if (IN_NODE) config.packageCacheDir = where.base;
  if (opts.stdout) config.stdout = opts.stdout;
  if (opts.stderr) config.stderr = opts.stderr;
  const pyodide = await loadPyodide(config);

  // (4) loadPackage resolves even when a package failed: compare names.
  const wanted = manifest.packages.map((p) => p.name);
  const errors = [];
  const loadedData = await pyodide.loadPackage(wanted, {
    messageCallback: opts.messageCallback ?? (() => {}),
    errorCallback: (msg) => errors.push(String(msg)),
    checkIntegrity: true,
  });
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
    _fns: fns,
  };
  // (5) nothing may have pulled micropip in.
  if (bundle.micropipImported()) {
    throw new BundleError("WT855", "micropip was imported while loading the bundle; a bundle must need no resolution");
  }
  return bundle;
}

/** Call module.function(*args, **kwargs); args/kwargs are JSON text. Never throws for Python errors. */
export function callFunction(bundle, module, fn, argsJson = "[]", kwargsJson = "{}") {
  const out = JSON.parse(bundle._fns.call(module, fn, argsJson, kwargsJson));
  if (out.ok && bundle.micropipImported()) {
    return { ok: false, error: { type: "BundleError", code: "WT855",
                                 message: `micropip was imported by ${module}.${fn}` } };
  }
  return out;
}

/** Import every top-level import name of every bundled package. */
export function smokeTest(bundle) {
  return JSON.parse(bundle._fns.smoke(JSON.stringify(bundle.manifest.packages)));
}
