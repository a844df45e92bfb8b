"""Build the wheels the audit tests fail on: tiny C extensions compiled with the system
compiler, packed into wheels, and WebAssembly modules rewritten section by section.

Nothing here decides a verdict: the tests build an input with one known defect and assert the
audit names it.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import zipfile
from collections.abc import Mapping
from pathlib import Path

from tests.skip_policy import missing

__all__ = ["add_wasm_import", "compile_shared", "gcc", "macho_file", "pack_wheel", "pe_file", "rename_wasm_import",
           "wasm_module"]


def gcc() -> str:
    found = shutil.which("gcc") or shutil.which("cc")
    if found is None:
        missing("gcc (the system C compiler; the audit tests build their failing extensions with it)",
                "install it (Debian package gcc)")
    return found


def compile_shared(out: Path, source: str, *, soname: str | None = None, link: tuple[str, ...] = ()) -> Path:
    """Compile C ``source`` into the shared object ``out`` (``-shared -fPIC``); ``link``: extra
    linker arguments (``-L``, ``-l``)."""
    src = out.with_suffix(".c")
    src.write_text(source, encoding="utf-8")
    args = [gcc(), "-shared", "-fPIC", "-O0", "-o", str(out), str(src)]
    if soname:
        args.append(f"-Wl,-soname,{soname}")
    args += list(link)
    subprocess.run(args, check=True, capture_output=True, text=True)
    return out


def pack_wheel(folder: Path, filename: str, members: Mapping[str, bytes]) -> Path:
    """A wheel named ``filename`` in ``folder`` holding ``members`` plus its dist-info
    (WHEEL with the file name's tags, METADATA, RECORD)."""
    parts = filename[:-len(".whl")].split("-")
    name, version = parts[0], parts[1]
    python, abi, platform = parts[-3], parts[-2], parts[-1]
    dist_info = f"{name}-{version}.dist-info"
    wheel_tags = "".join(f"Tag: {p}-{a}-{pl}\n" for p in python.split(".") for a in abi.split(".")
                         for pl in platform.split("."))
    files = dict(members)
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: false\n{wheel_tags}".encode()
    record = []
    for member, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{member},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in sorted(files.items()):
            zf.writestr(member, data)
    return path


# -- WebAssembly ---------------------------------------------------------------------------------

def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _name(s: str) -> bytes:
    raw = s.encode()
    return _uleb(len(raw)) + raw


def _sections(data: bytes) -> list[tuple[int, bytes]]:
    assert data[:8] == b"\x00asm\x01\x00\x00\x00"
    pos, out = 8, []
    while pos < len(data):
        sid = data[pos]
        size, pos = _read_uleb(data, pos + 1)
        out.append((sid, data[pos:pos + size]))
        pos += size
    return out


def _assemble(sections: list[tuple[int, bytes]]) -> bytes:
    return b"\x00asm\x01\x00\x00\x00" + b"".join(bytes([sid]) + _uleb(len(body)) + body for sid, body in sections)


def _imports(body: bytes) -> list[tuple[str, str, bytes]]:
    """(module, name, raw descriptor incl. kind byte) of an import section body (func/global/memory/table)."""
    count, pos = _read_uleb(body, 0)
    out = []
    for _ in range(count):
        n, pos = _read_uleb(body, pos)
        module = body[pos:pos + n].decode()
        pos += n
        n, pos = _read_uleb(body, pos)
        name = body[pos:pos + n].decode()
        pos += n
        start = pos
        kind = body[pos]
        pos += 1
        if kind == 0:
            _, pos = _read_uleb(body, pos)
        elif kind == 1:
            pos += 1
            flags = body[pos]
            _, pos = _read_uleb(body, pos + 1)
            if flags & 1:
                _, pos = _read_uleb(body, pos)
        elif kind == 2:
            flags = body[pos]
            _, pos = _read_uleb(body, pos + 1)
            if flags & 1:
                _, pos = _read_uleb(body, pos)
        elif kind == 3:
            pos += 2
        else:
            raise AssertionError(f"import kind {kind}")
        out.append((module, name, body[start:pos]))
    return out


def _import_body(entries: list[tuple[str, str, bytes]]) -> bytes:
    return _uleb(len(entries)) + b"".join(_name(m) + _name(n) + desc for m, n, desc in entries)


def rename_wasm_import(data: bytes, old: str, new: str) -> bytes:
    """``data`` with the import named ``old`` renamed ``new`` (the import section re-encoded)."""
    sections = _sections(data)
    for i, (sid, body) in enumerate(sections):
        if sid == 2:
            entries = _imports(body)
            assert any(n == old for _, n, _ in entries), old
            sections[i] = (2, _import_body([(m, new if n == old else n, d) for m, n, d in entries]))
    return _assemble(sections)


def add_wasm_import(data: bytes, module: str, name: str) -> bytes:
    """``data`` with one more function import ``module.name`` of type 0, appended after the others
    (function indices shift: fine for reading, not for running)."""
    sections = _sections(data)
    for i, (sid, body) in enumerate(sections):
        if sid == 2:
            entries = [*_imports(body), (module, name, b"\x00\x00")]
            sections[i] = (2, _import_body(entries))
    return _assemble(sections)


def wasm_module(*, imports: tuple[tuple[str, str], ...] = (), exports: tuple[str, ...] = (),
                needed: tuple[str, ...] = (), weak: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A minimal side module: dylink.0 (mem info, needed, weak import info), one function type
    ``() -> ()``, function ``imports``, one function exported under each of ``exports``."""
    sub = bytes([1]) + _uleb(len(b := _uleb(0) + _uleb(0) + _uleb(0) + _uleb(0))) + b
    if needed:
        body = _uleb(len(needed)) + b"".join(_name(n) for n in needed)
        sub += bytes([2]) + _uleb(len(body)) + body
    if weak:
        body = _uleb(len(weak)) + b"".join(_name(m) + _name(n) + _uleb(1) for m, n in weak)
        sub += bytes([4]) + _uleb(len(body)) + body
    sections = [(0, _name("dylink.0") + sub), (1, _uleb(1) + b"\x60\x00\x00")]
    sections.append((2, _import_body([(m, n, b"\x00\x00") for m, n in imports])))
    if exports:
        sections.append((3, _uleb(1) + _uleb(0)))
        index = len(imports)
        sections.append((7, _uleb(len(exports)) + b"".join(_name(e) + b"\x00" + _uleb(index) for e in exports)))
        sections.append((10, _uleb(1) + _uleb(2) + b"\x00\x0b"))
    return _assemble(sections)


# -- Mach-O and PE: no compiler for them here, so minimal files written field by field -----------

def macho_file(dylibs: list[str], undefined: tuple[str, ...] = ()) -> bytes:
    """A 64-bit little-endian Mach-O dylib header: one LC_LOAD_DYLIB per install name, and
    LC_SYMTAB + LC_DYSYMTAB listing ``undefined`` as undefined external symbols (``_name``)."""
    import struct

    commands = b""
    for name in dylibs:
        raw = name.encode() + b"\x00"
        size = 24 + len(raw)
        size += (-size) % 8
        commands += struct.pack("<IIIIII", 0xC, size, 24, 2, 0x10000, 0x10000) + raw.ljust(size - 24, b"\x00")
    ncmds = len(dylibs)
    tail = b""
    if undefined:
        ncmds += 2
        header_size = 32 + len(commands) + 24 + 80
        strtab = b"\x00"
        nlists = b""
        for sym in undefined:
            nlists += struct.pack("<IBBHQ", len(strtab), 0x01, 0, 0, 0)     # N_UNDF | N_EXT
            strtab += b"_" + sym.encode() + b"\x00"
        symoff = header_size
        stroff = symoff + len(nlists)
        commands += struct.pack("<IIIIII", 0x2, 24, symoff, len(undefined), stroff, len(strtab))
        commands += struct.pack("<II" + "I" * 18, 0xB, 80, 0, 0, 0, 0, 0, len(undefined), *([0] * 12))
        tail = nlists + strtab
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 6, ncmds, len(commands), 0, 0)
    return header + commands + tail


def pe_file(imports: dict[str, list[str]]) -> bytes:
    """A minimal PE32+ DLL whose import table imports ``imports`` (DLL -> function names)."""
    import struct

    rva0, raw0 = 0x1000, 0x200
    dlls = list(imports)
    desc_size = 20 * (len(dlls) + 1)
    # layout inside the section: descriptors, then per DLL its lookup table, then names
    pos = desc_size
    ilt_at: dict[str, int] = {}
    for dll in dlls:
        ilt_at[dll] = pos
        pos += 8 * (len(imports[dll]) + 1)
    blob_names = b""
    hint_at: dict[tuple[str, str], int] = {}
    dll_name_at: dict[str, int] = {}
    for dll in dlls:
        for fn in imports[dll]:
            hint_at[(dll, fn)] = pos + len(blob_names)
            entry = b"\x00\x00" + fn.encode() + b"\x00"
            blob_names += entry + (b"\x00" if len(entry) % 2 else b"")
        dll_name_at[dll] = pos + len(blob_names)
        blob_names += dll.encode() + b"\x00"
    section = bytearray()
    for dll in dlls:
        section += struct.pack("<IIIII", rva0 + ilt_at[dll], 0, 0, rva0 + dll_name_at[dll], rva0 + ilt_at[dll])
    section += b"\x00" * 20
    for dll in dlls:
        for fn in imports[dll]:
            section += struct.pack("<Q", rva0 + hint_at[(dll, fn)])
        section += b"\x00" * 8
    section += blob_names
    section += b"\x00" * ((-len(section)) % 0x200)
    dirs = [(0, 0)] * 16
    dirs[1] = (rva0, desc_size)
    optional = struct.pack("<HBBIIIIIQIIHHHHHHIIIIHHQQQQII", 0x20B, 14, 0, 0, len(section), 0, 0, 0,
                           0x180000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, rva0 + len(section), raw0, 0, 3, 0x160,
                           0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    optional += b"".join(struct.pack("<II", *d) for d in dirs)
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, len(optional), 0x2022)
    sect = struct.pack("<8sIIIIIIHHI", b".idata", len(section), rva0, len(section), raw0, 0, 0, 0, 0, 0xC0000040)
    dos = b"MZ" + b"\x00" * 0x3A + struct.pack("<I", 0x40)
    head = dos + b"PE\x00\x00" + coff + optional + sect
    return head.ljust(raw0, b"\x00") + bytes(section)
