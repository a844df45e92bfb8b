// A bundle written by the real `wasmtool install --target=pyodide-314` (see tests/pyodide/test_browser.py):
// the GENERATED pydantic wrapper validates a value in headless Chromium, from 127.0.0.1 only, without micropip.
import { test, expect } from "@playwright/test";
import { loopbackOnly, runPage } from "./helpers";

const MODULE = "python_wrap.pydantic.pydantic_externs";
const FN = "pydantic_PaymentCardNumber_validate_luhn_check_digit";

test("generated pydantic wrapper validates in the browser, on loopback only", async ({ context, page }) => {
  const blocked = await loopbackOnly(context);
  const args = encodeURIComponent(JSON.stringify(["4242424242424242"]));
  const { result, requests } = await runPage(page, `/app/index.html?module=${MODULE}&function=${FN}&args=${args}`);
  expect(result.error).toBeUndefined();
  expect(result.ok).toBe(true);
  expect(result.value).toBe("4242424242424242");
  expect(result.loaded).toEqual(expect.arrayContaining(["pydantic", "pydantic-core", "mochi-bindings"]));
  expect(result.micropip).toBe(false);
  expect(blocked).toEqual([]);
  for (const r of requests) expect(new URL(r).hostname).toBe("127.0.0.1");
  expect(requests.filter((r) => r.includes("micropip"))).toEqual([]);

  const bad = encodeURIComponent(JSON.stringify(["4242424242424241"]));
  const second = await runPage(page, `/app/index.html?module=${MODULE}&function=${FN}&args=${bad}`);
  expect(second.result.ok).toBe(false);
  expect(second.result.error?.type).toContain("PydanticCustomError");
});
