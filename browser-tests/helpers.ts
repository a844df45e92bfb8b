// Shared by the browser specs: loopback-only routing and reading window.result.
import type { BrowserContext, Page } from "@playwright/test";

export const fixture = process.env.WASMTOOL_BROWSER_FIXTURE ?? "build/browser-fixture";

export interface Result {
  ok: boolean;
  value?: unknown;
  loaded?: string[];
  micropip?: boolean;
  error?: { type: string; message: string; code: string; file?: string; expected?: string; actual?: string };
}

/** Abort every request that does not go to 127.0.0.1 and record it. */
export async function loopbackOnly(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  return blocked;
}

/** Open a bundle page and wait for its window.result; also every URL the page requested. */
export async function runPage(page: Page, url: string): Promise<{ result: Result; requests: string[] }> {
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined,
    null, { timeout: 110_000 });
  const result = await page.evaluate(() => (window as unknown as { result: Result }).result);
  return { result, requests };
}
