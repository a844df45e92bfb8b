"""Malicious wheels are refused when they would enter the artefact cache.

One hostile index on 127.0.0.1 serves, per case, a project ``evil`` whose only wheel is the
malicious variant (zip-slip, absolute path, ``.data`` escape, symlink member, duplicate
member, a RECORD that lies about a hash or a size or leaves a member out, a decompression
bomb). ``wasmtool lock`` (native) and ``install`` must fail with WT340 naming the member,
exit 1 without a traceback, leave no cache entry and no lock, and write nothing outside
the test's folder.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import subprocess
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.support.index_server import IndexServer, ServedFile

pytestmark = pytest.mark.slow

INFO = "evil-1.0.dist-info"
METADATA = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
#: a name unlikely to exist anywhere; every escaping member is called this
NL = b"\n"
PWNED = f"wt-pwned-{uuid.uuid4().hex[:12]}.py"


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@dataclass
class Spec:
    """A wheel to build: members in order (name, bytes, unix mode), and RECORD overrides."""

    members: list[tuple[str, bytes, int]] = field(default_factory=list)
    #: RECORD line per member name, when it must differ from the honest one; None drops it
    record: dict[str, str | None] = field(default_factory=dict)
    deflate: bool = False


def base_spec() -> Spec:
    return Spec(members=[("evil/__init__.py", b"X = 1\n", 0o644), (f"{INFO}/METADATA", METADATA.encode(), 0o644),
                         (f"{INFO}/WHEEL", WHEEL.encode(), 0o644)])


def build(folder: Path, spec: Spec) -> ServedFile:
    lines = []
    for name, data, _mode in spec.members:
        honest = f"{name},{record_hash(data)},{len(data)}"
        line = spec.record.get(name, honest)
        if line is not None and line not in lines:
            lines.append(line)
    lines.append(f"{INFO}/RECORD,,")
    members = [*spec.members, (f"{INFO}/RECORD", ("\n".join(lines) + "\n").encode(), 0o644)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evil-1.0-py3-none-any.whl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is the point of one case
        with zipfile.ZipFile(path, "w") as zf:
            for name, data, mode in members:
                zi = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
                zi.external_attr = mode << 16
                zi.compress_type = zipfile.ZIP_DEFLATED if spec.deflate else zipfile.ZIP_STORED
                zf.writestr(zi, data)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ServedFile("evil", path.name, digest, path, METADATA.encode(), None)


def spec_for(case: str) -> tuple[Spec, str]:
    """The malicious variant for ``case`` and the member the error must name."""
    spec = base_spec()
    payload = b"print('pwned')\n"
    if case == "zip-slip":
        member = f"../../{PWNED}"
        spec.members.append((member, payload, 0o644))
    elif case == "absolute":
        member = f"/tmp/{PWNED}"
        spec.members.append((member, payload, 0o644))
    elif case == "data-escape":
        member = f"evil-1.0.data/purelib/../../../{PWNED}"
        spec.members.append((member, payload, 0o644))
    elif case == "symlink":
        member = "evil/passwd"
        spec.members.append((member, b"/etc/passwd", stat.S_IFLNK | 0o777))
    elif case == "duplicate":
        member = "evil/__init__.py"
        spec.members.append((member, payload, 0o644))
    elif case == "record-hash-lie":
        member = "evil/__init__.py"
        spec.record[member] = f"{member},{record_hash(b'X = 2' + NL)},6"
    elif case == "record-size-lie":
        member = "evil/__init__.py"
        spec.record[member] = f"{member},{record_hash(b'X = 1' + NL)},7"
    elif case == "record-missing-entry":
        member = "evil/hidden.py"
        spec.members.append((member, payload, 0o644))
        spec.record[member] = None
    elif case == "bomb":
        member = "evil/data.bin"
        spec.members.append((member, bytes(50 * 1024 * 1024), 0o644))
        spec.deflate = True
    else:  # pragma: no cover
        raise AssertionError(case)
    return spec, member


CASES = ["zip-slip", "absolute", "data-escape", "symlink", "duplicate", "record-hash-lie", "record-size-lie",
         "record-missing-entry", "bomb"]


def assert_refused(proc: subprocess.CompletedProcess[str], member: str, served: ServedFile, project: Path,
                   cache: Path) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "WT340" in proc.stderr, proc.stderr
    assert repr(member) in proc.stderr, proc.stderr
    assert served.filename in proc.stderr, proc.stderr
    assert not (project / "mochi.lock").exists()
    assert not (cache / "by-sha256" / f"{served.sha256}.json").exists()
    assert not any(cache.rglob("evil-*.whl")), sorted(cache.rglob("*"))


def assert_nothing_escaped(tmp_path: Path) -> None:
    places = [tmp_path, *tmp_path.parents[:3], Path("/tmp"), Path.home()]
    hits = [p / PWNED for p in places if (p / PWNED).exists()]
    assert not hits
    assert not any(tmp_path.rglob(PWNED))


@pytest.mark.parametrize("case", CASES)
def test_lock_refuses_a_malicious_wheel(case: str, tmp_path: Path) -> None:
    spec, member = spec_for(case)
    served = build(tmp_path / "wheels", spec)
    project = write_project(tmp_path / "proj", {"evil": "*"})
    cache = tmp_path / "cache"
    with IndexServer({"evil": [served]}) as server:
        proc = run_cli(["-C", str(project), "lock"], cache=cache, index_url=server.url)
    assert_refused(proc, member, served, project, cache)
    assert_nothing_escaped(tmp_path)


def test_install_refuses_a_malicious_wheel(tmp_path: Path) -> None:
    spec, member = spec_for("zip-slip")
    served = build(tmp_path / "wheels", spec)
    project = write_project(tmp_path / "proj", {"evil": "*"})
    cache = tmp_path / "cache"
    with IndexServer({"evil": [served]}) as server:
        proc = run_cli(["-C", str(project), "install"], cache=cache, index_url=server.url)
    assert_refused(proc, member, served, project, cache)
    assert_nothing_escaped(tmp_path)
    assert not list((project / ".mochi").rglob("evil*"))   # nothing of it in the venv (.mochi/venv)


def test_an_honest_evil_locks(tmp_path: Path) -> None:
    """The same wheel without the trick is accepted: the refusals above are the tricks'."""
    served = build(tmp_path / "wheels", base_spec())
    project = write_project(tmp_path / "proj", {"evil": "*"})
    cache = tmp_path / "cache"
    with IndexServer({"evil": [served]}) as server:
        run_cli(["-C", str(project), "lock"], cache=cache, index_url=server.url, check=True)
    assert (project / "mochi.lock").exists()
    ref = (cache / "by-sha256" / f"{served.sha256}.json").read_text()
    assert '"checked": "wheel-check/' in ref
