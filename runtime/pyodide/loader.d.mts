// Types of loader.mjs (docs/typescript.md). TypeScript reads this file for `import ... from "./loader.mjs"`.

export declare const FORMAT: "wasmtool-pyodide-bundle";
/** The bundle.json format version this loader writes; it reads every one of READABLE_FORMAT_VERSIONS. */
export declare const FORMAT_VERSION: number;
export declare const READABLE_FORMAT_VERSIONS: readonly number[];

/** A bundle could not be loaded or checked: `.code` is the wasmtool error code (WT841, WT842, ...). */
export declare class BundleError extends Error {
  constructor(code: string, message: string, extra?: Record<string, unknown>);
  readonly code: string;
  readonly file?: string;
  readonly package?: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** The error object of the wire protocol (`{ok: false, error}`). */
export interface WasmtoolErrorJson {
  readonly type: string;
  readonly message: string;
  readonly code: string;
  readonly py_type?: string;
  readonly file?: string;
  readonly package?: string;
  readonly [key: string]: unknown;
}

/** What callFunction returns: the JSON value of the result, or the error. Never throws for Python errors. */
export type CallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: WasmtoolErrorJson };

/** One package of bundle.json. */
export interface BundlePackage {
  readonly name: string;
  readonly version: string;
  readonly file: string;
  readonly sha256: string;
  readonly depends: readonly string[];
  readonly imports: readonly string[];
  readonly [key: string]: unknown;
}

/** bundle.json (format wasmtool-pyodide-bundle); docs/browser.md describes every key. */
export interface BundleManifest {
  readonly format: "wasmtool-pyodide-bundle";
  readonly format_version: number;
  readonly packages: readonly BundlePackage[];
  readonly lock: { readonly file: string; readonly sha256: string };
  readonly [key: string]: unknown;
}

/** Options of loadBundle: `bundleDir` in Node, `bundleUrl` in a browser. */
export interface LoadBundleOptions {
  /** Node: the bundle folder. */
  bundleDir?: string;
  /** Browser: the bundle folder's URL (relative to the page). */
  bundleUrl?: string | URL;
  /** Pyodide's folder (Node) or URL (browser). */
  indexURL?: string;
  /** An explicit URL of pyodide.mjs. */
  pyodideModule?: string;
  /** Python's standard output, line by line. */
  stdout?: (line: string) => void;
  /** Python's standard error, line by line. */
  stderr?: (line: string) => void;
  /** Pyodide's package loading messages. */
  messageCallback?: (message: string) => void;
  /** The bundle's memory snapshot (docs/snapshot.md): false skips it; "require" makes a snapshot
   * that cannot be restored an error instead of a warning and the plain path. */
  snapshot?: boolean | "require";
  /** Where the loader's warnings go (default: console.warn), e.g. why a snapshot was not used. */
  warn?: (message: string) => void;
}

/** A loaded bundle (loadBundle's result). */
export interface WasmtoolBundle {
  /** The Pyodide instance (its own types come with the pyodide package). */
  readonly pyodide: unknown;
  readonly manifest: BundleManifest;
  /** The normalised names of the packages loaded, sorted. */
  readonly loaded: readonly string[];
  micropipImported(): boolean;
  /** True when Pyodide was restored from the bundle's memory snapshot. */
  readonly snapshot: boolean;
  /** The loader's phases in ms: "runtime-start" and "packages" (plain), "restore" and "unpack" (snapshot). */
  readonly timings: Readonly<Record<string, number>>;
}

/** Load a bundle, checking every file's sha256 before Pyodide sees it (rejects with a BundleError). */
export declare function loadBundle(opts?: LoadBundleOptions): Promise<WasmtoolBundle>;

/** Call module.fn(*args, **kwargs); args and kwargs are JSON text. */
export declare function callFunction(bundle: WasmtoolBundle, module: string, fn: string, argsJson?: string,
                                     kwargsJson?: string): CallResult;

/** Import every top-level import name of every bundled package. */
export declare function smokeTest(bundle: WasmtoolBundle): {
  imported: string[];
  failures: { package: string; import: string; type: string; message: string }[];
};

/** Any thrown value as the JSON error object of the wire protocol. */
export declare function errorToJson(err: unknown): WasmtoolErrorJson;

/** PEP 503 normalised name. */
export declare function canonicalName(name: string): string;
