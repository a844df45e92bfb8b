#!/usr/bin/env node
// bench/pyodide.py (d): page load to first result in headless Chromium (Debian's, never a
// downloaded one), one fresh browser context (empty HTTP cache) per sample, interleaved.
//
//   node page_load.mjs --url NAME=URL [--url NAME=URL ...] --runs N [--chromium PATH]
//
// Each page sets window.app = {state, firstResultMs, error, ...}; firstResultMs is measured by
// the page itself (performance.mark, relative to the navigation's time origin). Requests that do
// not go to 127.0.0.1 are aborted and counted. Prints one JSON line:
// {"ok": true, "samples": {NAME: [{first_result_s, wall_s, requests, offsite, steps_s, transfer_bytes,
// snapshot_bytes, warnings}]}, "extra": {NAME: app}} (transfer_bytes: response bodies; snapshot_bytes:
// snapshot.bin's; warnings: console lines starting "wasmtool:")
// steps_s: the page's window.app.timings (ms after navigation start, per step) in seconds.
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const { values } = parseArgs({ options: {
  url: { type: "string", multiple: true, default: [] }, runs: { type: "string", default: "3" },
  chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
} });
const pages = values.url.map((u) => { const i = u.indexOf("="); return [u.slice(0, i), u.slice(i + 1)]; });
if (pages.length === 0) { emit({ ok: false, error: "usage: page_load.mjs --url NAME=URL ... --runs N" }); process.exit(2); }

const browser = await chromium.launch({ executablePath: values.chromium, headless: true,
  args: ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic"] });
const samples = Object.fromEntries(pages.map(([n]) => [n, []]));
const extra = {};
try {
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [name, url] of pages) {
      const context = await browser.newContext();
      let offsite = 0;
      await context.route("**/*", (route) => {
        if (new URL(route.request().url()).hostname === "127.0.0.1") return route.continue();
        offsite++;
        return route.abort();
      });
      const page = await context.newPage();
      let requests = 0;
      page.on("request", () => requests++);
      // bytes transferred (response bodies), and those of a memory snapshot (snapshot.bin)
      const sizes = [];
      const warnings = [];   // the loader's own warnings (a snapshot not used says why)
      page.on("console", (m) => { if (m.text().startsWith("wasmtool:")) warnings.push(m.text()); });
      page.on("requestfinished", (req) => sizes.push(req.sizes().then(
        (s) => [req.url(), s.responseBodySize], () => [req.url(), 0])));
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForFunction(() => window.app && window.app.state !== "loading", null, { timeout: 300_000 });
      const wall = (performance.now() - t0) / 1000;
      const done = await Promise.all(sizes);
      const transfer = done.reduce((n, [, b]) => n + b, 0);
      const snapshotBytes = done.filter(([u]) => u.endsWith("/snapshot.bin")).reduce((n, [, b]) => n + b, 0);
      const app = await page.evaluate(() => ({ state: window.app.state, error: window.app.error,
        firstResultMs: window.app.firstResultMs, installed: window.app.installed ?? null,
        timings: window.app.timings ?? {},
        micropip: window.app.micropipLoaded ? window.app.micropipLoaded() : null }));
      await context.close();
      if (app.state !== "ready") throw new Error(`${name}: ${JSON.stringify(app.error)}`);
      const steps = Object.fromEntries(Object.entries(app.timings).map(([k, v]) => [k, v / 1000]));
      samples[name].push({ first_result_s: app.firstResultMs / 1000, wall_s: wall, requests, offsite,
        steps_s: steps, transfer_bytes: transfer, snapshot_bytes: snapshotBytes, warnings });
      extra[name] = app;
    }
  }
  emit({ ok: true, samples, extra });
} catch (err) {
  emit({ ok: false, error: String(err?.message ?? err) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
