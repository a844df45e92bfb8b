"""The binary readers of the wheel audit, on real wheels from the test index and on small
binaries built here (ELF with gcc; WebAssembly with the test writer)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.support.audit_builders import compile_shared, macho_file, pe_file, wasm_module
from wasmtool.audit import elf, macho, pe, wasm
from wasmtool.audit.errors import UnreadableBinaryError

ARTEFACTS = Path(__file__).resolve().parents[1] / "data" / "artefacts"
NUMPY = "numpy-2.5.5-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
MSGPACK_WASM = "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
PYODIDE_MAIN = Path(__file__).resolve().parents[2] / "node_modules" / "pyodide" / "pyodide.asm.wasm"


def _member(wheel: str, suffix: str) -> tuple[str, bytes]:
    path = ARTEFACTS / wheel
    if not path.is_file():
        pytest.fail(f"missing test artefact {wheel}: run scripts/fetch_artefacts.py", pytrace=False)
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith(suffix):
                return name, zf.read(name)
    raise AssertionError(f"{wheel} has no member ending {suffix}")


# -- ELF -----------------------------------------------------------------------------------------

def test_elf_needed_and_versions_of_a_real_extension() -> None:
    _, data = _member(NUMPY, "_multiarray_umath.cpython-312-x86_64-linux-gnu.so")
    info = elf.read_elf(data)
    assert info.machine == "x86_64"
    # numpy links the OpenBLAS it bundles under numpy.libs/ by its hashed name
    assert any(n.startswith("libscipy_openblas") for n in info.needed)
    assert "libc.so.6" in info.needed
    assert ("libm.so.6", "GLIBC_2.27") in info.version_needs
    assert set(info.symbols_of("libm.so.6", "GLIBC_2.27")) <= info.imported
    assert info.symbols_of("libm.so.6", "GLIBC_2.27")      # the symbols behind the version are named
    assert "PyInit__multiarray_umath" in info.defined


def test_elf_built_here(tmp_path: Path) -> None:
    lib = compile_shared(tmp_path / "libauditdep.so.1", "int dep_value(void) { return 7; }\n",
                         soname="libauditdep.so.1")
    ext = compile_shared(tmp_path / "ext.so",
                         "extern int dep_value(void);\n__attribute__((weak)) extern int maybe_there(void);\n"
                         "int PyInit_ext(void) { return dep_value() + (maybe_there ? maybe_there() : 0); }\n",
                         link=(f"-L{tmp_path}", "-l:libauditdep.so.1"))
    assert lib.is_file()
    info = elf.read_elf(ext.read_bytes())
    assert "libauditdep.so.1" in info.needed
    assert {"dep_value", "maybe_there"} <= info.imported
    assert "maybe_there" in info.weak_imported and "dep_value" not in info.weak_imported
    assert "PyInit_ext" in info.defined


def test_elf_rejects_other_bytes() -> None:
    assert not elf.is_elf(b"\x00asm\x01\x00\x00\x00")
    with pytest.raises(UnreadableBinaryError):
        elf.read_elf(b"\x7fELF" + b"\x00" * 12)


# -- WebAssembly ---------------------------------------------------------------------------------

def test_wasm_reads_a_real_pyodide_extension() -> None:
    _, data = _member(MSGPACK_WASM, ".so")
    module = wasm.read_wasm(data)
    assert module.is_side_module
    assert module.memory_size > 0
    modules = {i.module for i in module.imports}
    assert "env" in modules and "GOT.mem" in modules
    env = {i.name for i in module.imports if i.module == "env"}
    assert "PyLong_FromLong" in env or any(n.startswith("Py") for n in env)
    assert any(e.startswith("PyInit_") for e in module.exports)


def test_wasm_reads_the_pinned_pyodide_main_module() -> None:
    if not PYODIDE_MAIN.is_file():
        pytest.fail("missing node_modules/pyodide: run scripts/setup-node.sh", pytrace=False)
    module = wasm.read_wasm(PYODIDE_MAIN.read_bytes())
    assert {"PyLong_FromLong", "PyObject_GetAttr", "malloc"} <= module.exports
    assert any(i.module == "env" for i in module.imports)


def test_wasm_dylink_needed_and_weak_imports() -> None:
    data = wasm_module(imports=(("env", "f"), ("env", "g"), ("GOT.mem", "h")), exports=("PyInit_x",),
                       needed=("libfoo.so", "libbar.so"), weak=(("env", "g"),))
    module = wasm.read_wasm(data)
    assert module.needed == ("libfoo.so", "libbar.so")
    assert module.weak_imports == {("env", "g")}
    assert [(i.module, i.name, i.kind) for i in module.imports] == [
        ("env", "f", "func"), ("env", "g", "func"), ("GOT.mem", "h", "func")]
    assert module.exports == {"PyInit_x"}


@pytest.mark.parametrize("data", [b"\x00asm\x0d\x00\x01\x00", b"\x00asm\x01\x00\x00\x00\x02\x7f", b"\x00as"])
def test_wasm_rejects_components_and_truncated_modules(data: bytes) -> None:
    with pytest.raises(UnreadableBinaryError):
        wasm.read_wasm(data)


# -- Mach-O and PE: no such wheels in the test index, and no compiler for them here: ---------------
# -- minimal files written field by field (tests/support/audit_builders.py) ----------------------

def test_macho_dependent_libraries() -> None:
    data = macho_file(["/usr/lib/libSystem.B.dylib", "/opt/homebrew/lib/libssl.3.dylib", "@rpath/libfoo.dylib"],
                      ("PyLong_FromLong", "_PyObject_GetAttrId"))
    assert macho.is_macho(data)
    info = macho.read_macho(data)
    assert info.libraries == ("/usr/lib/libSystem.B.dylib", "/opt/homebrew/lib/libssl.3.dylib",
                              "@rpath/libfoo.dylib")
    # the leading underscore of Mach-O symbol names is dropped
    assert info.imported == {"PyLong_FromLong", "_PyObject_GetAttrId"}


def test_macho_a_java_class_file_is_not_one() -> None:
    assert not macho.is_macho(b"\xca\xfe\xba\xbe\x00\x00\x00\x34")


def test_macho_outside_system() -> None:
    shipped = frozenset({"libfoo.dylib"})
    assert macho.outside_system("/usr/lib/libSystem.B.dylib", shipped) is None
    assert macho.outside_system("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation", shipped) is None
    assert macho.outside_system("@rpath/libfoo.dylib", shipped) is None
    assert macho.outside_system("@loader_path/../.dylibs/libbar.dylib", shipped) is not None
    assert macho.outside_system("/opt/homebrew/lib/libssl.3.dylib", shipped) is not None
    assert macho.outside_system("/usr/local/lib/libpng.dylib", shipped) is not None


def test_macho_rejects_garbage() -> None:
    with pytest.raises(UnreadableBinaryError):
        macho.read_macho(b"\xcf\xfa\xed\xfe" + b"\xff" * 8)


def test_pe_imports_by_dll() -> None:
    data = pe_file({"python3.dll": ["PyLong_FromLong"], "KERNEL32.dll": ["GetProcAddress", "LoadLibraryW"],
                    "libssl-3-x64.dll": ["SSL_new"]})
    assert pe.is_pe(data)
    info = pe.read_pe(data)
    assert info.dlls == ("python3.dll", "KERNEL32.dll", "libssl-3-x64.dll")
    assert dict(info.imports)["KERNEL32.dll"] == ("GetProcAddress", "LoadLibraryW")
    assert info.imported_from(pe.PYTHON_DLL) == {"PyLong_FromLong"}


def test_pe_outside_system_classification() -> None:
    shipped = frozenset({"libcrypto-3-x64.dll"})
    for dll in ("KERNEL32.dll", "api-ms-win-crt-runtime-l1-1-0.dll", "python3.dll", "python312.dll",
                "VCRUNTIME140.dll", "VCRUNTIME140_1.dll", "MSVCP140.dll", "ucrtbase.dll", "libcrypto-3-x64.dll"):
        assert pe.outside_system(dll, shipped) is None, dll
    assert pe.outside_system("libssl-3-x64.dll", shipped) is not None
    assert pe.outside_system("zlib1.dll", shipped) is not None


def test_pe_rejects_non_pe_bytes() -> None:
    assert pe.is_pe(b"MZ\x90\x00")
    with pytest.raises(UnreadableBinaryError):
        pe.read_pe(b"MZ" + b"\x00" * 30)
