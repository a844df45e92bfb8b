// Playwright settings for browser-tests/example-app.spec.ts alone (tests/pyodide/test_example_app.py
// passes `--config` with this file and the spec's path): no web server, the test serves the example
// itself. Debian's chromium (/usr/bin/chromium, or $CHROMIUM): never `npx playwright install`.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: ".",
  testMatch: "example-app.spec.ts",
  timeout: 180_000,
  reporter: "list",
  workers: 1,
  retries: 0,
  outputDir: "../build/playwright-example-results",
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 900, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-quic"],
    },
  },
});
