// Types of bindings.mjs (docs/typescript.md). TypeScript reads this file for `import ... from "./bindings.mjs"`;
// each generated <alias>.d.ts adds its alias to WasmtoolAliases, which types bindAlias(bundle, "<alias>").

import type { WasmtoolBundle, WasmtoolErrorJson } from "./loader.mjs";

export { BundleError, callFunction, loadBundle } from "./loader.mjs";
export type { BundleManifest, CallResult, LoadBundleOptions, WasmtoolBundle, WasmtoolErrorJson } from "./loader.mjs";

declare global {
  /** Alias name -> its methods; every generated <alias>.d.ts adds its alias. */
  interface WasmtoolAliases {}
}

/** An opaque Python object held by Pyodide: pass it back to the methods that take it. */
export interface WasmtoolHandle {
  readonly $handle: number;
}

/** The methods of an alias no generated .d.ts describes. */
export interface UntypedBindings {
  readonly [method: string]: (...args: unknown[]) => Promise<unknown>;
}

/** A call (or bindAlias) failed: `.code` is the wasmtool error code, `.message` the Python message. */
export declare class WasmtoolCallError extends Error {
  constructor(error: WasmtoolErrorJson, alias: string, method: string);
  readonly code: string;
  /** The Python exception's type (`ValueError`, `pkg.mod.Error`), or the error's type. */
  readonly pyType: string;
  readonly alias: string;
  /** The method called ("" when bindAlias itself failed). */
  readonly method: string;
  /** The error object callFunction returned. */
  readonly error: WasmtoolErrorJson;
}

/** The methods of `alias`, typed by its generated <alias>.d.ts. Throws WasmtoolCallError (WT706) for an unknown alias. */
export declare function bindAlias<K extends keyof WasmtoolAliases>(bundle: WasmtoolBundle, alias: K): WasmtoolAliases[K];
/** The methods of `alias` as the type `T` names them (`bindAlias<PydBindings>(bundle, "pyd")`). */
export declare function bindAlias<T extends object = UntypedBindings>(bundle: WasmtoolBundle, alias: string): T;

/** Drop handles of `alias` from the bundle's handle table; resolves to how many of them were known. */
export declare function releaseHandles(bundle: WasmtoolBundle, alias: string,
                                       handles: Iterable<WasmtoolHandle | number>): Promise<number>;

/** `name` with its inner digit runs spelled out, as extern names spell them. */
export declare function spellInnerDigits(name: string): string;
/** Extern name -> method name of an alias. */
export declare function methodNames(alias: string, externs: Iterable<string>): Record<string, string>;
/** What bindAlias needs of an alias (its methods.json; docs/typescript.md). */
export interface MethodTable {
  readonly alias: string;
  /** The externs module the methods call. */
  readonly module: string;
  /** [method name, extern name, [[parameter name, has a default], ...]], by extern name. */
  readonly methods: readonly (readonly [string, string, readonly (readonly [string, boolean])[]])[];
}
/** The method table of an alias's surface.json (what install writes as methods.json). */
export declare function methodTable(surface: {
  alias: string; import_names: readonly string[];
  functions?: readonly { extern_name: string; params?: readonly { name: string; has_default?: boolean }[] }[];
}): MethodTable;
/** The wrapper module of an alias's surface.json. */
export declare function externsModule(surface: { alias: string; import_names: readonly string[] }): string;
/** JavaScript values as JSON text in the value encoding. */
export declare function encodeValue(value: unknown): string;
/** A JSON value of the value encoding as JavaScript (tagged objects become bigint, NaN, Map...). */
export declare function decodeValue(value: unknown): unknown;
