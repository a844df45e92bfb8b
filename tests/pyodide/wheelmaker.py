"""Tiny pure-Python wheels made on the fly, and the pinned real wheels the Pyodide tests use.

Shared by tests/pyodide and browser-tests/build_fixture.py.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from wasmtool.bundle.pyodide import BundleWheel, sha256_file

# The real wheels (files in $WASMTOOL_TEST_WHEELS; pinned in tests/data/manifest.json):
# name -> (file name, depends).
PYDANTIC_SET: dict[str, tuple[str, tuple[str, ...]]] = {
    "annotated-types": ("annotated_types-0.8.0-py3-none-any.whl", ()),
    "typing-extensions": ("typing_extensions-4.16.0-py3-none-any.whl", ()),
    "typing-inspection": ("typing_inspection-0.4.5-py3-none-any.whl", ("typing-extensions",)),
    "pydantic-core": ("pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
                      ("typing-extensions",)),
    "pydantic": ("pydantic-2.14.4-py3-none-any.whl",
                 ("typing-extensions", "pydantic-core", "annotated-types", "typing-inspection")),
}
EXTRA_SET: dict[str, tuple[str, tuple[str, ...]]] = {
    "tomli": ("tomli-2.5.0-py3-none-any.whl", ()),
    "attrs": ("attrs-26.1.0-py3-none-any.whl", ()),
}
REQUIRED_FILES = tuple(sorted(f for f, _ in [*PYDANTIC_SET.values(), *EXTRA_SET.values()]))

PROBE_SOURCE = '''\
"""wasmtool test probe: calls into the bundled packages."""
import pydantic


def int_via_pydantic(text):
    return pydantic.TypeAdapter(int).validate_python(text)


def toml_keys(text):
    import tomli
    return sorted(tomli.loads(text))


def attrs_point(x, y):
    import attrs

    @attrs.define
    class Point:
        x: int
        y: int

    return attrs.asdict(Point(x, y))


def main():
    return int_via_pydantic("42")
'''


def real_wheels(folder: Path, names: dict[str, tuple[str, tuple[str, ...]]]) -> list[BundleWheel]:
    out = []
    for name, (filename, depends) in names.items():
        path = folder / filename
        out.append(BundleWheel(path=path, name=name, version=filename.split("-")[1],
                               sha256=sha256_file(path), depends=depends))
    return out


@dataclass(frozen=True)
class MadeWheel:
    path: Path
    name: str
    version: str

    def bundle_wheel(self, depends: tuple[str, ...] = (), imports: tuple[str, ...] = ()) -> BundleWheel:
        return BundleWheel(path=self.path, name=self.name, version=self.version,
                           sha256=sha256_file(self.path), depends=depends, imports=imports)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder: Path, name: str, version: str, files: dict[str, str],
               requires: tuple[str, ...] = ()) -> MadeWheel:
    """A py3-none-any wheel with ``files`` (path -> text) and a RECORD, byte-stable."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
    meta += [f"Requires-Dist: {r}\n" for r in requires]
    contents = {
        **files,
        f"{info}/METADATA": "".join(meta),
        f"{info}/WHEEL": ("Wheel-Version: 1.0\nGenerator: wasmtool-tests\nRoot-Is-Purelib: true\n"
                          "Tag: py3-none-any\n"),
    }
    record = [f"{p},{_record_hash(t.encode())},{len(t.encode())}" for p, t in contents.items()]
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, text in contents.items():
            zi = zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, text)
    return MadeWheel(path=path, name=name, version=version)


def make_probe(folder: Path) -> MadeWheel:
    return make_wheel(folder, "wt-probe", "1.0", {"wt_probe/__init__.py": PROBE_SOURCE},
                      requires=("pydantic",))


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Change one byte of ``path`` in place (in the middle of the file unless told)."""
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
