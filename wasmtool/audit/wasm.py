"""What a WebAssembly module needs and gives: its ``dylink.0`` section, imports and exports.

Pyodide and WASI wheels ship their extension modules as ``.so`` files that are WebAssembly
side modules. This reads the three parts the audit looks at: the ``dylink.0`` custom section
(memory and table sizes, the libraries the module needs), the import section (module, name,
kind) and the export section (name, kind).

Hand-written on purpose: the parts read are a small, frozen piece of the binary format
(section ids, LEB128, length-prefixed names; the ``dylink.0`` layout from the tool
conventions' DynamicLinking document), while the one wasm library already installed,
``wasm-tools``, is a command line: one process per module and a text dump to parse, which is
slower than this reader on a 10 MB runtime module and adds nothing it needs. No section body
other than those three is decoded; code is never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

from wasmtool.audit.errors import UnreadableBinaryError

__all__ = ["WASM_MAGIC", "WasmImport", "WasmModule", "is_wasm", "read_wasm"]

WASM_MAGIC = b"\x00asm"
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
# dylink.0 subsections
_BINDING_WEAK = 1                   # WASM_SYMBOL_BINDING_WEAK
_MEM_INFO, _NEEDED, _EXPORT_INFO, _IMPORT_INFO, _RUNTIME_PATH = 1, 2, 3, 4, 5



@dataclass(frozen=True, order=True)
class WasmImport:
    module: str
    name: str
    kind: str


@dataclass(frozen=True)
class WasmModule:
    imports: tuple[WasmImport, ...]
    exports: frozenset[str]
    needed: tuple[str, ...]          # dylink.0 WASM_DYLINK_NEEDED, in order
    memory_size: int = 0
    table_size: int = 0
    is_side_module: bool = False     # has a dylink.0 section
    weak_imports: frozenset[tuple[str, str]] = frozenset()   # (module, name) marked weak in dylink.0


def is_wasm(data: bytes) -> bool:
    return data[:4] == WASM_MAGIC


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise UnreadableBinaryError("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise UnreadableBinaryError("LEB128 number too long")

    def sleb(self) -> None:
        while self.byte() & 0x80:
            pass

    def name(self) -> str:
        n = self.uleb()
        if self.pos + n > self.end:
            raise UnreadableBinaryError("name runs past its section")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableBinaryError("a name is not UTF-8") from exc

    def limits(self) -> None:
        flags = self.byte()
        self.uleb()
        if flags & 1:
            self.uleb()


def _import_desc(r: _Reader, kind: int) -> None:
    if kind == 0:
        r.uleb()                       # type index
    elif kind == 1:
        r.byte()                       # reftype
        r.limits()
    elif kind == 2:
        r.limits()
    elif kind == 3:
        r.byte()                       # valtype
        r.byte()                       # mutability
    elif kind == 4:
        r.byte()                       # tag attribute
        r.uleb()
    else:
        raise UnreadableBinaryError(f"unknown import kind {kind}")


def read_wasm(data: bytes) -> WasmModule:
    """Read the dylink.0, import and export sections of the module ``data``."""
    if not is_wasm(data) or len(data) < 8:
        raise UnreadableBinaryError("not a WebAssembly module (no \\0asm header)")
    if data[4:8] != b"\x01\x00\x00\x00":
        raise UnreadableBinaryError("not a version-1 WebAssembly module (a component?)")
    r = _Reader(data, 8)
    imports: list[WasmImport] = []
    exports: set[str] = set()
    needed: list[str] = []
    mem = table = 0
    side = False
    weak: set[tuple[str, str]] = set()
    while r.pos < r.end:
        section_id = r.byte()
        size = r.uleb()
        start, end = r.pos, r.pos + size
        if end > r.end:
            raise UnreadableBinaryError("a section runs past the end of the module")
        s = _Reader(data, start, end)
        if section_id == 0:
            if s.name() == "dylink.0":
                side = True
                while s.pos < s.end:
                    sub, sub_size = s.byte(), s.uleb()
                    sub_end = s.pos + sub_size
                    if sub == _MEM_INFO:
                        mem = s.uleb()
                        s.uleb()
                        table = s.uleb()
                    elif sub == _NEEDED:
                        needed.extend(s.name() for _ in range(s.uleb()))
                    elif sub == _IMPORT_INFO:
                        for _ in range(s.uleb()):
                            module, name, flags = s.name(), s.name(), s.uleb()
                            if flags & _BINDING_WEAK:
                                weak.add((module, name))
                    s.pos = sub_end
        elif section_id == 2:
            for _ in range(s.uleb()):
                module, name, kind = s.name(), s.name(), s.byte()
                _import_desc(s, kind)
                imports.append(WasmImport(module, name, _KINDS.get(kind, str(kind))))
        elif section_id == 7:
            for _ in range(s.uleb()):
                name = s.name()
                s.byte()
                s.uleb()
                exports.add(name)
        r.pos = end
    return WasmModule(imports=tuple(imports), exports=frozenset(exports), needed=tuple(needed),
                      memory_size=mem, table_size=table, is_side_module=side,
                      weak_imports=frozenset(weak))
