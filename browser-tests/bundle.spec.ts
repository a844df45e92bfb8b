// The Pyodide bundle in headless Chromium: loads from 127.0.0.1 only and never loads micropip;
// its Pyodide comes from the bundle's own pyodide/ folder, or from a hosted URL (--pyodide-url).
import { test, expect } from "@playwright/test";
import { loopbackOnly, runPage } from "./helpers";

test("bundle loads and calls pydantic through the entry module, on loopback only", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const args = encodeURIComponent(JSON.stringify(["42"]));
  const { result, requests } = await runPage(page, `/good/index.html?function=int_via_pydantic&args=${args}`);
  expect(result.error).toBeUndefined();
  expect(result.ok).toBe(true);
  expect(result.value).toBe(42);
  expect(result.loaded).toEqual(expect.arrayContaining(["pydantic", "pydantic-core", "wt-probe"]));
  expect(result.micropip).toBe(false);
  expect(blocked).toEqual([]);
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) expect(new URL(r).hostname).toBe("127.0.0.1");
  // micropip's wheel was never even requested.
  expect(requests.filter((r) => r.includes("micropip"))).toEqual([]);
});

test("a Python exception comes back as an error result", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const args = encodeURIComponent(JSON.stringify(["not a number"]));
  const { result } = await runPage(page, `/good/index.html?function=int_via_pydantic&args=${args}`);
  expect(result.ok).toBe(false);
  expect(result.error?.code).toBe("WT856");
  expect(result.error?.type).toContain("ValidationError");
  expect(blocked).toEqual([]);
});

test("the runtime comes from the bundle's own pyodide/ folder", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const { result, requests } = await runPage(page, "/good/index.html?function=int_via_pydantic&args=%5B%227%22%5D");
  expect(result.error).toBeUndefined();
  expect(result.value).toBe(7);
  const runtime = requests.filter((r) => /pyodide\.(asm\.)?(mjs|wasm)$|python_stdlib\.zip$/.test(r));
  expect(runtime.length).toBeGreaterThan(0);
  for (const r of runtime) expect(new URL(r).pathname.startsWith("/good/pyodide/")).toBe(true);
  // each checked file is fetched once: Pyodide is handed the checked bytes, not a second download
  const wasm = requests.filter((r) => r.endsWith("/pyodide.asm.wasm"));
  expect(wasm).toHaveLength(1);
  expect(blocked).toEqual([]);
});

test("a bundle installed with --pyodide-url loads Pyodide from that absolute URL", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const { result, requests } = await runPage(page, "/hosted/index.html?function=int_via_pydantic&args=%5B%225%22%5D");
  expect(result.error).toBeUndefined();
  expect(result.value).toBe(5);
  expect(requests.filter((r) => r.includes("/hosted/pyodide/"))).toEqual([]);
  expect(requests.filter((r) => r.endsWith("/good/pyodide/pyodide.asm.wasm"))).toHaveLength(1);
  expect(blocked).toEqual([]);
});
