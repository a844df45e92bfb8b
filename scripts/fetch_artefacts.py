"""Download the pinned test artefacts (tests/data/manifest.json) into tests/data/artefacts/.

Idempotent: files already present with the pinned sha256 are kept; anything else is
fetched from the configured index (PEP 691 JSON project pages), verified, and renamed
into place atomically. A hash mismatch is a hard error and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wasmtool.index.client import IndexClient  # noqa: E402
from wasmtool.index.config import resolve_index_urls  # noqa: E402

DATA = ROOT / "tests" / "data"
DEST = DATA / "artefacts"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> int:
    manifest = json.loads((DATA / "manifest.json").read_text())
    DEST.mkdir(parents=True, exist_ok=True)
    todo = [f for f in manifest["files"]
            if not (DEST / f["filename"]).exists() or sha256_of(DEST / f["filename"]) != f["sha256"]]
    if not todo:
        print(f"artefacts: all {len(manifest['files'])} pinned files present", file=sys.stderr)
        return 0
    index = IndexClient(resolve_index_urls(manifest_url=None), timeout=60.0)
    client = httpx.Client(timeout=60.0, follow_redirects=True)
    pages: dict[str, dict[str, str]] = {}
    for project in sorted({f["project"] for f in todo}):
        pages[project] = {x.filename: x.url for x in index.get_project(project).files}

    def fetch(entry: dict[str, str]) -> str:
        url = pages[entry["project"]].get(entry["filename"])
        if url is None:
            raise SystemExit(f"{entry['filename']}: not on the index any more")
        fd, tmp = tempfile.mkstemp(dir=DEST, prefix=".part-")
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, client.stream("GET", url) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_bytes():
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != entry["sha256"]:
                raise SystemExit(f"{entry['filename']}: sha256 {h.hexdigest()} != pinned {entry['sha256']}")
            os.replace(tmp, DEST / entry["filename"])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return entry["filename"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        for name in pool.map(fetch, todo):
            print(f"fetched {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
