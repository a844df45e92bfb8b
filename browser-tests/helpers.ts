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

/** The host a request goes to; a blob: URL (bytes the page made itself) counts as its origin's. */
function hostOf(href: string): string {
  const url = new URL(href);
  return url.protocol === "blob:" ? new URL(url.pathname).hostname : url.hostname;
}

/** Abort every request that does not go to 127.0.0.1 and record it. */
export async function loopbackOnly(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (hostOf(url.href) === "127.0.0.1") return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  return blocked;
}

/**
 * Open a bundle page and wait for its window.result; also every URL the page requested over
 * the network (blob: URLs, the loader importing bytes it already fetched and checked, are not).
 */
export async function runPage(page: Page, url: string): Promise<{ result: Result; requests: string[] }> {
  const requests: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("blob:")) requests.push(r.url());
  });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined,
    null, { timeout: 110_000 });
  const result = await page.evaluate(() => (window as unknown as { result: Result }).result);
  return { result, requests };
}
