"""Record the hermetic test index: resolve tests/data/record_sets.toml against the real
index and write tests/data/manifest.json (project, version, filename, sha256, size).

Run by hand when the pinned set should move (then review the manifest diff):

    .venv/bin/python scripts/record_artefacts.py                # every set
    .venv/bin/python scripts/record_artefacts.py --set NAME     # only NAME; the others stay pinned

A set with ``allow-sdist = true`` is resolved without ``--only-binary`` and pins the source
distributions it picks (packages published only as source, built by wasmtool itself).

The files themselves are not committed: scripts/fetch_artefacts.py (run by setup) downloads
exactly the pinned files and verifies every sha256.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def resolve_uv(reqs: list[str], python_version: str, platform: str, *,
               allow_sdist: bool = False) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "req.in"
        req.write_text("\n".join(reqs) + "\n")
        out = Path(tmp) / "pylock.toml"
        env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
        binary = [] if allow_sdist else ["--only-binary", ":all:"]
        subprocess.run(
            [uv_bin(), "pip", "compile", str(req), "-q", "--no-header", *binary,
             "--python-version", python_version, "--python-platform", platform,
             "--format", "pylock.toml", "-o", str(out)],
            check=True, env=env,
        )
        lock = tomllib.loads(out.read_text())
    from packaging.tags import Tag

    files: list[dict[str, object]] = []
    major, minor = python_version.split(".")
    wanted_py = f"cp{major}{minor}"
    for pkg in lock["packages"]:
        sdist = pkg.get("sdist")
        if allow_sdist and sdist is not None and not pkg.get("wheels"):
            files.append({"project": str(canonicalize_name(pkg["name"])), "version": pkg["version"],
                          "filename": sdist["url"].rsplit("/", 1)[1], "sha256": sdist["hashes"]["sha256"],
                          "size": sdist.get("size")})
        wheels = pkg.get("wheels", [])
        # Keep every wheel uv listed for this platform: the lock step ranks them itself.
        for w in wheels:
            name = w["url"].rsplit("/", 1)[1]
            _, _, _, tags = parse_wheel_filename(name)
            if not any(t.interpreter in (wanted_py, "py3", "py2.py3") or t.abi in ("abi3", "none")
                       for t in tags if isinstance(t, Tag)):
                continue
            files.append({"project": str(canonicalize_name(pkg["name"])), "version": pkg["version"],
                          "filename": name, "sha256": w["hashes"]["sha256"], "size": w.get("size")})
    return files


def resolve_pip(reqs: list[str], python_version: str, platform: str) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
             "--report", str(report), "--only-binary=:all:", "--platform", platform,
             "--python-version", python_version, "--implementation", "cp",
             "--target", str(Path(tmp) / "t"), *reqs],
            check=True,
        )
        data = json.loads(report.read_text())
    files: list[dict[str, object]] = []
    for item in data["install"]:
        url = item["download_info"]["url"]
        files.append({"project": str(canonicalize_name(item["metadata"]["name"])),
                      "version": item["metadata"]["version"], "filename": url.rsplit("/", 1)[1],
                      "sha256": item["download_info"]["archive_info"]["hashes"]["sha256"], "size": None})
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="only", action="append", default=[],
                        help="re-record only this set (repeatable); the other sets keep their pins")
    args = parser.parse_args(argv)
    sets = tomllib.loads((DATA / "record_sets.toml").read_text())["sets"]
    unknown = sorted(set(args.only) - set(sets))
    if unknown:
        raise SystemExit(f"record_sets.toml has no set {', '.join(unknown)}")
    by_file: dict[str, dict[str, object]] = {}
    if args.only:
        for entry in json.loads((DATA / "manifest.json").read_text())["files"]:
            kept = [s for s in entry["sets"] if s not in args.only]
            if kept:
                by_file[entry["filename"]] = {**entry, "sets": kept}
    for set_name, spec in sets.items():
        if args.only and set_name not in args.only:
            continue
        if "uv-python-platform" in spec:
            files = resolve_uv(spec["requirements"], spec["python-version"], spec["uv-python-platform"],
                               allow_sdist=bool(spec.get("allow-sdist", False)))
        else:
            files = resolve_pip(spec["requirements"], spec["python-version"], spec["pip-platform"])
        if "only-projects" in spec:  # a set that pins some projects of its resolution, not their dependencies
            files = [f for f in files if f["project"] in spec["only-projects"]]
        for f in files:
            entry = by_file.setdefault(str(f["filename"]), {**f, "sets": []})
            if entry["sha256"] != f["sha256"]:
                raise SystemExit(f"{f['filename']}: two hashes recorded")
            if f.get("size") and not entry.get("size"):
                entry["size"] = f["size"]
            sets_list = entry["sets"]
            assert isinstance(sets_list, list)
            sets_list.append(set_name)
        print(f"{set_name}: {len(files)} files", file=sys.stderr)
    manifest = {"schema": 1, "files": [by_file[k] for k in sorted(by_file)]}
    (DATA / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"{len(by_file)} files pinned", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
