// Browser tests for the Pyodide bundle (browser-tests/). Uses Debian's chromium
// (/usr/bin/chromium): never `npx playwright install`.
//
// The web server first builds the fixture bundles (browser-tests/build_fixture.py, wheels from
// $WASMTOOL_TEST_WHEELS) and then serves them with browser-tests/serve.py on 127.0.0.1.
// Environment: WASMTOOL_BROWSER_PORT (default 8770), WASMTOOL_BROWSER_FIXTURE (default
// build/browser-fixture), WASMTOOL_PYTHON (default .venv/bin/python), CHROMIUM (default
// /usr/bin/chromium).
import { defineConfig } from "@playwright/test";

const port = Number(process.env.WASMTOOL_BROWSER_PORT ?? 8770);
const fixture = process.env.WASMTOOL_BROWSER_FIXTURE ?? "build/browser-fixture";
const python = process.env.WASMTOOL_PYTHON ?? ".venv/bin/python";
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export default defineConfig({
  testDir: "browser-tests",
  timeout: 120_000,
  reporter: "list",
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  outputDir: "build/playwright-results",
  webServer: {
    command: `${q(python)} browser-tests/build_fixture.py ${q(fixture)} && ` +
      `exec ${q(python)} browser-tests/serve.py ${port} --root ${q(fixture)}`,
    url: `http://127.0.0.1:${port}/good/bundle.json`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
  },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-quic"],
    },
  },
});
