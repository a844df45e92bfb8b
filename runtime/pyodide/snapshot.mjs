// Memory snapshots of a wasmtool Pyodide bundle (docs/snapshot.md), imported by loader.mjs when a
// load makes or restores one.
//
// A snapshot is the linear memory of a Pyodide that has started, unpacked the bundle's verified
// wheels into site-packages and imported their modules, taken with Pyodide's private
// `makeMemorySnapshot()` (loadPyodide({_makeSnapshot: true})). `wasmtool install --snapshot`
// makes it (snapshot_make.mjs), restores it once to verify it, and writes beside bundle.json:
//
//   snapshot.bin    the bytes `makeMemorySnapshot()` returned
//   snapshot.json   {format, format_version, file, sha256, size, key, inputs, imports, heap_bytes,
//                    table_length, libraries}
//
// The key pins the snapshot to what it was made from: the sha256 of each Pyodide runtime file,
// the bundle's packages (name, version, sha256, in load order) and the loader's own files
// (loader.mjs, snapshot.mjs). keyText() is the canonical text hashed into it; the Python side
// (wasmtool/bundle/snapshot.py) writes the same text. When the key does not match, or anything
// in the restore fails, the loader warns saying why and takes the plain path.
//
// What a snapshot does not hold, and the restore redoes: the in-memory file system (the wheels
// are unpacked into site-packages again, from the bytes the loader has just verified) and the
// heap size (Pyodide 314 sizes the memory from the wasm module's minimum, 30 MiB, not from the
// snapshot: restoring a larger one fails with "RangeError: offset is out of bounds" unless the
// memory is grown first, which restoringFactory does).
//
// Compiled extensions (.so): their code, function-table slots and GOT entries are not in linear
// memory. makeSnapshot records, per loaded library, its path, dlopen handle, memory base/size and
// table base/size (the handle record Emscripten's loadWebAssemblyModule fills) and the wheel
// member it came from. On restore (restoringFactory), after the snapshot memory is applied, each
// library is loaded again through Emscripten's own loader at the same table base (the table has
// the same length as when it was first loaded) and the same memory base (the allocator chunk
// that held it is freed so that the loader's calloc gets it back; checked, else the restore
// fails and the loader falls back), registered in LDSO under its original handle; then the
// snapshot memory is applied again (the load wrote the library's initial data over its live
// state) and the table padded to its recorded length. The same idea as Cloudflare workerd's
// snapshot restore (load order, memory and table bases); written for Pyodide 314's loader.

export const SNAPSHOT_FORMAT = "wasmtool-pyodide-snapshot";
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_JSON = "snapshot.json";
export const SNAPSHOT_BIN = "snapshot.bin";
/** The Pyodide files whose sha256 enter the key (the runtime pins of wasmtool/bundle/runtime_pins.py). */
export const RUNTIME_KEY_FILES = ["pyodide.asm.mjs", "pyodide.asm.wasm", "pyodide.mjs", "python_stdlib.zip"];
/** The loader's files whose sha256 enter the key. */
export const LOADER_FILES = ["loader.mjs", "snapshot.mjs"];

const IN_NODE = typeof process === "object" && typeof process.versions?.node === "string"
  && typeof window === "undefined";

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(bytes) {
  if (IN_NODE) {
    const crypto = await import("node:crypto");
    return crypto.createHash("sha256").update(bytes).digest("hex");
  }
  return hex(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

/**
 * The canonical text the key is the sha256 of: one line per input, "pyodide <file> <sha256>"
 * (RUNTIME_KEY_FILES order), "package <name> <version> <sha256>" (load order), "loader <file>
 * <sha256>" (LOADER_FILES order). inputs = {pyodide: {file: sha}, packages: [{name, version,
 * sha256}], loader: {file: sha}}.
 */
export function keyText(inputs) {
  const lines = [`${SNAPSHOT_FORMAT} ${SNAPSHOT_FORMAT_VERSION}`];
  for (const f of RUNTIME_KEY_FILES) lines.push(`pyodide ${f} ${inputs.pyodide?.[f] ?? "-"}`);
  for (const p of inputs.packages ?? []) lines.push(`package ${p.name} ${p.version} ${p.sha256}`);
  for (const f of LOADER_FILES) lines.push(`loader ${f} ${inputs.loader?.[f] ?? "-"}`);
  return lines.join("\n") + "\n";
}

export async function snapshotKey(inputs) {
  return await sha256Hex(new TextEncoder().encode(keyText(inputs)));
}

/** Why `recorded` inputs differ from `actual` ones (the first difference, in words), or null. */
export function inputsDiffer(recorded, actual) {
  for (const f of RUNTIME_KEY_FILES) {
    if (recorded.pyodide?.[f] !== actual.pyodide?.[f]) {
      return `the Pyodide runtime differs (${f}: snapshot made with ${recorded.pyodide?.[f] ?? "none"}, ` +
        `running ${actual.pyodide?.[f] ?? "none"})`;
    }
  }
  const was = new Map((recorded.packages ?? []).map((p) => [p.name, p]));
  const now = new Map((actual.packages ?? []).map((p) => [p.name, p]));
  for (const [name, p] of now) {
    const old = was.get(name);
    if (!old) return `package ${name} is not in the snapshot`;
    if (old.version !== p.version || old.sha256 !== p.sha256) {
      return `package ${name} differs (snapshot made with ${old.version} sha256 ${old.sha256}, ` +
        `bundle has ${p.version} sha256 ${p.sha256})`;
    }
  }
  for (const name of was.keys()) if (!now.has(name)) return `package ${name} is in the snapshot but not in the bundle`;
  if ((recorded.packages ?? []).map((p) => p.name).join() !== (actual.packages ?? []).map((p) => p.name).join()) {
    return "the packages' load order differs";
  }
  for (const f of LOADER_FILES) {
    if (recorded.loader?.[f] !== actual.loader?.[f]) {
      return `the loader differs (${f}: snapshot made with ${recorded.loader?.[f] ?? "none"}, ` +
        `running ${actual.loader?.[f] ?? "none"})`;
    }
  }
  return null;
}

/** sha256 of the loader files this module runs beside (import.meta.url's folder). */
export async function loaderHashes() {
  const out = {};
  for (const f of LOADER_FILES) {
    const url = new URL(`./${f}`, import.meta.url);
    let bytes;
    if (IN_NODE && url.protocol === "file:") {
      const fs = await import("node:fs/promises");
      const { fileURLToPath } = await import("node:url");
      bytes = await fs.readFile(fileURLToPath(url));
    } else {
      const resp = await fetch(url);
      if (!resp.ok) throw new Error(`${f}: HTTP ${resp.status}`);
      bytes = new Uint8Array(await resp.arrayBuffer());
    }
    out[f] = await sha256Hex(bytes);
  }
  return out;
}

/** Node: the folder of the Pyodide that `import("pyodide")` (or indexURL) gives. */
export async function nodePyodideDir(indexURL) {
  const path = await import("node:path");
  if (indexURL) return path.resolve(indexURL);
  const { fileURLToPath } = await import("node:url");
  return path.dirname(fileURLToPath(import.meta.resolve("pyodide")));
}

/** Node: sha256 of RUNTIME_KEY_FILES in `dir`. */
export async function nodeRuntimeHashes(dir) {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  const out = {};
  await Promise.all(RUNTIME_KEY_FILES.map(async (f) => {
    out[f] = await sha256Hex(await fs.readFile(path.join(dir, f)));
  }));
  return out;
}

/** Node: Pyodide's module factory (pyodide.asm.mjs's default export) from `dir`. */
export async function nodeModuleFactory(dir) {
  const path = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  return (await import(pathToFileURL(path.join(dir, "pyodide.asm.mjs")).href)).default;
}

/** The heap size a snapshot restores (its bytes after the header). */
export function snapshotHeapBytes(bytes) {
  const head = new Uint32Array(bytes.buffer, bytes.byteOffset, 4);
  return bytes.byteLength - head[1];
}

/**
 * Wrap Pyodide's module factory so that restoring a snapshot first grows the memory to the
 * snapshot's heap size (Pyodide 314 leaves it at the wasm module's 30 MiB minimum, and the
 * restore's HEAP8.set then throws RangeError), then loads the recorded compiled libraries again
 * at their recorded bases (libs: [{lib, module}] in table-base order, module a compiled
 * WebAssembly.Module; tableLength: the recorded final table length). `seen` gets {heapBefore,
 * heapAfter, libraries}.
 */
export function restoringFactory(factory, { libs = [], tableLength, seen = {} } = {}) {
  return async (settings) => {
    const Module = await withoutWasmTrampoline(() => factory(settings));
    const restore = Module.API.restoreSnapshot;
    Module.API.restoreSnapshot = function (bytes) {
      const need = snapshotHeapBytes(bytes);
      seen.heapBefore = Module.HEAP8.length;
      if (Module.HEAP8.length < need && !Module.growMemory(need)) {
        throw new RangeError(`cannot grow Pyodide's memory from ${Module.HEAP8.length} to ${need} bytes ` +
          "for the snapshot");
      }
      seen.heapAfter = Module.HEAP8.length;
      const state = restore.call(this, bytes);
      if (libs.length) {
        for (const { lib, module } of libs) reloadLibrary(Module, lib, module);
        Module.HEAP8.set(bytes.subarray(bytes.byteLength - need));
        if (typeof tableLength === "number") {
          if (Module.wasmTable.length > tableLength) {
            throw new Error(`the function table has ${Module.wasmTable.length} slots after loading the libraries, ` +
              `more than the ${tableLength} recorded`);
          }
          Module.wasmTable.grow(tableLength - Module.wasmTable.length);
        }
        seen.libraries = libs.length;
      }
      return state;
    };
    return Module;
  };
}

/**
 * Run fn() while CPython's wasm call trampoline cannot be built. Before a restore, Pyodide
 * builds a small module (it needs wasm GC: Chromium has it, Node 20 does not) and adds its
 * function to the table, one slot the snapshot made in Node does not have; a library restored at
 * its recorded table base would then collide with it, and the snapshot's memory says "no
 * trampoline" anyway. Without it CPython takes its JavaScript trampoline, as in Node.
 */
async function withoutWasmTrampoline(fn) {
  const Real = WebAssembly.Module;
  const Guarded = function Module(bytes) {
    const m = new Real(bytes);
    if (Real.exports(m).some((e) => e.name === "trampoline_call")) {
      throw new WebAssembly.CompileError("wasmtool: no wasm trampoline while restoring a memory snapshot");
    }
    return m;
  };
  Object.setPrototypeOf(Guarded, Real);
  Guarded.prototype = Real.prototype;
  WebAssembly.Module = Guarded;
  try {
    return await fn();
  } finally {
    WebAssembly.Module = Real;
  }
}

/** dlmalloc (32-bit): the in-use chunk whose payload holds `base` (payload start, 8-aligned). */
function chunkHolding(Module, base, size, align) {
  for (let p = base; p >= base - align && p > 8; p -= 8) {
    const head = Module.HEAPU32[(p - 4) >>> 2];
    const chunk = head & ~7;
    if ((head & 2) && chunk >= size + align && chunk <= size + align + 64) return p;
  }
  return null;
}

/** Load one recorded library again at its recorded memory and table base (see the top of this file). */
function reloadLibrary(Module, lib, module) {
  const where = `${lib.name}`;
  if (Module.wasmTable.length !== lib.table_base) {
    throw new Error(`${where}: the function table has ${Module.wasmTable.length} slots, the library was loaded ` +
      `at ${lib.table_base}`);
  }
  const meta = Module.getDylinkMetadata(module);
  if (meta.memorySize !== lib.memory_size || meta.tableSize !== lib.table_size) {
    throw new Error(`${where}: not the library the snapshot was made with (sizes differ)`);
  }
  const align = 2 ** meta.memoryAlign;
  if (meta.memorySize) {
    const chunk = chunkHolding(Module, lib.memory_base, meta.memorySize, align);
    if (chunk === null) throw new Error(`${where}: no allocator chunk holds its memory base ${lib.memory_base}`);
    Module._free(chunk);   // the loader's calloc below gets this chunk back (checked after)
  }
  const dso = Module.newDSO(lib.name, lib.handle, "loading");
  dso.refcount = Infinity;
  dso.global = false;
  const localScope = {};
  dso.exports = Module.loadWebAssemblyModule(module, { loadAsync: false, nodelete: true, global: false },
                                             lib.name, localScope, lib.handle);
  Object.assign(localScope, dso.exports);
  const got = Module.HEAPU32[(lib.handle + 12) >>> 2];
  const table = Module.HEAPU32[(lib.handle + 20) >>> 2];
  if (got !== lib.memory_base || table !== lib.table_base) {
    throw new Error(`${where}: loaded at memory ${got} / table ${table}, the snapshot needs ` +
      `${lib.memory_base} / ${lib.table_base}`);
  }
}

/** The bytes of one member of a wheel (a zip). */
export async function zipMember(zip, member) {
  const entry = zipEntries(zip).find((e) => e.name === member);
  if (!entry) throw new Error(`${member}: not in the wheel`);
  return await inflateEntry(zip, entry);
}

/**
 * The recorded libraries compiled, in table-base order: [{lib, module}]. Each one's bytes come
 * from its verified wheel (wheels: Map name -> {file_name, bytes}) and must hash to the sha256
 * recorded when the snapshot was made.
 */
export async function compileLibraries(libraries, wheels) {
  const byFile = new Map([...wheels.values()].map((w) => [w.file_name, w]));
  const out = [];
  for (const lib of [...libraries].sort((a, b) => a.table_base - b.table_base)) {
    const wheel = byFile.get(lib.wheel);
    if (!wheel) throw new Error(`${lib.name}: its wheel ${lib.wheel} is not in the bundle`);
    const bytes = await zipMember(wheel.bytes, lib.member);
    const actual = await sha256Hex(bytes);
    if (actual !== lib.sha256) throw new Error(`${lib.member}: sha256 ${actual}, the snapshot recorded ${lib.sha256}`);
    out.push({ lib, module: await WebAssembly.compile(bytes) });
  }
  return out;
}

/**
 * Unpack the verified wheels into site-packages: every member inflated here (Node's zlib or the
 * browser's DecompressionStream: several times faster than Python's zipfile inside Pyodide) and
 * written into Pyodide's file system. No loadPackage: it leaves JS handles that a snapshot
 * refuses, and it does not check hashes in Node anyway. wheels = [{file_name, bytes}] in load
 * order. Leaves no JS reference to a Python object behind.
 */
export async function unpackWheels(pyodide, wheels) {
  const FS = pyodide.FS;
  const site = pyodide.runPython("import site\nsite.getsitepackages()[0]");
  const made = new Set();
  for (const w of wheels) {
    for (const entry of zipEntries(w.bytes)) {
      if (entry.name.endsWith("/")) continue;
      if (entry.name.split("/").some((part) => part === ".." || part === "")) {
        throw new Error(`${w.file_name}: unsafe member name ${JSON.stringify(entry.name)}`);
      }
      const target = `${site}/${entry.name}`;
      const dir = target.slice(0, target.lastIndexOf("/"));
      if (!made.has(dir)) {
        FS.mkdirTree(dir);
        made.add(dir);
      }
      FS.writeFile(target, await inflateEntry(w.bytes, entry));
    }
  }
  pyodide.runPython("import importlib\nimportlib.invalidate_caches()");
}

/** A zip's central directory: [{name, method, csize, local}] (no ZIP64: wheels here are small). */
function zipEntries(zip) {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.byteLength - 22; i >= Math.max(0, zip.byteLength - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error("not a zip archive");
  const decoder = new TextDecoder();
  const out = [];
  let at = dv.getUint32(eocd + 16, true);
  for (let n = dv.getUint16(eocd + 10, true); n > 0; n--) {
    if (dv.getUint32(at, true) !== 0x02014b50) throw new Error("bad zip central directory");
    const nameLen = dv.getUint16(at + 28, true);
    out.push({ name: decoder.decode(zip.subarray(at + 46, at + 46 + nameLen)), method: dv.getUint16(at + 10, true),
               csize: dv.getUint32(at + 20, true), local: dv.getUint32(at + 42, true) });
    at += 46 + nameLen + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
  }
  return out;
}

/** One member's bytes (stored or raw deflate, the two methods wheels use). */
async function inflateEntry(zip, entry) {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const start = entry.local + 30 + dv.getUint16(entry.local + 26, true) + dv.getUint16(entry.local + 28, true);
  const data = zip.subarray(start, start + entry.csize);
  if (entry.method === 0) return data.slice();
  if (entry.method !== 8) throw new Error(`${entry.name}: zip compression method ${entry.method} is not supported`);
  if (IN_NODE) {
    const zlib = await import("node:zlib");
    const out = zlib.inflateRawSync(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Import every name (JSON list); returns {failures: [{import, type, message}], libraries: [...]}. */
export function importAll(pyodide, names) {
  const out = pyodide.runPython([
    "def _wasmtool_import(names):",
    "    import importlib, json",
    "    failures = []",
    "    for name in names:",
    "        try:",
    "            importlib.import_module(name)",
    "        except BaseException as exc:",
    "            failures.append({'import': name, 'type': type(exc).__qualname__, 'message': str(exc)})",
    "    try:",
    "        importlib.import_module('wasmtool_runtime.bridge')",
    "    except ImportError:",
    "        pass",
    "    return json.dumps({'failures': failures})",
    `_wasmtool_out = _wasmtool_import(${JSON.stringify(names)})`,
    "del _wasmtool_import",
    "_wasmtool_out",
  ].join("\n"));
  pyodide.runPython("del _wasmtool_out");
  return JSON.parse(out);
}

/**
 * The dynamic libraries Pyodide has loaded (path, handle, memory base/size, table base/size),
 * each with the wheel and member it was unpacked from and its sha256, in table-base order.
 * wheels: [{file_name, bytes}]. A library that needs other libraries is reported in `refused`.
 */
export async function loadedLibraries(pyodide, wheels) {
  const Module = pyodide._module;
  const site = pyodide.runPython("import site\nsite.getsitepackages()[0]");
  const members = new Map();
  for (const w of wheels) for (const { name: m } of zipEntries(w.bytes)) members.set(`${site}/${m}`, [w.file_name, m]);
  const libs = [], refused = [];
  for (const [handle, dso] of Object.entries(Module.LDSO?.loadedLibsByHandle ?? {})) {
    const h = Number(handle);
    if (!h) continue;   // 0: the main module
    const u32 = Module.HEAPU32;
    const bytes = Module.FS.readFile(dso.name);
    const meta = Module.getDylinkMetadata(bytes);
    const [wheel, member] = members.get(dso.name) ?? [null, null];
    if (meta.neededDynlibs.length || !wheel) {
      refused.push(`${dso.name}${wheel ? ` (needs ${meta.neededDynlibs.join(", ")})` : " (not from a wheel)"}`);
    }
    libs.push({ name: dso.name, handle: h, memory_base: u32[(h + 12) >>> 2], memory_size: u32[(h + 16) >>> 2],
                table_base: u32[(h + 20) >>> 2], table_size: u32[(h + 24) >>> 2], wheel, member,
                sha256: await sha256Hex(bytes) });
  }
  return { libraries: libs.sort((a, b) => a.table_base - b.table_base), refused };
}

/** Reseed what a restored instance would otherwise share with every other one. */
export function reseed(pyodide) {
  pyodide.runPython("import sys\nif 'random' in sys.modules:\n    sys.modules['random'].seed()");
}
