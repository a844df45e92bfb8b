// The folder `wasmtool install --target=pyodide-314` writes is deployable as it is: copied ALONE
// to another folder and served by a plain static file server (`python -m http.server`), it
// loads in Chromium with every request that does not go to 127.0.0.1 aborted, and the
// generated wrapper answers. Nothing outside the folder is needed.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { loopbackOnly, runPage } from "./helpers";

const MODULE = "python_wrap.pydantic.pydantic_externs";
const FN = "pydantic_PaymentCardNumber_validate_luhn_check_digit";
const python = process.env.WASMTOOL_PYTHON ?? ".venv/bin/python";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`http.server exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

test("the installed bundle folder, copied alone and served by http.server, runs offline", async ({ context, page }) => {
  const installed = process.env.WASMTOOL_BROWSER_APP_BUNDLE;
  expect(installed, "WASMTOOL_BROWSER_APP_BUNDLE names the folder install wrote").toBeTruthy();
  const deployRoot = mkdtempSync(path.join(tmpdir(), "wasmtool-deploy-"));
  const site = path.join(deployRoot, "site");
  cpSync(installed as string, site, { recursive: true });
  const port = await freePort();
  const server = spawn(python, ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site],
    { cwd: deployRoot, stdio: "ignore" });
  try {
    await waitForServer(`http://127.0.0.1:${port}/bundle.json`, server);
    const blocked = await loopbackOnly(context);
    const args = encodeURIComponent(JSON.stringify(["4242424242424242"]));
    const { result, requests } = await runPage(page,
      `http://127.0.0.1:${port}/index.html?module=${MODULE}&function=${FN}&args=${args}`);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.value).toBe("4242424242424242");
    expect(result.micropip).toBe(false);
    expect(blocked).toEqual([]);
    const network = requests.filter((r) => !r.startsWith("blob:") && !r.startsWith("data:"));
    for (const r of network) expect(new URL(r).host).toBe(`127.0.0.1:${port}`);
    // Pyodide itself came from the copied folder
    expect(network.filter((r) => r.endsWith("/pyodide/pyodide.asm.wasm"))).toHaveLength(1);
  } finally {
    server.kill("SIGTERM");
    rmSync(deployRoot, { recursive: true, force: true });
  }
});
