// A wheel or a Pyodide runtime file changed after the bundle was built is refused by the loader,
// naming the file, before any of it runs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { fixture, loopbackOnly, runPage } from "./helpers";

test("a tampered wheel is refused, naming the file", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const { tampered_file: tamperedFile } = JSON.parse(readFileSync(path.join(fixture, "fixture.json"), "utf8"));
  const { result, requests } = await runPage(page, "/tampered/index.html");
  expect(result.ok).toBe(false);
  expect(result.error?.code).toBe("WT842");
  expect(result.error?.file).toBe(tamperedFile);
  expect(result.error?.message).toContain(tamperedFile);
  expect(result.error?.expected).toMatch(/^[0-9a-f]{64}$/);
  expect(result.error?.actual).toMatch(/^[0-9a-f]{64}$/);
  expect(result.error?.actual).not.toBe(result.error?.expected);
  // Refused before Pyodide was even started: its wasm was never requested.
  expect(requests.filter((r) => r.endsWith("pyodide.asm.wasm"))).toEqual([]);
  expect(blocked).toEqual([]);
});

test("a tampered Pyodide runtime file is refused before Pyodide starts", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const { tampered_runtime_file: tamperedFile } = JSON.parse(readFileSync(path.join(fixture, "fixture.json"), "utf8"));
  const { result } = await runPage(page, "/tampered-runtime/index.html");
  expect(result.ok).toBe(false);
  expect(result.error?.code).toBe("WT842");
  expect(result.error?.file).toBe(tamperedFile);
  expect(result.error?.message).toContain(tamperedFile);
  expect(result.error?.actual).toMatch(/^[0-9a-f]{64}$/);
  expect(result.error?.actual).not.toBe(result.error?.expected);
  expect(result.loaded).toBeUndefined();
  expect(blocked).toEqual([]);
});
