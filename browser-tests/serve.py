"""Static files on 127.0.0.1 for the browser tests, with explicit MIME types.

    python browser-tests/serve.py PORT --root FIXTURE_DIR [--pyodide node_modules/pyodide]

``/pyodide/...`` is served from the Pyodide distribution (the npm package), everything else
from ``--root`` (the bundles made by build_fixture.py). Types are set explicitly (recipes
§4): ``.wasm`` served as anything but ``application/wasm`` makes ``loadPyodide`` hang, and
``.mjs`` as text/plain is refused by strict MIME checking. Only loopback is bound.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import posixpath
import sys
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".whl": "application/octet-stream",
    ".zip": "application/zip",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    "": "application/octet-stream",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = MIME_TYPES

    def __init__(self, *args: Any, directory: str, pyodide: str, **kwargs: Any) -> None:
        self.pyodide_dir = pyodide
        super().__init__(*args, directory=directory, **kwargs)

    def translate_path(self, path: str) -> str:
        clean = posixpath.normpath(urllib.parse.unquote(urllib.parse.urlsplit(path).path))
        if clean == "/pyodide" or clean.startswith("/pyodide/"):
            rel = clean[len("/pyodide"):].lstrip("/")
            target = Path(self.pyodide_dir, *[p for p in rel.split("/") if p not in ("", ".", "..")])
            return str(target)
        return super().translate_path(path)

    def guess_type(self, path: str | Any) -> str:
        suffix = Path(str(path)).suffix.lower()
        return MIME_TYPES.get(suffix, MIME_TYPES[""])

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    verbose = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.verbose or (str(code).isdigit() and int(code) >= 400):
            super().log_request(code, size)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("serve: " + (format % args) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--pyodide", type=Path, default=ROOT / "node_modules" / "pyodide")
    parser.add_argument("--verbose", action="store_true", help="log every request, not only failures")
    opts = parser.parse_args(argv)
    if not (opts.pyodide / "pyodide.mjs").is_file():
        parser.error(f"{opts.pyodide}: no pyodide.mjs (run scripts/setup-node.sh)")
    Handler.verbose = opts.verbose
    handler = functools.partial(Handler, directory=str(opts.root.resolve()),
                                pyodide=str(opts.pyodide.resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", opts.port), handler)
    print(f"serving {opts.root} and /pyodide/ on http://127.0.0.1:{opts.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
