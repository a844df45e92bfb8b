"""Child process of the crash and concurrency tests (run with the venv's interpreter).

``python _child_fetch.py <cache-root> <jobs.json> [<ready-file> <go-file>]``: fetches every
job (``url``, ``package``, ``filename``, ``sha256``) in order into the cache, then prints one
JSON list of ``[sha256, blake3, size, path]``. With ready/go files it first creates the
ready file and waits for the go file, so the parent can start every child at once.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx

from wasmtool.cache import ArtifactCache


def main(argv: list[str]) -> int:
    root, jobs_file = Path(argv[1]), Path(argv[2])
    jobs = json.loads(jobs_file.read_text())
    if len(argv) > 4:
        Path(argv[3]).touch()
        deadline = time.monotonic() + 30
        while not Path(argv[4]).exists():
            if time.monotonic() > deadline:
                return 3
            time.sleep(0.005)
    cache = ArtifactCache(root, lock_timeout=60)
    results = []
    with httpx.Client(timeout=30) as client:
        for job in jobs:
            art = cache.fetch(
                job["url"],
                package=job["package"],
                filename=job["filename"],
                expected_sha256=job["sha256"],
                opener=client,
                progress=False,
            )
            results.append([art.sha256, art.blake3, art.size, str(art.path)])
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
