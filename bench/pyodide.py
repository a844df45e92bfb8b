"""bench: Pyodide 314, in one run, against the peers in the same run.

(a) `wasmtool lock --upgrade` for target pyodide-314 (pydantic ^2.9, attrs, tomli;
    ``pyodide-packages = "index-first"``) with a warm artefact cache and with an empty one,
    vs micropip 0.11.1 resolving + installing the same requirements inside Pyodide under
    Node, pointed at the same local index. Target: ours >= 5x faster (end to end: process
    start -> locked / installed; the finer ratios are recorded next to it);
(b) cold load of the bundle `wasmtool install --target=pyodide-314` writes (its own
    loader.mjs: checks, sha256 of every wheel, loadPyodide, loadPackage) vs plain Pyodide
    `loadPackage` of the same wheel files (default lock, no verification); one fresh Node
    process per sample. Target: <= 1.2x;
(c) call overhead inside ONE Pyodide instance: `python_wrap.tomli.tomli_externs:tomli_loads`
    (the generated wrapper) vs `tomli.loads` called directly, timed by loops inside Pyodide /
    Node (bench/pyodide_js/call_overhead.mjs), no per-call process round trips;
(d) page load to first result in headless Chromium (bench/pyodide_js/page_load.mjs) for the
    example app examples/browser-form (installed from a copy: its page, the bundle, bindAlias)
    vs plain Pyodide + `micropip.install` of the same packages from the same local index
    (bench/pyodide_js/micropip_page/), one fresh browser context per sample, interleaved. Both
    pages are served by one loopback server (the index proxied on the same origin, so micropip
    needs no CORS); "first result" = pydantic's version computed in Python and shown.

(e) first call, memory snapshot vs plain, for the example app examples/browser-form (installed
    from a copy twice: `install` and `install --snapshot`): in Node (bench/pyodide_js/first_call.mjs,
    one fresh process per sample: the bundle's loader and bindings, `checkout.pydantic_version()`)
    and in headless Chromium (page_load.mjs on the two bundles served side by side; the snapshot's
    transfer from the loopback server is counted), same run, interleaved, with the ratio; per
    phase: runtime start / restore, packages / unpack, first call. Goal (issue 20): <= 0.5 s in
    Node, <= 1 s in Chromium, from the loader's first line to the first result.

Everything talks to the hermetic index on 127.0.0.1 (tests/support/index_server.py over
tests/data/artefacts). The one exception: the micropip wheel is not among the pinned test
artefacts, so the first run downloads micropip==0.11.1 once with pip into build/bench-cache/
(gitignored) and checks it against MICROPIP_SHA256.

The test index writes headers and body in two send() calls; with Nagle's algorithm on, a
keep-alive client then waits for the peer's delayed ACK (~40 ms per request on Linux). httpx
(wasmtool) hits that, Node's fetch (micropip) does not, so the bench sets TCP_NODELAY on the
index's sockets (`disable_nagle_algorithm`); the figure on the unchanged index is recorded too.

    .venv/bin/python bench/pyodide.py [--runs N] [--load-runs N] [--calls N] [--page-runs N]
                                      [--snapshot-runs N] [--only-snapshot]
(--only-snapshot runs (e) alone and merges it into the existing bench/results/pyodide.json)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from _common import ROOT, Panel, machine, summary, write_results

JS = ROOT / "bench" / "pyodide_js"
CACHE = ROOT / "build" / "bench-cache"
MICROPIP = "micropip-0.11.1-py3-none-any.whl"
MICROPIP_SHA256 = "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3"
MANIFEST = """\
name = "bench-web"

[python]
requires-python = ">=3.12"
targets = ["pyodide-314"]
pyodide-packages = "index-first"
allow-any = ["tomli.loads"]

[python-dependencies]
pydantic = "^2.9"
attrs = ">=23"
tomli = "^2"
"""
# the same requirements as PEP 508 (the caret sugar expanded as wasmtool does)
REQUIREMENTS = ["pydantic>=2.9,<3", "attrs>=23", "tomli>=2,<3"]
DOC = 'title = "x"\n[owner]\nname = "mochi"\nn = [1, 2, 3]\n'


def micropip_wheel() -> Path:
    wheel = CACHE / MICROPIP
    if not wheel.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"downloading {MICROPIP} once into {CACHE} (the only download of this bench)", flush=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                               "--python-version", "3.14", "micropip==0.11.1", "-d", str(CACHE)],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not wheel.is_file():
            raise SystemExit(f"cannot download micropip==0.11.1: {proc.stderr[-1500:]}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != MICROPIP_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {MICROPIP_SHA256}; delete it and run again")
    return wheel


def run_json(argv: list[str], timeout: float = 300) -> tuple[dict[str, Any], float]:
    """Run a Node script that prints one JSON line; (that object, process wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    data = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or not data.get("ok"):
        raise SystemExit(f"{' '.join(argv[:2])} failed: {data.get('error') or proc.stderr[-2000:]}")
    return data, wall


def run_timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed: {proc.stderr[-2000:]}")
    return wall


EXAMPLE = ROOT / "examples" / "browser-form"
#: the example app's index requirements as PEP 508 (its mochi.toml: tomli ^2; pydantic >=2.9,<3 is
#: what its own package, py/checkout, requires)
EXAMPLE_REQUIREMENTS = ["pydantic>=2.9,<3", "tomli>=2,<3"]
PAGE_TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
              ".json": "application/json", ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
              ".zip": "application/zip", ".whl": "application/octet-stream", ".tar": "application/x-tar"}


class PageHandler(http.server.SimpleHTTPRequestHandler):
    """(d)'s server: ``/app/`` the example's bundle, ``/peer/`` the micropip page, ``/pyodide/``
    the distribution, ``/micropip/`` the micropip wheel; ``/simple/`` and ``/files/`` are
    relayed to the hermetic index with this server's Host (its URLs stay on this origin)."""

    routes: ClassVar[dict[str, Path]] = {}
    upstream: ClassVar[str] = ""

    def translate_path(self, path: str) -> str:
        clean = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        for prefix, folder in self.routes.items():
            if clean.startswith(prefix):
                parts = [q for q in clean[len(prefix):].split("/") if q not in ("", ".", "..")]
                return str(folder.joinpath(*parts))
        return str(Path(self.directory) / "missing")

    def guess_type(self, path: Any) -> str:
        return PAGE_TYPES.get(Path(str(path)).suffix.lower(), "application/octet-stream")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.startswith(("/simple/", "/files/")):
            req = urllib.request.Request(self.upstream + self.path, headers={
                "Host": self.headers.get("Host", ""), "Accept": self.headers.get("Accept", "*/*")})
            with urllib.request.urlopen(req, timeout=60) as resp:
                body = resp.read()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.headers.get("Content-Type", "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def page_load(node: str, pyodide: Path, wheel: Path, index_url: str, tmp: Path, env: dict[str, str],
              runs: int) -> dict[str, Any]:
    """(d): install a copy of examples/browser-form, serve it and the micropip page, time both."""
    proj = tmp / "browser-form"
    proj.mkdir()
    for name in ("mochi.toml", "main.mochi"):
        shutil.copy(EXAMPLE / name, proj / name)
    shutil.copytree(EXAMPLE / "web", proj / "web")
    shutil.copytree(EXAMPLE / "py", proj / "py", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wasmtool = [str(Path(sys.executable).parent / "wasmtool"), "-C", str(proj), "--no-progress"]
    run_timed([*wasmtool, "lock"], env)
    run_timed([*wasmtool, "install", "--target=pyodide-314"], env)
    bundle = proj / ".mochi" / "pyodide-314"
    pins = locked_versions(proj / "mochi.lock")
    upstream = urllib.parse.urlsplit(index_url)
    handler = functools.partial(type("Handler", (PageHandler,), {
        "routes": {"/app/": bundle, "/peer/": JS / "micropip_page", "/pyodide/": pyodide, "/micropip/": wheel.parent},
        "upstream": f"{upstream.scheme}://{upstream.netloc}"}), directory=str(tmp))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    # the app's own package (a path dependency) is the wheel wasmtool built; micropip installs that
    # same file by URL, and its dependencies from the index
    own = [f"{base}/app/wheels/{w.name}" for w in sorted((bundle / "wheels").glob("checkout-*.whl"))]
    query = "&".join(f"req={urllib.parse.quote(r)}" for r in [*EXAMPLE_REQUIREMENTS, *own])
    try:
        row, _ = run_json([node, str(JS / "page_load.mjs"), "--runs", str(runs),
                           "--url", f"bundle={base}/app/index.html",
                           "--url", f"micropip={base}/peer/index.html?{query}"],
                          timeout=300 + 240 * runs)
    finally:
        server.shutdown()
        server.server_close()
    peer_installed = row["extra"]["micropip"]["installed"]
    if peer_installed != pins:
        raise SystemExit(f"(d) micropip installed {peer_installed}, the example locked {pins}: not the same set")
    if row["extra"]["bundle"]["micropip"] is not False:
        raise SystemExit("(d) the example app loaded micropip")
    offsite = sum(r["offsite"] for rows in row["samples"].values() for r in rows)
    if offsite:
        raise SystemExit(f"(d) {offsite} request(s) tried to leave 127.0.0.1")
    return {"pins": pins, "samples": row["samples"],
            "bundle_files": sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())}


def copy_example(dest: Path) -> Path:
    dest.mkdir()
    for name in ("mochi.toml", "main.mochi"):
        shutil.copy(EXAMPLE / name, dest / name)
    shutil.copytree(EXAMPLE / "web", dest / "web")
    shutil.copytree(EXAMPLE / "py", dest / "py", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def snapshot_vs_plain(node: str, pyodide: Path, tmp: Path, env: dict[str, str], runs: int,
                      page_runs: int) -> dict[str, Any]:
    """(e): the example app installed twice (plain, then --snapshot), its first call timed in
    Node and in Chromium, both bundles in the same run, interleaved."""
    proj = copy_example(tmp / "snapshot-app")
    wasmtool = [str(Path(sys.executable).parent / "wasmtool"), "-C", str(proj), "--no-progress"]
    run_timed([*wasmtool, "lock"], env)
    run_timed([*wasmtool, "install", "--target=pyodide-314"], env)
    plain = tmp / "plain-bundle"
    shutil.copytree(proj / ".mochi" / "pyodide-314", plain)
    t0 = time.perf_counter()
    proc = subprocess.run([*wasmtool, "install", "--target=pyodide-314", "--snapshot"], capture_output=True,
                          text=True, env=env, timeout=1200, stdin=subprocess.DEVNULL)
    install_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"(e) install --snapshot failed: {proc.stderr[-3000:]}")
    snap = proj / ".mochi" / "pyodide-314"
    record = json.loads((snap / "snapshot.json").read_text())
    node_rows: dict[str, list[dict[str, Any]]] = {"snapshot": [], "plain": []}
    argv = [node, str(JS / "first_call.mjs"), "--pyodide", str(pyodide), "--alias", "checkout",
            "--method", "pydantic_version"]
    for _ in range(runs):
        for name, bundle, extra in (("snapshot", snap, []), ("plain", plain, ["--plain"])):
            row, wall = run_json([*argv, "--bundle", str(bundle), *extra])
            if row["snapshot"] != (name == "snapshot"):
                raise SystemExit(f"(e) the {name} bundle was {'not ' if name == 'snapshot' else ''}restored")
            node_rows[name].append({**row, "process_wall_s": wall})
    if len({r["value"] for rows in node_rows.values() for r in rows}) != 1:
        raise SystemExit("(e) the first call answered differently with and without the snapshot")
    handler = functools.partial(type("Handler", (PageHandler,), {
        "routes": {"/snapshot/": snap, "/plain/": plain}, "upstream": ""}), directory=str(tmp))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page, _ = run_json([node, str(JS / "page_load.mjs"), "--runs", str(page_runs),
                            "--url", f"snapshot={base}/snapshot/index.html", "--url", f"plain={base}/plain/index.html"],
                           timeout=300 + 240 * page_runs)
    finally:
        server.shutdown()
        server.server_close()
    if any(r["offsite"] for rows in page["samples"].values() for r in rows):
        raise SystemExit("(e) a request tried to leave 127.0.0.1")
    warned = [w for rows in page["samples"].values() for r in rows for w in r.get("warnings", [])]
    if warned or not all(r["snapshot_bytes"] for r in page["samples"]["snapshot"]):
        raise SystemExit(f"(e) Chromium did not restore the snapshot: {warned[:1]}")
    return {"node": node_rows, "chromium": page["samples"], "record": record, "install_snapshot_s": install_s,
            "install_lines": [ln for ln in proc.stderr.splitlines() if "snapshot" in ln or "beside" in ln
                              or "verified by" in ln]}


def snapshot_section(res: dict[str, Any]) -> dict[str, Any]:
    def med(values: list[float]) -> float:
        return float(summary(values)["median_s"])

    node_total = {k: summary([r["total_ms"] / 1000 for r in v]) for k, v in res["node"].items()}
    node_phases = {k: {ph: round(med([float(r["phases_ms"][ph]) for r in v]), 1) for ph in v[0]["phases_ms"]}
                   for k, v in res["node"].items()}
    chrome = {k: summary([float(r["first_result_s"]) for r in v]) for k, v in res["chromium"].items()}
    chrome_steps = {k: {st: round(med([float(r["steps_s"][st]) for r in v]), 3) for st in v[0]["steps_s"]}
                    for k, v in res["chromium"].items()}
    rec = res["record"]
    ratio_node = node_total["plain"]["median_s"] / node_total["snapshot"]["median_s"]
    ratio_chrome = chrome["plain"]["median_s"] / chrome["snapshot"]["median_s"]
    return {
        "app": "examples/browser-form", "first_call": "checkout.pydantic_version() through bindAlias",
        "node_first_result": node_total, "node_phases_median_ms": node_phases,
        "node_process_wall_median_s": {k: med([r["process_wall_s"] for r in v]) for k, v in res["node"].items()},
        "chromium_first_result": chrome, "chromium_steps_median_s": chrome_steps,
        "chromium_transfer_bytes": {k: v[0]["transfer_bytes"] for k, v in res["chromium"].items()},
        "chromium_snapshot_bytes": res["chromium"]["snapshot"][0]["snapshot_bytes"],
        "ratio_plain_vs_snapshot_node": round(ratio_node, 2),
        "ratio_plain_vs_snapshot_chromium": round(ratio_chrome, 2),
        "goal_s": {"node": 0.5, "chromium": 1.0},
        "meets_goal": {"node": node_total["snapshot"]["median_s"] <= 0.5,
                       "chromium": chrome["snapshot"]["median_s"] <= 1.0},
        "snapshot": {"size": rec["size"], "gzip": rec["gzip"], "brotli": rec["brotli"],
                     "heap_bytes": rec["heap_bytes"], "libraries": [lib["name"] for lib in rec["libraries"]],
                     "imports": rec["imports"]},
        "install_snapshot_s": round(res["install_snapshot_s"], 2), "install_lines": res["install_lines"],
        "notes": "Node: one fresh process per sample, from first_call.mjs's first line (before the loader is "
                 "imported) until checkout.pydantic_version() returned; snapshot = the bundle `install --snapshot` "
                 "wrote (loadBundle restores snapshot.bin: Pyodide's module instantiated, memory grown, "
                 "pydantic-core's .so loaded again at its recorded bases, snapshot applied, wheels unpacked), plain = "
                 "the same bundle before --snapshot (loadPyodide + loadPackage). Phases: the loader's own timings "
                 "(runtime-start, packages | restore, unpack), load = loadBundle as a whole (bundle.json and lock "
                 "checks, sha256 of every wheel and of the snapshot, the key), bind, first-call. Chromium: "
                 "page_load.mjs on the two bundles served side by side from one loopback server "
                 "(Cache-Control: no-store, a fresh context per sample), first_result = the page's own mark; "
                 "transfer_bytes = response bodies of one load (the snapshot's included). The machine is shared: "
                 "compare the ratios, not the absolute times.",
    }


def panels_from(data: dict[str, Any]) -> list[Panel]:
    """The result plot's panels, from the result document (so --only-snapshot redraws them all)."""
    panels: list[Panel] = []
    if "lock_vs_micropip" in data:
        lv = data["lock_vs_micropip"]
        panels.append(Panel({"wasmtool lock (warm)": lv["wasmtool_lock_upgrade_warm_cache"]["median_s"],
                             "wasmtool lock (empty cache)": lv["wasmtool_lock_upgrade_empty_cache"]["median_s"],
                             "micropip install only": lv["micropip_install_only"]["median_s"],
                             "micropip load+install": lv["micropip_load_and_install"]["median_s"],
                             "micropip from process start": lv["micropip_until_installed"]["median_s"]},
                            "median seconds", "(a) resolve: lock vs micropip"))
    if "cold_load" in data:
        cl = data["cold_load"]
        panels.append(Panel({"bundle (wasmtool loader)": cl["bundle"]["median_s"],
                             "plain loadPackage": cl["plain_loadpackage"]["median_s"],
                             "lockfile, no checks": cl["bundle_lock_without_checks"]["median_s"]},
                            "median seconds", "(b) cold load of the packages"))
    if "call_overhead" in data:
        per = data["call_overhead"]["per_call"]
        panels.append(Panel({"direct (Python loop)": per["py_direct"]["median_s"] * 1e6,
                             "wrapper (Python loop)": per["py_wrapper"]["median_s"] * 1e6,
                             "direct PyProxy (JS)": per["js_proxy"]["median_s"] * 1e6,
                             "wrapper via callFunction (JS)": per["js_wrapper"]["median_s"] * 1e6,
                             "callFunction, no wrapper (JS)": per["js_call_direct"]["median_s"] * 1e6,
                             "runPython (JS)": per["js_runpython"]["median_s"] * 1e6},
                            "median microseconds per call", "(c) one call to tomli.loads"))
    if "page_load_first_result" in data:
        pl = data["page_load_first_result"]
        panels.append(Panel({"bundle (example app)": pl["bundle"]["median_s"],
                             "plain Pyodide + micropip.install": pl["plain_pyodide_micropip"]["median_s"]},
                            "median seconds", "(d) Chromium: page to first result"))
    if "first_call_snapshot" in data:
        fc = data["first_call_snapshot"]
        panels.append(Panel({"wasmtool snapshot (Node)": fc["node_first_result"]["snapshot"]["median_s"],
                             "plain (Node)": fc["node_first_result"]["plain"]["median_s"],
                             "wasmtool snapshot (Chromium)": fc["chromium_first_result"]["snapshot"]["median_s"],
                             "plain (Chromium)": fc["chromium_first_result"]["plain"]["median_s"]},
                            "median seconds", "(e) first call, snapshot"))
    return panels


def only_snapshot(args: argparse.Namespace) -> int:
    from tests.support.index_server import IndexServer, load_files
    from wasmtool.run.pyodide import find_node, pyodide_dir

    node, pyodide = find_node(), pyodide_dir()
    server = IndexServer(load_files())
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    with server, tempfile.TemporaryDirectory(prefix="wasmtool-bench-") as tmp_name:
        tmp = Path(tmp_name)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_", "PIP_INDEX", "PIP_EXTRA"))}
        env = dict(base_env, WASMTOOL_CACHE_DIR=str(tmp / "cache"), WASMTOOL_INDEX_URL=server.url)
        res = snapshot_vs_plain(node, pyodide, tmp, env, args.snapshot_runs, args.page_runs)
    existing = ROOT / "bench" / "results" / "pyodide.json"
    data = json.loads(existing.read_text()) if existing.is_file() else {"benchmark": "pyodide"}
    data["first_call_snapshot"] = snapshot_section(res)
    path = write_results("pyodide", data, {}, "median seconds", panels=panels_from(data),
                         title="pyodide-314 (blue: wasmtool, orange: peers)", ours=("wasmtool", "bundle", "wrapper"))
    print_snapshot(data["first_call_snapshot"], path)
    return 0


def print_snapshot(fc: dict[str, Any], path: Path) -> None:
    print(f"(e) first call, snapshot vs plain: Node {fc['node_first_result']['snapshot']['median_s']:.2f}s vs "
          f"{fc['node_first_result']['plain']['median_s']:.2f}s ({fc['ratio_plain_vs_snapshot_node']}x), Chromium "
          f"{fc['chromium_first_result']['snapshot']['median_s']:.2f}s vs "
          f"{fc['chromium_first_result']['plain']['median_s']:.2f}s ({fc['ratio_plain_vs_snapshot_chromium']}x); "
          f"snapshot {fc['snapshot']['size'] / 1e6:.1f} MB ({fc['snapshot']['brotli'] / 1e6:.1f} MB brotli) -> {path}")
    print(f"    Node phases (ms): {fc['node_phases_median_ms']}")


def locked_versions(lock: Path) -> dict[str, str]:
    data = tomllib.loads(lock.read_text())
    return {p["name"]: p["version"] for p in data["python-package"] if p["target"] == "pyodide-314"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5, help="samples for (a)")
    ap.add_argument("--load-runs", type=int, default=7, help="samples for (b)")
    ap.add_argument("--calls", type=int, default=2000, help="calls per sample for (c)")
    ap.add_argument("--page-runs", type=int, default=5, help="samples for (d) and (e) in Chromium, per page")
    ap.add_argument("--snapshot-runs", type=int, default=7, help="samples for (e) in Node, per bundle")
    ap.add_argument("--only-snapshot", action="store_true",
                    help="run (e) alone and merge it into the existing bench/results/pyodide.json")
    args = ap.parse_args()
    if args.only_snapshot:
        return only_snapshot(args)
    from tests.support.index_server import IndexServer, load_files
    from wasmtool.run.pyodide import find_node, pyodide_dir

    node = find_node()
    pyodide = pyodide_dir()
    wheel = micropip_wheel()
    bin_dir = Path(sys.executable).parent
    files = load_files()
    server = IndexServer(files)
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    plain_server = IndexServer(files)  # as the tests run it (Nagle on)
    with server, plain_server, tempfile.TemporaryDirectory(prefix="wasmtool-bench-") as tmp_name:
        tmp = Path(tmp_name)
        proj = tmp / "web"
        proj.mkdir()
        (proj / "mochi.toml").write_text(MANIFEST)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_", "PIP_INDEX", "PIP_EXTRA"))}

        def env_for(cache: Path, url: str) -> dict[str, str]:
            return dict(base_env, WASMTOOL_CACHE_DIR=str(cache), WASMTOOL_INDEX_URL=url)

        warm = env_for(tmp / "cache", server.url)
        wasmtool = [str(bin_dir / "wasmtool"), "-C", str(proj), "--no-progress"]
        lock_argv = [*wasmtool, "lock", "--target=pyodide-314", "--upgrade"]
        run_timed([*wasmtool, "lock"], warm)  # warms the artefact cache
        run_timed([*wasmtool, "install", "--target=pyodide-314"], warm)
        bundle = proj / ".mochi" / "pyodide-314"
        pins = locked_versions(proj / "mochi.lock")

        micropip_argv = [node, str(JS / "micropip_install.mjs"), "--micropip", str(wheel), "--index", server.url]
        for req in REQUIREMENTS:
            micropip_argv += ["--req", req]
        first, _ = run_json([*micropip_argv, "--check", "pydantic", "--check", "attrs", "--check", "tomli"])
        if first["installed"] != pins:
            raise SystemExit(f"micropip installed {first['installed']}, wasmtool locked {pins}: not the same set")

        # (a) interleaved so that machine noise hits every contender alike
        lock_warm: list[float] = []
        lock_cold: list[float] = []
        lock_nagle: list[float] = []
        mp: list[dict[str, Any]] = []
        for i in range(args.runs):
            lock_warm.append(run_timed(lock_argv, warm))
            cold_cache = tmp / f"cold-{i}"
            lock_cold.append(run_timed(lock_argv, env_for(cold_cache, server.url)))
            shutil.rmtree(cold_cache, ignore_errors=True)
            lock_nagle.append(run_timed(lock_argv, env_for(tmp / "cache", plain_server.url)))
            row, wall = run_json(micropip_argv)
            mp.append({**row, "process_wall_s": wall})
        if locked_versions(proj / "mochi.lock") != pins:
            raise SystemExit("lock --upgrade changed the pins during the bench")

        # (b) cold loads, one fresh Node process each, interleaved
        modes = ["bundle", "plain", "lockfile"]
        loads: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for _ in range(args.load_runs):
            for mode in modes:
                row, wall = run_json([node, str(JS / "cold_load.mjs"), "--mode", mode, "--bundle", str(bundle),
                                      "--pyodide", str(pyodide)])
                loads[mode].append({**row, "process_wall_s": wall})
        loaded = {m: sorted(n.replace("_", "-") for n in loads[m][0]["loaded"]) for m in modes}
        if len({tuple(v) for v in loaded.values()}) != 1:
            raise SystemExit(f"the modes loaded different packages: {loaded}")

        # (c) call overhead in one instance
        calls, _ = run_json([node, str(JS / "call_overhead.mjs"), "--bundle", str(bundle), "--pyodide", str(pyodide),
                             "--doc", DOC, "--calls", str(args.calls), "--samples", "7"], timeout=600)
        bundle_files = sorted(p["file"] for p in json.loads((bundle / "bundle.json").read_text())["packages"])

        # (d) page load to first result in Chromium: the example app vs plain Pyodide + micropip
        pages = page_load(node, pyodide, wheel, server.url, tmp, warm, args.page_runs)

        # (e) first call, memory snapshot vs plain, Node and Chromium
        snapshots = snapshot_vs_plain(node, pyodide, tmp, warm, args.snapshot_runs, args.page_runs)

    def col(rows: list[dict[str, Any]], key: str) -> list[float]:
        return [float(r[key]) for r in rows]

    w, c, n = summary(lock_warm), summary(lock_cold), summary(lock_nagle)
    mp_until = summary(col(mp, "until_installed_s"))
    mp_install = summary(col(mp, "install_s"))
    mp_load_install = summary([r["micropip_load_s"] + r["install_s"] for r in mp])
    ratio_a = mp_until["median_s"] / w["median_s"]
    load = {m: summary(col(loads[m], "total_s")) for m in modes}
    ratio_b = load["bundle"]["median_s"] / load["plain"]["median_s"]
    per = {k: summary(v) for k, v in calls["per_call_s"].items()}
    page_first = {k: summary(col(v, "first_result_s")) for k, v in pages["samples"].items()}
    ratio_d = page_first["micropip"]["median_s"] / page_first["bundle"]["median_s"]
    ratio_c_js = per["js_wrapper"]["median_s"] / per["js_proxy"]["median_s"]
    ratio_c_py = per["py_wrapper"]["median_s"] / per["py_direct"]["median_s"]
    data: dict[str, Any] = {
        "benchmark": "pyodide", "machine": machine(), "node": subprocess.run(
            [node, "--version"], capture_output=True, text=True).stdout.strip(),
        "pyodide": json.loads((pyodide / "package.json").read_text())["version"],
        "lock_vs_micropip": {
            "requirements": REQUIREMENTS, "pins": pins, "micropip_installed": first["installed"],
            "wasmtool_lock_upgrade_warm_cache": w, "wasmtool_lock_upgrade_empty_cache": c,
            "wasmtool_lock_upgrade_warm_cache_index_with_nagle": n,
            "micropip_until_installed": mp_until,
            "micropip_phases_median_s": {k: summary(col(mp, k))["median_s"] for k in
                                         ("node_boot_s", "pyodide_start_s", "micropip_load_s", "install_s")},
            "micropip_load_and_install": mp_load_install, "micropip_install_only": mp_install,
            "micropip_process_wall": summary(col(mp, "process_wall_s")),
            "ratio_median": round(ratio_a, 2), "target_ratio": 5.0, "meets_target": ratio_a >= 5.0,
            "ratio_vs_micropip_load_and_install": round(mp_load_install["median_s"] / w["median_s"], 2),
            "ratio_vs_micropip_install_only": round(mp_install["median_s"] / w["median_s"], 2),
            "ratio_empty_cache": round(mp_until["median_s"] / c["median_s"], 2),
            "notes": "headline ratio = micropip from Node process start until installed (Node boot + loadPyodide "
                     "+ micropip wheel load + micropip.install) / wasmtool lock --upgrade as a whole CLI process "
                     "(CPython start + imports + full resolution + mochi.lock/pylock.toml). Pyodide's boot is "
                     "part of the peer's figure because micropip cannot resolve without it; the ratios against "
                     "micropip's load+install and install alone (Pyodide already running) are recorded next to "
                     "it. micropip also downloads and installs the wheels (wasmtool lock, warm cache: none). "
                     "Both sides got the same 7 pins from the same index (TCP_NODELAY set; *_index_with_nagle "
                     "is the unchanged test index)."},
        "cold_load": {
            "packages": bundle_files, "bundle": load["bundle"], "plain_loadpackage": load["plain"],
            "bundle_lock_without_checks": load["lockfile"],
            "plain_phases_median_s": {k: summary(col(loads["plain"], k))["median_s"]
                                      for k in ("start_s", "packages_s")},
            "process_wall_median_s": {m: summary(col(loads[m], "process_wall_s"))["median_s"] for m in modes},
            "ratio_median": round(ratio_b, 3), "target_ratio": 1.2, "meets_target": ratio_b <= 1.2,
            "notes": "one fresh Node process per sample, from the script's first line until every package is "
                     "loaded (no imports); bundle = the bundle's own loader.mjs (bundle.json + lock checks, sha256 "
                     "of every wheel, loadPyodide, loadPackage, helpers); plain = loadPyodide + loadPackage of the "
                     "same absolute wheel paths; lockfile = the bundle's pyodide-lock.json without wasmtool's "
                     "checks. OS file cache warm for all."},
        "call_overhead": {
            "per_call": per, "calls_per_sample": calls["calls"], "document": DOC,
            "ratio_wrapper_vs_direct_js": round(ratio_c_js, 3),
            "ratio_wrapper_vs_direct_python": round(ratio_c_py, 3),
            "ratio_wrapper_vs_runpython": round(per["js_wrapper"]["median_s"] / per["js_runpython"]["median_s"], 3),
            "notes": "seconds per call, one Pyodide instance. py_* = loops in Python (time.perf_counter); js_* = "
                     "loops in Node (performance.now). js_wrapper = loader.mjs callFunction through the generated "
                     "extern (JSON in and out: the call path of the Node runtime server); js_call_direct = the same "
                     "on tomli.loads itself; js_proxy = a PyProxy of tomli.loads + toJs(); js_runpython = "
                     "pyodide.runPython('tomli.loads(DOC)') + toJs(). Headline: js_wrapper / js_proxy; the "
                     "wrapper alone: py_wrapper / py_direct. No target was set."},
        "page_load_first_result": {
            "app": "examples/browser-form", "requirements": EXAMPLE_REQUIREMENTS, "pins": pages["pins"],
            "bundle": page_first["bundle"], "plain_pyodide_micropip": page_first["micropip"],
            "wall_median_s": {k: summary(col(v, "wall_s"))["median_s"] for k, v in pages["samples"].items()},
            "steps_median_s": {k: {step: summary([float(r["steps_s"][step]) for r in v])["median_s"]
                                   for step in v[0]["steps_s"]} for k, v in pages["samples"].items()},
            "requests_per_load": {k: v[0]["requests"] for k, v in pages["samples"].items()},
            "samples_per_page": len(pages["samples"]["bundle"]), "bundle_files": pages["bundle_files"],
            "ratio_micropip_vs_bundle": round(ratio_d, 2),
            "notes": "headless Debian chromium, one fresh browser context (empty HTTP cache) per sample, the two "
                     "pages interleaved, both served by one loopback server (Cache-Control: no-store). "
                     "first_result = the page's own performance.mark after pydantic's version came back from "
                     "Python, relative to the navigation start (wall = the same seen from the driver, from "
                     "page.goto). bundle = the example app's page as `wasmtool install` wrote it (the example's "
                     "[browser] app, served from the bundle folder): loadBundle fetches the bundle's own Pyodide "
                     "(pyodide/, sha256 of each file checked, imported from memory) and every wheel (sha256 "
                     "checked), loadPyodide, loadPackage; then bindAlias, checkout.pydantic_version() "
                     "through the bindings. "
                     "Steps: loaded (loadBundle done), bound (bindAlias done), firstResult. plain_pyodide_micropip "
                     "= the same Pyodide files straight from node_modules/pyodide (unchecked), loadPyodide "
                     "(step pyodide), loadPackage(micropip wheel) + import (step micropip), micropip.install("
                     "requirements, index_urls=[the hermetic index relayed on the same origin]) (step installed), "
                     "import pydantic, tomli; pydantic.VERSION (step firstResult). Same pins on both sides "
                     "(checked). No target was set."},
    }
    data["first_call_snapshot"] = snapshot_section(snapshots)
    lock_bars = {"wasmtool lock (warm)": w["median_s"], "wasmtool lock (empty cache)": c["median_s"],
                 "micropip install only": mp_install["median_s"],
                 "micropip load+install": mp_load_install["median_s"],
                 "micropip from process start": mp_until["median_s"]}
    load_bars = {"bundle (wasmtool loader)": load["bundle"]["median_s"],
                 "plain loadPackage": load["plain"]["median_s"],
                 "lockfile, no checks": load["lockfile"]["median_s"]}
    call_bars = {"direct (Python loop)": per["py_direct"]["median_s"] * 1e6,
                 "wrapper (Python loop)": per["py_wrapper"]["median_s"] * 1e6,
                 "direct PyProxy (JS)": per["js_proxy"]["median_s"] * 1e6,
                 "wrapper via callFunction (JS)": per["js_wrapper"]["median_s"] * 1e6,
                 "callFunction, no wrapper (JS)": per["js_call_direct"]["median_s"] * 1e6,
                 "runPython (JS)": per["js_runpython"]["median_s"] * 1e6}
    page_bars = {"bundle (example app)": page_first["bundle"]["median_s"],
                 "plain Pyodide + micropip.install": page_first["micropip"]["median_s"]}
    del load_bars, call_bars, page_bars   # the same bars, drawn from `data` (panels_from)
    path = write_results(
        "pyodide", data, lock_bars, "median seconds", panels=panels_from(data),
        title="pyodide-314 (blue: wasmtool, orange: peers)", ours=("wasmtool", "bundle", "wrapper"))
    print(f"(a) lock {w['median_s']:.2f}s (empty cache {c['median_s']:.2f}s) vs micropip {mp_until['median_s']:.2f}s "
          f"from process start ({mp_load_install['median_s']:.2f}s load+install, {mp_install['median_s']:.2f}s "
          f"install): {ratio_a:.1f}x\n"
          f"(b) bundle {load['bundle']['median_s']:.2f}s vs plain {load['plain']['median_s']:.2f}s: {ratio_b:.3f}x\n"
          f"(c) wrapper {per['js_wrapper']['median_s'] * 1e6:.0f}us vs direct "
          f"{per['js_proxy']['median_s'] * 1e6:.0f}us "
          f"per call from JS ({ratio_c_js:.2f}x); in Python {ratio_c_py:.2f}x\n"
          f"(d) page to first result: bundle {page_first['bundle']['median_s']:.2f}s vs micropip "
          f"{page_first['micropip']['median_s']:.2f}s ({ratio_d:.2f}x)  -> {path}")
    print_snapshot(data["first_call_snapshot"], path)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
