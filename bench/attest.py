"""bench: what verifying a file's PEP 740 attestations costs, next to checking its SHA-256.

For each recorded pair of the shared attestation fixtures (the rfc8785 wheel, signed on
Sigstore's staging instance; the pypi-attestations sdist, signed on production):

- ``sha256``: hashing the file read from disk (what every install already does);
- ``verify cold``: a fresh process imports sigstore / pypi-attestations, loads the shipped
  trust root, parses the provenance and verifies it (timed inside the process, interpreter
  start-up excluded): the first file of a ``wasmtool lock``;
- ``verify cached``: the same verification again in a warm process with the provenance read
  from the cache's sidecar file: every further file, and ``install``'s offline re-check.

    .venv/bin/python bench/attest.py [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Panel, machine, summary, timed, write_results

FIXTURES = ROOT.parent / "shared" / "fixtures" / "attestations"
WHEEL = FIXTURES / "rfc8785-0.1.2-py3-none-any.whl"
SDIST = FIXTURES / "pypi_attestations-0.0.19.tar.gz"

COLD = r"""
import hashlib, json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from wasmtool.attest.policy import PublisherPin
from wasmtool.attest.trust import load_trust_root
from wasmtool.attest.verify import verify_provenance
file, prov, root, pin = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
verify_provenance(prov.read_bytes(), filename=file.name, sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
                  package=None, pin=PublisherPin(**pin) if pin else None, trust=load_trust_root(root), source="bench")
print(time.perf_counter() - t0)
"""


def _wheel_provenance(folder: Path) -> Path:
    att = json.loads((FIXTURES / f"{WHEEL.name}.publish.attestation").read_bytes())
    doc = {"version": 1, "attestation_bundles": [{"publisher": {"kind": "email"}, "attestations": [att]}]}
    path = folder / f"{WHEEL.name}.provenance"
    path.write_text(json.dumps(doc))
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not WHEEL.is_file():
        raise SystemExit(f"{FIXTURES}: the recorded attestation fixtures are missing")
    sys.path.insert(0, str(ROOT))
    from wasmtool.attest.policy import PublisherPin
    from wasmtool.attest.trust import load_trust_root
    from wasmtool.attest.verify import verify_provenance
    from wasmtool.cache import ArtifactCache

    wheel_pin = {"kind": "identity", "subject": "william@yossarian.net", "issuer": "https://github.com/login/oauth"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = {
            "wheel (staging)": (WHEEL, _wheel_provenance(folder), "staging", wheel_pin),
            "sdist (production)": (SDIST, FIXTURES / f"{SDIST.name}.provenance", "production", None),
        }
        cache = ArtifactCache(folder / "cache")
        data: dict[str, object] = {"machine": machine(), "runs": args.runs, "files": {}}
        bars: dict[str, dict[str, float]] = {"sha256": {}, "verify cached": {}, "verify cold": {}}
        for label, (file, prov, root, pin) in cases.items():
            sha = hashlib.sha256(file.read_bytes()).hexdigest()
            cache.write_sidecar(sha, "provenance", prov.read_bytes())
            trust = load_trust_root(root)
            publisher_pin = PublisherPin(**pin) if pin else None  # type: ignore[arg-type]

            def cached(file: Path = file, sha: str = sha, trust: object = trust, pin: object = publisher_pin) -> None:
                doc = cache.read_sidecar(sha, "provenance")
                assert doc is not None
                verify_provenance(doc, filename=file.name, sha256=sha, package=None, pin=pin,  # type: ignore[arg-type]
                                  trust=trust, source="bench")  # type: ignore[arg-type]

            cached()  # warm: imports, the verifier's first use
            hashing = timed(lambda file=file: hashlib.sha256(file.read_bytes()).hexdigest(), args.runs * 20)
            warm = timed(cached, args.runs)
            cold = []
            for _ in range(args.runs):
                out = subprocess.run([sys.executable, "-c", COLD, str(file), str(prov), root, json.dumps(pin or {})],
                                     capture_output=True, text=True, cwd=ROOT, check=True)
                cold.append(float(out.stdout.strip().splitlines()[-1]))
            row = {"bytes": file.stat().st_size, "sha256": summary(hashing), "verify_cached": summary(warm),
                   "verify_cold": summary(cold), "trust_root": root,
                   "cached_over_sha256": summary(warm)["median_s"] / summary(hashing)["median_s"]}
            data["files"][file.name] = row  # type: ignore[index]
            bars["sha256"][label] = row["sha256"]["median_s"] * 1e3  # type: ignore[index]
            bars["verify cached"][label] = row["verify_cached"]["median_s"] * 1e3  # type: ignore[index]
            bars["verify cold"][label] = row["verify_cold"]["median_s"] * 1e3  # type: ignore[index]
            print(f"{label}: sha256 {row['sha256']['median_s'] * 1e3:.3f} ms, "  # type: ignore[index]
                  f"verify cached {row['verify_cached']['median_s'] * 1e3:.1f} ms, "  # type: ignore[index]
                  f"cold {row['verify_cold']['median_s'] * 1e3:.0f} ms")  # type: ignore[index]
    panels = [Panel({f"{k}: {f}": v for f, v in per.items()}, "ms (median)", k, log=k == "sha256")
              for k, per in bars.items()]
    path = write_results("attest", data, {}, "ms", panels=panels, ours=("verify",),
                         title="PEP 740 verification per file vs its SHA-256 check")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
