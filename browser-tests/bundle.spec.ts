// The Pyodide bundle in headless Chromium: loads from 127.0.0.1 only and never loads micropip.
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
