"""The corpus audit table (docs/audit-corpus.md): wasmtool's verdict on every compiled wheel the
corpus locks for ``native`` and ``pyodide-314``, beside the verdicts of ``auditwheel show``,
``abi3audit`` and ``auditwheel-emscripten`` on the same files, with every disagreement
explained. Shared by tests/audit/test_corpus_table.py (which runs the peers in the same
session and compares with the committed table) and bench/audit.py (which times them).

The wheels: for ``native``, the wheel the native profile picks (CPython 3.12) for each project
of the recorded ``native-corpus`` set (the 25 corpus packages and their dependencies), plus
every ``abi3`` wheel of that set (so that abi3audit has something to check); for
``pyodide-314``, the compiled wheels of the ``pyodide-314`` set. Pure wheels are counted, not
audited.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import parse_wheel_filename

from tests.support.index_server import ARTEFACTS, load_files
from wasmtool.ops.audit import compiled
from wasmtool.targets.profile import load_profile
from wasmtool.targets.tags import best_wheel

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "audit-corpus.md"
BIN = Path(sys.executable).parent
NA = "n/a"


@dataclass(frozen=True)
class Row:
    target: str
    path: Path
    ours: str = ""
    findings: tuple[str, ...] = ()
    peers: dict[str, str] = field(default_factory=dict)
    why: str = ""

    @property
    def filename(self) -> str:
        return self.path.name


def corpus_wheels() -> tuple[dict[str, list[Path]], dict[str, list[str]]]:
    """(target -> compiled wheels to audit, target -> pure wheels left out)."""
    native = load_profile("native")
    audited: dict[str, list[Path]] = {"native": [], "pyodide-314": []}
    pure: dict[str, list[str]] = {"native": [], "pyodide-314": []}
    for project, files in sorted(load_files(only_sets=["native-corpus"]).items()):
        names = [f.filename for f in files if f.filename.endswith(".whl")]
        best = best_wheel(names, native, "3.12")
        chosen = {best} if best else set()
        chosen |= {n for n in names if any(t.abi == "abi3" for t in parse_wheel_filename(n)[3])}
        for name in sorted(chosen):
            (audited["native"].append(ARTEFACTS / name) if compiled(name) else pure["native"].append(name))
        del project
    for files in load_files(only_sets=["pyodide-314"]).values():
        for f in files:
            if f.filename.endswith(".whl"):
                (audited["pyodide-314"].append(ARTEFACTS / f.filename) if compiled(f.filename)
                 else pure["pyodide-314"].append(f.filename))
    return {k: sorted(v) for k, v in audited.items()}, {k: sorted(v) for k, v in pure.items()}


# -- the peers ---------------------------------------------------------------------------------

_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _glibc(tag: str) -> tuple[int, int] | None:
    for legacy, version in _LEGACY.items():
        if tag.startswith(legacy + "_"):
            return version
    m = re.match(r"manylinux_(\d+)_(\d+)_", tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def auditwheel_verdict(path: Path, output: str, returncode: int) -> str:
    """``auditwheel show``: ``ok`` when the most compatible tag it finds is no newer than the
    oldest manylinux tag the wheel claims; ``findings (...)`` otherwise."""
    if "does not look like a platform wheel" in output or "is not a platform wheel" in output:
        return f"{NA} (not a Linux platform wheel)"
    m = re.search(r'consistent with the\s+following platform tag:\s+"([^"]+)"', output)
    if returncode != 0 or m is None:
        return "error"
    found = m.group(1)
    claimed = [v for t in parse_wheel_filename(path.name)[3] if (v := _glibc(t.platform)) is not None]
    have = _glibc(found)
    if have is None:
        return f"findings ({found}: needs libraries outside every policy)"
    if claimed and have > min(claimed):
        return f"findings (needs {found})"
    return "ok"


def abi3audit_verdict(path: Path, output: str, returncode: int) -> str:
    if not any(t.abi == "abi3" for t in parse_wheel_filename(path.name)[3]):
        return f"{NA} (not abi3)"
    try:
        spec = next(iter(json.loads(output)["specs"].values()))
    except (ValueError, StopIteration, KeyError):
        return "error"
    bad = sorted({s for obj in spec.get("wheel", []) for s in obj["result"].get("non_abi3_symbols", [])})
    too_new = [obj["name"] for obj in spec.get("wheel", []) if not obj["result"].get("is_abi3_baseline_compatible")]
    if bad:
        return f"findings (non-abi3: {', '.join(bad[:3])})"
    if too_new:
        return f"findings (baseline: {', '.join(too_new)})"
    del returncode
    return "ok"


def emscripten_verdict(path: Path, output: str, returncode: int) -> str:
    """``pyodide auditwheel show``: ``ok`` when every shared library a module lists as needed
    is in the wheel (it knows no runtime: symbols are not checked)."""
    if returncode != 0:
        return "error"
    import zipfile

    with zipfile.ZipFile(path) as zf:
        own = {Path(n).name for n in zf.namelist()}
    needed = {ln.strip() for ln in output.splitlines() if ln.strip() and not ln.strip().endswith(":")}
    missing = sorted(n for n in needed if n not in own)
    return f"findings (needs {', '.join(missing)})" if missing else "ok"


PEERS: dict[str, tuple[Callable[[Path], list[str]], Callable[[Path, str, int], str], tuple[str, ...]]] = {
    # name -> (argv, verdict, targets it applies to)
    "auditwheel show": (lambda p: [str(BIN / "auditwheel"), "show", str(p)], auditwheel_verdict, ("native",)),
    "abi3audit": (lambda p: [str(BIN / "abi3audit"), "--report", str(p)], abi3audit_verdict, ("native",)),
    "auditwheel-emscripten": (lambda p: [str(BIN / "pyodide"), "auditwheel", "show", str(p)], emscripten_verdict,
                              ("pyodide-314",)),
}
PEER_NOT_FOR = {"auditwheel show": "reads Linux ELF wheels only", "abi3audit": "reads native abi3 wheels only",
                "auditwheel-emscripten": "reads Emscripten wheels only"}


def run_peer(name: str, path: Path, target: str) -> str:
    argv, verdict, targets = PEERS[name]
    if target not in targets:
        return f"{NA} ({PEER_NOT_FOR[name]})"
    if name == "abi3audit" and not any(t.abi == "abi3" for t in parse_wheel_filename(path.name)[3]):
        return f"{NA} (not abi3)"
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}   # auditwheel-emscripten runs the `wheel` command
    proc = subprocess.run(argv(path), capture_output=True, text=True, env=env, timeout=600, check=False)
    return verdict(path, proc.stdout + proc.stderr, proc.returncode)


# -- disagreements -----------------------------------------------------------------------------


def explain(row: Row) -> str:
    """Why a peer's verdict differs from ours; ``UNEXPLAINED: ...`` for a difference no known
    reason covers (the test fails on it)."""
    reasons: list[str] = []
    for peer, verdict in sorted(row.peers.items()):
        if verdict.startswith(NA):
            continue
        theirs = verdict.split(" ", 1)[0]
        if theirs == row.ours or (row.ours == "skipped" and theirs == "ok"):
            continue
        rules = {f.split(" ", 1)[0] for f in row.findings}
        if peer == "auditwheel-emscripten" and row.ours == "findings" and theirs == "ok" \
                and rules <= {"wasm-missing-import", "wasm-abi-mismatch"}:
            reasons.append(f"{peer} lists needed libraries only; it has no runtime to check imports or the ABI against")
        elif peer == "auditwheel show" and row.ours == "findings" and theirs == "ok" \
                and rules <= {"abi3-non-limited-symbol"}:
            reasons.append(f"{peer} does not check the Limited API")
        elif peer == "abi3audit" and row.ours == "findings" and theirs == "ok" \
                and "abi3-non-limited-symbol" not in rules:
            reasons.append(f"{peer} checks only the Limited API, not the libraries or glibc symbols")
        else:
            reasons.append(f"UNEXPLAINED: {peer} says {verdict}, wasmtool says {row.ours}")
    return "; ".join(reasons)


# -- the table ---------------------------------------------------------------------------------


def audit_rows(audit: Callable[[Path, str, list[Path]], tuple[str, tuple[str, ...]]],
               peers: Iterable[str] = tuple(PEERS)) -> list[Row]:
    """Every corpus wheel with our verdict (``audit(path, target, other wheels of the target)``
    gives verdict and finding lines) and each peer's."""
    wheels, _ = corpus_wheels()
    rows: list[Row] = []
    for target, paths in sorted(wheels.items()):
        for path in paths:
            ours, findings = audit(path, target, [p for p in paths if p != path])
            row = Row(target, path, ours, findings, {name: run_peer(name, path, target) for name in peers})
            rows.append(Row(row.target, row.path, row.ours, row.findings, row.peers, explain(row)))
    return rows


def render(rows: list[Row]) -> str:
    _, pure = corpus_wheels()
    lines = [
        "# Wheel audit of the corpus",
        "",
        "<!-- generated by tests/audit/test_corpus_table.py; WASMTOOL_UPDATE_GOLDEN=1 rewrites it -->",
        "",
        "`wasmtool audit` on every compiled wheel that the 25-package corpus (and its dependencies) locks for",
        "`native` (CPython 3.12, manylinux) and `pyodide-314`, beside three other auditors run on the same files",
        "in the same test session: `auditwheel show` (Linux policies), `abi3audit` (the Limited API) and",
        "`auditwheel-emscripten` (`pyodide auditwheel show`, the shared libraries of Emscripten modules).",
        "Every disagreement is explained in the last column. [audit.md](audit.md) describes the checks.",
        "",
        "| target | wheel | wasmtool | auditwheel show | abi3audit | auditwheel-emscripten | disagreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours = r.ours + (f" ({'; '.join(r.findings)})" if r.findings else "")
        cells = [r.target, f"`{r.filename}`", ours, *(r.peers.get(p, NA) for p in PEERS), r.why or "-"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "Pure wheels (no compiled code; not audited):", ""]
    for target, names in sorted(pure.items()):
        lines.append(f"- {target}: {len(names)} ({', '.join(sorted(parse_wheel_filename(n)[0] for n in names))})")
    return "\n".join(lines) + "\n"
