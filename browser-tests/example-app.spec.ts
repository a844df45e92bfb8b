// examples/browser-form in headless Chromium: the bundle `wasmtool install` wrote for a copy of
// the example (its page comes from the example's [browser] app folder), served on 127.0.0.1.
// Run by tests/pyodide/test_example_app.py, which locks, installs and serves the copy with
// `wasmtool serve` and sets WASMTOOL_EXAMPLE_URL (the served page). The screenshot goes to this
// test's folder under Playwright's output dir (`--output`), as example-app.png.
import * as fs from "node:fs";
import { test, expect } from "@playwright/test";
import { loopbackOnly } from "./helpers";

const url = process.env.WASMTOOL_EXAMPLE_URL;

interface AppState { state: string; error: { code: string | null; message: string } | null;
  firstResultMs: number | null; micropipLoaded: () => boolean }

test("the browser-form example validates with pydantic and parses TOML, on loopback only", async ({ context, page }, testInfo) => {
  test.skip(!url, "run by tests/pyodide/test_example_app.py, which serves the example");
  const blocked = await loopbackOnly(context);
  // what went over the network (a blob: URL is the loader importing bytes it fetched and checked)
  const requests: string[] = [];
  page.on("request", (r) => { if (!r.url().startsWith("blob:")) requests.push(r.url()); });
  const consoleErrors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const failed: string[] = [];
  page.on("response", (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });

  await page.goto(url!);
  await page.waitForFunction(() => (window as unknown as { app?: AppState }).app?.state !== "loading",
    null, { timeout: 110_000 });
  const started = await page.evaluate(() => {
    const app = (window as unknown as { app: AppState }).app;
    return { state: app.state, error: app.error, firstResultMs: app.firstResultMs };
  });
  expect(started.error).toBeNull();
  expect(started.state).toBe("ready");
  expect(started.firstResultMs).toBeGreaterThan(0);
  await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");
  await expect(page.locator("#status")).toContainText(/Ready: pydantic 2\.\d+\.\d+ and tomli/);
  // the app's stylesheet was served as CSS and applied (a wrong MIME type makes Chromium drop it)
  await expect(page.locator("#card-form")).toHaveCSS("border-top-left-radius", "8px");

  const number = page.locator("#card-number");
  const expiry = page.locator("#expiry");
  const numberError = page.locator("#card-number-error");
  const expiryError = page.locator("#expiry-error");
  const result = page.locator("#card-result");
  const check = async (card: string, date: string, round: number) => {
    await number.fill(card);
    await expiry.fill(date);
    await page.getByRole("button", { name: "Check card" }).click();
    await expect(page.locator("#card-form")).toHaveAttribute("data-checked", String(round));
  };

  // valid input: the app's model (py/checkout) accepts the number (digits, Visa's length, Luhn)
  // and the date
  await check("4242 4242 4242 4242", "2031-12-31", 1);
  await expect(result).toHaveText("Visa card ending in 4242, valid until 2031-12-31");
  await expect(numberError).toHaveText("");
  await expect(expiryError).toHaveText("");
  await expect(number).not.toHaveAttribute("aria-invalid", "true");

  // invalid input: the model's messages (its own validators, and pydantic's date parsing),
  // each next to its field
  await check("4242-42x", "2031-12-31", 2);
  await expect(numberError).toHaveText("Card number is not all digits");
  await expect(expiryError).toHaveText("");
  await expect(result).toHaveText("");
  await check("424242424242", "2020-01-31", 3);
  await expect(numberError).toHaveText("Length for a Visa card must be 13, 16 or 19");
  await expect(expiryError).toHaveText("The card expired on 2020-01-31");
  await check("4242424242424241", "2031-02-30", 4);
  await expect(numberError).toHaveText("Card number is not Luhn valid");
  await expect(expiryError).toHaveText("Input should be a valid date or datetime, day value is outside expected range");
  await expect(number).toHaveAttribute("aria-invalid", "true");
  await expect(expiry).toHaveAttribute("aria-invalid", "true");
  await expect(result).toHaveText("");

  // the TOML box, parsed by tomli
  const toml = page.locator("#toml-text");
  const parse = async (text: string, round: number) => {
    await toml.fill(text);
    await page.getByRole("button", { name: "Parse" }).click();
    await expect(page.locator("#toml-form")).toHaveAttribute("data-parsed", String(round));
  };
  await parse('title = "Card check"\nretries = 3\n\n[limits]\ndaily = 500\ncurrencies = ["EUR", "USD"]\n', 1);
  await expect(page.locator("#toml-error")).toHaveText("");
  expect(JSON.parse(await page.locator("#toml-result").textContent() ?? "")).toEqual(
    { title: "Card check", retries: 3, limits: { daily: 500, currencies: ["EUR", "USD"] } });

  // the page as a person sees it: the model's errors beside the fields, the parsed TOML below
  const screenshot = testInfo.outputPath("example-app.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);

  await parse("retries = \n", 2);
  await expect(page.locator("#toml-error")).toHaveText("Invalid value (at line 1, column 11)");
  await expect(page.locator("#toml-result")).toHaveText("");
  await expect(toml).toHaveAttribute("aria-invalid", "true");

  // nothing left 127.0.0.1, and micropip was neither imported nor fetched
  expect(await page.evaluate(() => (window as unknown as { app: AppState }).app.micropipLoaded())).toBe(false);
  expect(blocked).toEqual([]);
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) expect(new URL(r).hostname).toBe("127.0.0.1");
  expect(requests.filter((r) => r.includes("micropip"))).toEqual([]);
  // Pyodide itself came from the bundle (bundle.json's runtime, ./pyodide/ beside the page)
  const served = new URL(url!);
  for (const file of ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"]) {
    expect(requests).toContain(new URL(`pyodide/${file}`, served).href);
  }
  const elsewhere = requests.filter((r) => !r.startsWith(served.origin + "/"));
  expect(elsewhere).toEqual([]);
  expect(consoleErrors).toEqual([]);
  expect(failed).toEqual([]);
});
