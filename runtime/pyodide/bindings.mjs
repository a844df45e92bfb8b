// Typed calls into a wasmtool Pyodide bundle: one object per bound alias (docs/typescript.md).
//
//   import { loadBundle, bindAlias } from "./bindings.mjs";
//   const bundle = await loadBundle({ bundleUrl: "./" });
//   const pyd = bindAlias(bundle, "pyd");              // typed by the generated pyd.d.ts
//   await pyd.to_camel("snake_case")                   // -> the decoded result
//
// bindAlias reads python_wrap/<alias>/methods.json from the bundle's bindings (through
// callFunction, like every call; the method table install derives from surface.json, and
// surface.json itself when a bundle has no table) and returns an object with one method per
// extern of the alias, named like `wasmtool call ALIAS.FUNC` names it: the extern without its `<alias>_`
// prefix (methodNames; wasmtool/synth/typescript.py applies the same rule to the .d.ts).
// Every method returns a Promise: the result decoded from the JSON value encoding
// (docs/value-encoding.md), or a rejection with a WasmtoolCallError carrying the error's
// code and the Python message.

import { callFunction } from "./loader.mjs";

export { BundleError, callFunction, loadBundle } from "./loader.mjs";

/** A call (or bindAlias) failed: `.code` is the wasmtool error code, `.message` Python's message. */
export class WasmtoolCallError extends Error {
  constructor(error, alias, method) {
    super(String(error?.message ?? "the call failed"));
    this.name = "WasmtoolCallError";
    this.code = String(error?.code ?? "WT859");
    this.pyType = String(error?.py_type ?? error?.type ?? "");
    this.alias = alias;
    this.method = method;
    this.error = error;
  }
}

const TAGS = new Set(["$int", "$float", "$bytes", "$map", "$handle"]);
const DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** wasmtool.mochi_syntax.spell_inner_digits: a digit run that a letter or `_` follows is spelled out. */
export function spellInnerDigits(name) {
  return name.replace(/[0-9]+(?=[\p{L}\p{Nl}\p{No}_])/gu, (run, start) => {
    const words = Array.from(run, (d) => DIGIT_WORDS[Number(d)]).join("_");
    const before = start === 0 || name[start - 1] === "_" ? "" : "_";
    const after = name[start + run.length] === "_" ? "" : "_";
    return `${before}${words}${after}`;
  });
}

/**
 * Extern name -> method name: the extern without `<alias>_` (the alias as written or with its
 * digits spelled as externs spell them), else the extern itself; two externs that would get
 * one name both keep their extern names. Same rule as wasmtool.synth.typescript.method_names.
 */
export function methodNames(alias, externs) {
  const prefixes = [...new Set([`${alias}_`, spellInnerDigits(`${alias}_`)])];
  const wanted = new Map();
  for (const extern of [...new Set(externs)].sort()) {
    let name = extern;
    for (const prefix of prefixes) {
      if (extern.startsWith(prefix) && extern.length > prefix.length) {
        name = extern.slice(prefix.length);
        break;
      }
    }
    wanted.set(extern, name);
  }
  const counts = new Map();
  for (const name of wanted.values()) counts.set(name, (counts.get(name) ?? 0) + 1);
  const out = {};
  for (const [extern, name] of wanted) {
    out[extern] = counts.get(name) === 1 && (name === extern || !wanted.has(name)) ? name : extern;
  }
  return out;
}

/** The wrapper module of a surface: wasmtool.synth.workspace.externs_module. */
export function externsModule(surface) {
  const imports = [...surface.import_names];
  const primary = imports.includes(surface.alias) ? surface.alias : (imports.sort()[0] ?? surface.alias);
  return `python_wrap.${surface.alias}.${primary.replaceAll(".", "_")}_externs`;
}

function encodeReplacer(_key, value) {
  if (typeof value === "bigint") {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : { $int: value.toString() };
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    return { $float: Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf" };
  }
  if (value instanceof Map) return { $map: [...value.entries()] };
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value, Number);
  return value;
}

/** JavaScript values as JSON text in the value encoding (bigint, NaN, Map, Set, typed arrays). */
export function encodeValue(value) {
  return JSON.stringify(value === undefined ? null : value, encodeReplacer);
}

function decodeBase64(text) {
  return Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** A JSON value of the value encoding as JavaScript: tagged objects become bigint, NaN, Map... */
export function decodeValue(value) {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && TAGS.has(keys[0])) {
    const tag = keys[0];
    const payload = value[tag];
    if (tag === "$int" && typeof payload === "string" && /^-?[0-9]+$/.test(payload)) {
      const big = BigInt(payload);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    if (tag === "$float" && ["nan", "inf", "-inf"].includes(payload)) {
      return payload === "nan" ? NaN : payload === "inf" ? Infinity : -Infinity;
    }
    if (tag === "$bytes" && typeof payload === "string") return decodeBase64(payload);
    if (tag === "$map" && Array.isArray(payload)) {
      const entries = payload.map((pair) => [decodeValue(pair[0]), decodeValue(pair[1])]);
      return entries.every(([k]) => typeof k === "string") ? Object.fromEntries(entries) : new Map(entries);
    }
    if (tag === "$handle") return Object.freeze({ $handle: payload });
  }
  return Object.fromEntries(keys.map((k) => [k, decodeValue(value[k])]));
}

const TABLES = new WeakMap();   // bundle -> Map(alias -> its method table)

function describe(bundle, alias) {
  let known = TABLES.get(bundle);
  if (known === undefined) TABLES.set(bundle, (known = new Map()));
  if (!known.has(alias)) known.set(alias, readTable(bundle, alias));
  return known.get(alias);
}

function readResource(bundle, alias, file) {
  const args = JSON.stringify([`python_wrap.${alias}`, file]);
  const res = callFunction(bundle, "wasmtool_runtime.bridge", "read_text", args, "{}");
  // a bundle without wasmtool_runtime.bridge.read_text (an older wasmtool wrote it)
  if (!res.ok && res.error?.code === "WT857") {
    return callFunction(bundle, "importlib.resources", "read_text", args, "{}");
  }
  return res;
}

/**
 * The method table of an alias surface.json describes (what wasmtool.synth.typescript.method_table
 * writes as methods.json): {module, methods: [[method, extern, [[param, has_default], ...]], ...]}.
 */
export function methodTable(surface) {
  const functions = [...(surface.functions ?? [])].sort((a, b) => (a.extern_name < b.extern_name ? -1 : 1));
  const names = methodNames(surface.alias, functions.map((f) => f.extern_name));
  return {
    alias: surface.alias,
    module: externsModule(surface),
    methods: functions.map((f) => [names[f.extern_name], f.extern_name,
                                   (f.params ?? []).map((p) => [p.name, Boolean(p.has_default)])]),
  };
}

function readTable(bundle, alias) {
  if (typeof alias !== "string" || alias === "" || /[./\\\s]/.test(alias)) {
    throw new WasmtoolCallError({ code: "WT706", type: "UnknownAliasError",
                                  message: `bindAlias: ${JSON.stringify(alias)} is not an alias name` }, alias, "");
  }
  // methods.json: the small table install writes beside surface.json; a bundle without it
  // (written by an older wasmtool) is bound from surface.json itself.
  const table = readResource(bundle, alias, "methods.json");
  if (table.ok && typeof table.value === "string") return JSON.parse(table.value);
  const res = readResource(bundle, alias, "surface.json");
  if (!res.ok || typeof res.value !== "string") {
    const why = res.ok ? "not text" : res.error?.message;
    throw new WasmtoolCallError({ code: "WT706", type: "UnknownAliasError",
                                  message: `bindAlias: no alias ${alias} is bound in this bundle `
                                    + `(python_wrap/${alias}/surface.json: ${why})` }, alias, "");
  }
  return methodTable(JSON.parse(res.value));
}

function method(bundle, alias, module, extern, params, name) {
  return async function (...given) {
    if (given.length > params.length) {
      throw new WasmtoolCallError({ code: "WT727", type: "TypeError",
                                    message: `${alias}.${name}: takes ${params.length} argument(s), `
                                      + `${given.length} given` }, alias, name);
    }
    const args = given.map((a) => (a === undefined ? null : a));
    while (args.length < params.length && params[args.length][1]) args.push(null);
    if (args.length < params.length) {
      throw new WasmtoolCallError({ code: "WT727", type: "TypeError",
                                    message: `${alias}.${name}: missing argument ${params[args.length][0]}` },
                                  alias, name);
    }
    const res = await callFunction(bundle, module, extern, encodeValue(args), "{}");
    if (!res.ok) throw new WasmtoolCallError(res.error, alias, name);
    return decodeValue(res.value);
  };
}

/**
 * Drop handles of `alias` from the bundle's handle table (`wasmtool.release`); resolves to how
 * many of them were known. A released number is never handed out again.
 */
export async function releaseHandles(bundle, alias, handles) {
  const module = describe(bundle, alias).module;
  const res = await callFunction(bundle, module, "wasmtool.release", encodeValue([...handles]), "{}");
  if (!res.ok) throw new WasmtoolCallError(res.error, alias, "wasmtool.release");
  return decodeValue(res.value);
}

/** The methods of `alias` in `bundle` (from loadBundle); throws WasmtoolCallError WT706 for an unknown alias. */
export function bindAlias(bundle, alias) {
  const table = describe(bundle, alias);
  const bound = Object.create(null);
  for (const [name, extern, params] of table.methods) {
    Object.defineProperty(bound, name, { value: method(bundle, alias, table.module, extern, params, name),
                                         enumerable: true });
  }
  return Object.freeze(bound);
}
