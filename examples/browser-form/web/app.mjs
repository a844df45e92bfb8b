// The example app: a card form validated by the app's own pydantic model (../py/checkout) and a
// TOML box parsed by tomli, in Pyodide. The page talks to Python only through the generated
// bindings (bindAlias, bindings.mjs): a method is an extern of the alias without its `<alias>_`
// prefix (checkout_check_card -> checkout.check_card); see
// ../main.mochi for the same calls in Mochi. A Python exception rejects with an Error whose
// .message is Python's message and .code the wasmtool error code.
import { loadBundle } from "./loader.mjs";
import { bindAlias } from "./bindings.mjs";

const $ = (id) => document.getElementById(id);
const status = $("status");
const cardForm = $("card-form");
const tomlForm = $("toml-form");

/** What the page exposes for scripts (tests, benchmarks): readiness, micropip's absence and
 * when each step ended (ms after the navigation started: loaded, bound, firstResult). */
const app = { state: "loading", error: null, firstResultMs: null, micropipLoaded: () => false, timings: {} };
window.app = app;
const reached = (step) => { app.timings[step] = performance.mark(step).startTime; };

function setFieldError(input, errorEl, message) {
  errorEl.textContent = message ?? "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/** Run a bound call; a Python exception becomes its message (the Error's .message). */
async function attempt(call) {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return { ok: false, message: err?.message ?? String(err) };
  }
}

async function main() {
  // The bundle is the folder this page is served from, and so is Pyodide: the loader takes the
  // runtime bundle.json lists (./pyodide/, each file checked against its sha256).
  const bundle = await loadBundle({ bundleUrl: new URL("./", location.href).href });
  reached("loaded");
  app.micropipLoaded = () => bundle.micropipImported();
  const checkout = bindAlias(bundle, "checkout");
  const tomli = bindAlias(bundle, "tomli");
  reached("bound");

  // The first result: the version of pydantic the model runs with, from Python.
  const version = await checkout.pydantic_version();
  reached("firstResult");
  app.firstResultMs = app.timings.firstResult;
  status.textContent = `Ready: pydantic ${version} and tomli running in Pyodide ` +
    `(${(app.firstResultMs / 1000).toFixed(1)} s after the page started loading).`;
  status.dataset.state = "ready";
  for (const button of document.querySelectorAll("button")) button.disabled = false;

  cardForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const numberInput = $("card-number");
    const expiryInput = $("expiry");
    const result = $("card-result");
    result.textContent = "";
    // the model (Card in ../py/checkout) checks both fields; its messages come back by field
    const errors = await checkout.check_card(numberInput.value, expiryInput.value);
    setFieldError(numberInput, $("card-number-error"), errors.number);
    setFieldError(expiryInput, $("expiry-error"), errors.expiry);
    if (Object.keys(errors).length === 0) {
      result.textContent = await checkout.describe_card(numberInput.value, expiryInput.value);
    }
    cardForm.dataset.checked = String((Number(cardForm.dataset.checked) || 0) + 1);
  });

  tomlForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("toml-text");
    const out = await attempt(() => tomli.loads(text.value));
    setFieldError(text, $("toml-error"), out.ok ? null : out.message);
    // a TOML integer beyond 2**53 arrives as a bigint: print it as its digits
    const json = (key, value) => (typeof value === "bigint" ? value.toString() : value);
    $("toml-result").textContent = out.ok ? JSON.stringify(out.value, json, 2) : "";
    tomlForm.dataset.parsed = String((Number(tomlForm.dataset.parsed) || 0) + 1);
  });
  app.state = "ready";
}

main().catch((err) => {
  app.state = "error";
  app.error = { code: err?.code ?? null, message: err?.message ?? String(err) };
  status.dataset.state = "error";
  status.textContent = `Could not start Python: ${err?.code ? err.code + " " : ""}${app.error.message}`;
});
