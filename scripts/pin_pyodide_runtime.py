"""Pin the sha256 of the Pyodide runtime files a browser bundle carries (wasmtool/bundle/runtime_pins.py).

The ``pyodide`` npm package lists no per-file hashes: what pins it is the ``integrity``
(sha512 of the package tarball) that ``package-lock.json`` records. This script makes the
chain from that pin to the files explicit:

1. read the version and the ``integrity`` of ``node_modules/pyodide`` from ``package-lock.json``;
2. fetch that exact tarball with the npm client (``npm pack pyodide@<version>``);
3. check the tarball's sha512 against the lock's ``integrity`` (a mismatch stops here);
4. hash the runtime files inside it (``wasmtool.bundle.runtime.RUNTIME_FILES``) and write
   them, with their sizes, to ``wasmtool/bundle/runtime_pins.py``.

``build_bundle`` then refuses to copy any file of ``node_modules/pyodide`` that does not
hash to these pins, so a bundle can only carry the bytes the lock's tarball holds.

    python scripts/pin_pyodide_runtime.py            # (re)write the pins for the locked version
    python scripts/pin_pyodide_runtime.py --check    # exit 1 if the pins disagree with the tarball
    python scripts/pin_pyodide_runtime.py --tarball pyodide-314.0.7.tgz   # use this file, no npm

Other versions already pinned are kept; the output is deterministic (sorted).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wasmtool.bundle.runtime import RUNTIME_FILES  # noqa: E402
from wasmtool.tools import run_tool  # noqa: E402

PINS = ROOT / "wasmtool" / "bundle" / "runtime_pins.py"
LOCK = ROOT / "package-lock.json"

_HEADER = '''"""sha256 and size of the Pyodide runtime files, per npm version (generated: do not edit).

Written by ``scripts/pin_pyodide_runtime.py`` from the ``pyodide`` tarball whose sha512 is the
``integrity`` that ``package-lock.json`` records; read by :mod:`wasmtool.bundle.runtime`.
"""

from __future__ import annotations

#: version -> file name -> (sha256, size in bytes)
PINS: dict[str, dict[str, tuple[str, int]]] = '''


def locked_pyodide(lock_path: Path) -> tuple[str, str]:
    """(version, integrity) of ``node_modules/pyodide`` in ``package-lock.json``."""
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    entry = data.get("packages", {}).get("node_modules/pyodide")
    if not isinstance(entry, dict) or "version" not in entry or "integrity" not in entry:
        raise SystemExit(f"{lock_path}: no node_modules/pyodide entry with version and integrity")
    return str(entry["version"]), str(entry["integrity"])


def check_integrity(tarball: Path, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise SystemExit(f"package-lock.json integrity uses {algo!r}; only sha512 is supported")
    actual = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{tarball}: sha512 {actual} is not the integrity package-lock.json records ({expected})")


def hash_runtime_files(tarball: Path) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for name in RUNTIME_FILES:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{tarball}: package/{name} is missing")
            data = member.read()
            out[name] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def fetch_tarball(version: str, dest: Path) -> Path:
    proc = run_tool("npm", ["npm", "pack", f"pyodide@{version}", "--json", "--pack-destination", str(dest)],
                    cwd=dest, timeout=600)
    info = json.loads(proc.stdout)
    return dest / str(info[0]["filename"])


def render(pins: dict[str, dict[str, tuple[str, int]]]) -> str:
    lines = ["{"]
    for version in sorted(pins):
        lines.append(f"    {json.dumps(version)}: {{")
        for name in sorted(pins[version]):
            sha, size = pins[version][name]
            lines.append(f"        {json.dumps(name)}: ({json.dumps(sha)}, {size}),")
        lines.append("    },")
    lines.append("}")
    return _HEADER + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the pins disagree with the tarball")
    parser.add_argument("--tarball", type=Path, default=None, help="the pyodide tarball (default: npm pack)")
    opts = parser.parse_args(argv)
    version, integrity = locked_pyodide(LOCK)
    with tempfile.TemporaryDirectory(prefix="pin-pyodide-") as tmp:
        tarball = opts.tarball or fetch_tarball(version, Path(tmp))
        check_integrity(tarball, integrity)
        files = hash_runtime_files(tarball)
    from wasmtool.bundle.runtime_pins import PINS as current

    pins = {v: dict(f) for v, f in current.items()}
    if opts.check:
        if pins.get(version) != files:
            print(f"{PINS}: the pins for pyodide {version} disagree with its tarball", file=sys.stderr)
            return 1
        print(f"pins for pyodide {version} match the locked tarball", file=sys.stderr)
        return 0
    pins[version] = files
    PINS.write_text(render(pins), encoding="utf-8")
    print(f"pinned {len(files)} runtime file(s) of pyodide {version} in {PINS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
