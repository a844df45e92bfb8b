"""Synthetic wheels for the lock-time audit tests: tiny extensions built with the system
compiler (one needing a library no manylinux policy allows and the wheel does not bundle,
one needing only libc), packed as wheels with the tags the test chooses."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from tests.support.audit_builders import compile_shared


def build_so(folder: Path, name: str, source: str, *, libs: tuple[str, ...] = ()) -> Path:
    """Compile ``source`` into the shared object ``folder/name`` (linked against ``libs``,
    found in ``folder``) with the audit tests' one compiler helper."""
    folder.mkdir(parents=True, exist_ok=True)
    return compile_shared(folder / name, source, soname=name if name.startswith("lib") else None,
                          link=(f"-L{folder}", *(f"-l{lib}" for lib in libs)))


def outside_library(folder: Path) -> Path:
    """``libwtaudit.so``: a library that is in no policy's allow-list and in no wheel."""
    return build_so(folder, "libwtaudit.so", "int wtaudit_answer(void) { return 42; }\n")


def make_wheel(folder: Path, name: str, version: str, tag: str, members: dict[str, bytes]) -> Path:
    """A wheel ``name-version-tag.whl`` holding ``members`` plus its dist-info."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = dict(members)
    files[f"{dist}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 "Requires-Python: >=3.12\n").encode()
    files[f"{dist}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: wasmtool-tests\nRoot-Is-Purelib: "
                              f"{'true' if tag.endswith('none-any') else 'false'}\nTag: {tag}\n").encode()
    lines = []
    for path, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(lines) + "\n").encode()
    out = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            zf.writestr(info, files[path])
    return out


def extension_wheel(folder: Path, name: str, *, outside: bool, tag: str = "cp312-cp312-manylinux_2_17_x86_64",
                    version: str = "1.0") -> Path:
    """A package ``name`` whose ``_ext`` extension needs ``libwtaudit.so`` (``outside``) or
    only the C library."""
    build = folder / f"build-{name}"
    if outside:
        outside_library(build)
        body = "extern int wtaudit_answer(void);\nint PyInit__ext(void) { return wtaudit_answer(); }\n"
        so = build_so(build, "_ext.so", body, libs=("wtaudit",))
    else:
        so = build_so(build, "_ext.so", "int PyInit__ext(void) { return 1; }\n")
    abi = tag.split("-")[1]   # cp312, cp313t, abi3
    suffix = "abi3" if abi == "abi3" else f"cpython-{abi.removeprefix('cp')}-x86_64-linux-gnu"
    member = f"{name}/_ext.{suffix}.so"
    return make_wheel(folder / "wheels", name, version, tag,
                      {f"{name}/__init__.py": b"VALUE = 1\n", member: so.read_bytes()})
