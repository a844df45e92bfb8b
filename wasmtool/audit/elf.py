"""What an ELF shared object needs: libraries, versioned symbols, imported symbols (pyelftools).

:func:`read_elf` takes the bytes of one member of a wheel and returns its ``DT_NEEDED``
libraries, its version requirements (``.gnu.version_r``: ``libc.so.6`` needs ``GLIBC_2.34``,
...), the symbols it imports (undefined dynamic symbols; weak ones are marked) and the ones it
defines, and its machine (``x86_64``, ``aarch64``, ...).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from wasmtool.audit.errors import UnreadableBinaryError

__all__ = ["ELF_MAGIC", "ElfInfo", "is_elf", "read_elf"]

ELF_MAGIC = b"\x7fELF"
# e_machine names (pyelftools) to the architecture names wheel tags and auditwheel's policy use
_ARCH = {"EM_X86_64": "x86_64", "EM_386": "i686", "EM_AARCH64": "aarch64", "EM_PPC64": "ppc64le",
         "EM_S390": "s390x", "EM_ARM": "armv7l", "EM_RISCV": "riscv64", "EM_LOONGARCH": "loongarch64"}



@dataclass(frozen=True)
class ElfInfo:
    machine: str
    needed: tuple[str, ...]
    #: (library file, version name) pairs from .gnu.version_r, e.g. ("libc.so.6", "GLIBC_2.17")
    version_needs: tuple[tuple[str, str], ...]
    imported: frozenset[str]        # undefined dynamic symbols (strong and weak)
    weak_imported: frozenset[str]
    defined: frozenset[str]         # defined, global or weak dynamic symbols
    #: imported symbols per version requirement: (("libc.so.6", "GLIBC_2.34"), ("__libc_start_main",)), ...
    version_symbols: tuple[tuple[tuple[str, str], tuple[str, ...]], ...] = ()

    def symbols_of(self, library: str, version_name: str) -> tuple[str, ...]:
        for key, names in self.version_symbols:
            if key == (library, version_name):
                return names
        return ()


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def read_elf(data: bytes, *, symbols: bool = True) -> ElfInfo:
    """Read ``data``. ``symbols=False`` skips the dynamic symbol table (the slow part on large
    libraries): ``imported``, ``defined`` and ``version_symbols`` are then empty."""
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = _ARCH.get(str(elf["e_machine"]), str(elf["e_machine"]))
        if machine == "ppc64le" and elf.little_endian is False:
            machine = "ppc64"
        needed: list[str] = []
        version_needs: set[tuple[str, str]] = set()
        imported: set[str] = set()
        weak: set[str] = set()
        defined: set[str] = set()
        by_index: dict[int, tuple[str, str]] = {}
        undefined_at: dict[int, str] = {}
        versym: GNUVerSymSection | None = None
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                # pyelftools sets .needed on DT_NEEDED tags only (its type stubs do not declare it)
                needed.extend(str(tag.needed) for tag in section.iter_tags()  # type: ignore[attr-defined]
                              if tag.entry.d_tag == "DT_NEEDED")
            elif isinstance(section, GNUVerNeedSection):
                for verneed, vernaux_iter in section.iter_versions():
                    for aux in vernaux_iter:
                        version_needs.add((str(verneed.name), str(aux.name)))
                        by_index[int(aux["vna_other"])] = (str(verneed.name), str(aux.name))
            elif isinstance(section, GNUVerSymSection):
                versym = section
            elif symbols and isinstance(section, SymbolTableSection) and section.name == ".dynsym":
                for i, sym in enumerate(section.iter_symbols()):
                    name = str(sym.name)
                    if not name:
                        continue
                    bind = sym["st_info"]["bind"]
                    if sym["st_shndx"] == "SHN_UNDEF":
                        imported.add(name)
                        undefined_at[i] = name
                        if bind == "STB_WEAK":
                            weak.add(name)
                    elif bind in ("STB_GLOBAL", "STB_WEAK", "STB_GNU_UNIQUE"):
                        defined.add(name)
        grouped: dict[tuple[str, str], set[str]] = {}
        if versym is not None:
            for i, name in undefined_at.items():
                ndx = versym.get_symbol(i)["ndx"]
                if isinstance(ndx, int) and (ndx & 0x7FFF) in by_index:
                    grouped.setdefault(by_index[ndx & 0x7FFF], set()).add(name)
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OSError, struct.error) as exc:
        raise UnreadableBinaryError(str(exc) or type(exc).__name__) from exc
    return ElfInfo(machine=machine, needed=tuple(needed), version_needs=tuple(sorted(version_needs)),
                   imported=frozenset(imported), weak_imported=frozenset(weak), defined=frozenset(defined),
                   version_symbols=tuple(sorted((k, tuple(sorted(v))) for k, v in grouped.items())))
