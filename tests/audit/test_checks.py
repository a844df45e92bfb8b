"""The checks of the wheel audit: real wheels from the test index pass; each failing case,
built here with the system compiler or by rewriting a real Pyodide module, fails with its own
rule and code, naming the wheel, the member and the library or symbol."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tests.support.audit_builders import (
    compile_shared,
    macho_file,
    pack_wheel,
    pe_file,
    rename_wasm_import,
    wasm_module,
)
from wasmtool.audit import errors, policy
from wasmtool.audit.model import (
    ABI3_NON_LIMITED_SYMBOL,
    LIBRARY_OUTSIDE_POLICY,
    LIBRARY_OUTSIDE_SYSTEM,
    SYMBOL_VERSION_TOO_NEW,
    UNREADABLE_BINARY,
    WASM_ABI_MISMATCH,
    WASM_MISSING_IMPORT,
    WASM_MISSING_LIBRARY,
    Finding,
    WheelAudit,
)
from wasmtool.audit.service import RuntimeFacts, audit_wheel, inputs_fingerprint
from wasmtool.ops.audit_runtime import runtime_facts
from wasmtool.targets.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests" / "data" / "artefacts"
MSGPACK_LINUX = "msgpack-1.2.4-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
MSGPACK_WASM = "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
PYDANTIC_WASM = "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
CRYPTOGRAPHY = "cryptography-50.0.2-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
CHARSET = "charset_normalizer-3.5.2-cp37-abi3-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl"
PILLOW = "pillow-13.0.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
NUMPY = "numpy-2.5.5-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"


def artefact(name: str) -> Path:
    path = ARTEFACTS / name
    if not path.is_file():
        pytest.fail(f"missing test artefact {name}: run scripts/fetch_artefacts.py", pytrace=False)
    return path


@pytest.fixture(scope="module")
def pyodide_facts() -> RuntimeFacts:
    facts = runtime_facts(ROOT, load_profile("pyodide-314"))
    assert facts is not None
    return facts


@pytest.fixture(scope="module")
def wasi_facts() -> RuntimeFacts:
    facts = runtime_facts(ROOT, load_profile("wasi-p2"))
    assert facts is not None
    return facts


def _only(audit: WheelAudit, rule: str) -> list[Finding]:
    assert audit.verdict == "findings", audit.to_dict()
    found = [f for f in audit.findings if f.rule == rule]
    assert found, audit.to_dict()
    return found


def _assert_error(audit: WheelAudit, finding: Finding, cls: type[errors.AuditError], code: str) -> None:
    """``require`` mode: the finding's error has the rule's own code and names wheel, member, subject."""
    error = errors.error_for(audit.filename, finding)
    assert type(error) is cls and error.code == code == finding.code
    text = str(error)
    assert audit.filename in text and finding.member in text and finding.subject in text


# -- real wheels ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("wheel", "checks"), [
    (MSGPACK_LINUX, {"linux-policy"}),
    (CRYPTOGRAPHY, {"linux-policy", "abi3"}),
    (CHARSET, {"linux-policy", "abi3"}),
])
def test_clean_real_wheels_pass(wheel: str, checks: set[str]) -> None:
    audit = audit_wheel(artefact(wheel), target="native")
    assert audit.verdict == "ok", audit.to_dict()
    assert set(audit.checks) == checks
    assert audit.modules and all(m.format == "elf" for m in audit.modules)


@pytest.mark.parametrize(("wheel", "libs_dir"), [(PILLOW, "pillow.libs/"), (NUMPY, "numpy.libs/")])
def test_bundled_libraries_are_audited_and_satisfy_their_links(wheel: str, libs_dir: str) -> None:
    audit = audit_wheel(artefact(wheel), target="native")
    assert audit.verdict == "ok", audit.findings
    bundled = [m for m in audit.modules if m.member.startswith(libs_dir)]
    assert bundled, "the bundled libraries are audited as members too"
    names = {m.member.rsplit("/", 1)[-1] for m in bundled}
    assert any(lib in names for m in audit.modules for lib in m.libraries), "an extension links a bundled library"


def test_unbundling_a_library_is_a_finding(tmp_path: Path) -> None:
    """The same wheel without its ``pillow.libs/`` folder: every link to it is outside the policy."""
    source = artefact(PILLOW)
    with zipfile.ZipFile(source) as zf:
        members = {n: zf.read(n) for n in zf.namelist()
                   if not n.startswith("pillow.libs/") and ".dist-info/" not in n}
    wheel = pack_wheel(tmp_path, PILLOW, members)
    audit = audit_wheel(wheel, target="native")
    found = _only(audit, LIBRARY_OUTSIDE_POLICY)
    assert all(f.subject.startswith("lib") for f in found)
    assert any("manylinux_2_27_x86_64" in f.detail for f in found), "the binding (strictest) tag is named"
    _assert_error(audit, found[0], errors.LibraryOutsidePolicyError, "WT951")


@pytest.mark.parametrize("wheel", [MSGPACK_WASM, PYDANTIC_WASM])
def test_real_pyodide_wheels_load_in_the_pinned_runtime(wheel: str, pyodide_facts: RuntimeFacts) -> None:
    audit = audit_wheel(artefact(wheel), target="pyodide-314", runtime=pyodide_facts)
    assert audit.verdict == "ok", audit.findings
    assert {"wasm-abi", "wasm-imports", "wasm-libraries"} <= set(audit.checks)
    assert [m.format for m in audit.modules] == ["wasm"] * len(audit.modules)


def test_wasm_wheel_on_a_native_target_is_skipped() -> None:
    audit = audit_wheel(artefact(MSGPACK_WASM), target="native", runtime=runtime_facts(ROOT, load_profile("native")))
    assert audit.verdict == "skipped" and "WebAssembly" in audit.reason
    assert errors.first_error(audit) is None


def test_pure_wheel_is_skipped(tmp_path: Path) -> None:
    wheel = pack_wheel(tmp_path, "pure-1.0-py3-none-any.whl", {"pure/__init__.py": b"x = 1\n"})
    audit = audit_wheel(wheel, target="native")
    assert (audit.verdict, audit.reason, audit.modules) == ("skipped", "no compiled code", ())


# -- failing cases built with the system compiler ------------------------------------------------

def test_library_outside_the_policy(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    compile_shared(build / "libauditdep.so.1", "int dep_value(void) { return 7; }\n", soname="libauditdep.so.1")
    ext = compile_shared(build / "_ext.so",
                         "extern int dep_value(void);\nint PyInit__ext(void) { return dep_value(); }\n",
                         link=(f"-L{build}", "-l:libauditdep.so.1"))
    name = "outside-0.1-cp312-cp312-manylinux_2_17_x86_64.whl"
    wheel = pack_wheel(tmp_path, name, {"outside/_ext.cpython-312-x86_64-linux-gnu.so": ext.read_bytes()})
    audit = audit_wheel(wheel, target="native")
    [finding] = _only(audit, LIBRARY_OUTSIDE_POLICY)
    assert (finding.member, finding.subject) == ("outside/_ext.cpython-312-x86_64-linux-gnu.so", "libauditdep.so.1")
    _assert_error(audit, finding, errors.LibraryOutsidePolicyError, "WT951")

    # bundled in the wheel (as auditwheel repair would), the same link is fine
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    wheel = pack_wheel(bundled, name, {"outside/_ext.cpython-312-x86_64-linux-gnu.so": ext.read_bytes(),
                                       "outside.libs/libauditdep.so.1": (build / "libauditdep.so.1").read_bytes()})
    assert audit_wheel(wheel, target="native").verdict == "ok"


def test_symbol_version_newer_than_the_strictest_claimed_tag(tmp_path: Path) -> None:
    """memcpy is GLIBC_2.14 on x86_64: fine for manylinux_2_28, not for manylinux_2_5; a wheel
    claiming both must satisfy manylinux_2_5."""
    ext = compile_shared(tmp_path / "_copy.so",
                         "#include <string.h>\nint PyInit__copy(char *d, const char *s, unsigned long n) "
                         "{ memcpy(d, s, n); return 0; }\n", link=("-fno-builtin",))
    member = "copy/_copy.cpython-312-x86_64-linux-gnu.so"
    data = {member: ext.read_bytes()}
    newer = pack_wheel(tmp_path, "copy-0.1-cp312-cp312-manylinux_2_28_x86_64.whl", data)
    assert audit_wheel(newer, target="native").verdict == "ok"
    both = pack_wheel(tmp_path, "copy-0.1-cp312-cp312-manylinux_2_5_x86_64.manylinux_2_28_x86_64.whl", data)
    audit = audit_wheel(both, target="native")
    found = _only(audit, SYMBOL_VERSION_TOO_NEW)
    memcpy = [f for f in found if f.subject == "GLIBC_2.14 (libc.so.6)"]
    assert memcpy and "memcpy" in memcpy[0].detail and "manylinux_2_5_x86_64" in memcpy[0].detail
    assert memcpy[0].member == member
    _assert_error(audit, memcpy[0], errors.SymbolVersionTooNewError, "WT952")


ABI3_SOURCE = """
extern void *_PyObject_GetAttrId(void *, void *);
extern const char *PyUnicode_AsUTF8AndSize(void *, long *);
extern void Py_IncRef(void *);
void *PyInit__lim(void *o) {
    Py_IncRef(o);
    PyUnicode_AsUTF8AndSize(o, 0);
    return _PyObject_GetAttrId(o, 0);
}
"""


def test_abi3_extension_calling_symbols_outside_the_limited_api(tmp_path: Path) -> None:
    ext = compile_shared(tmp_path / "_lim.so", ABI3_SOURCE)
    member = "lim/_lim.abi3.so"
    wheel = pack_wheel(tmp_path, "lim-0.1-cp39-abi3-manylinux_2_17_x86_64.whl", {member: ext.read_bytes()})
    audit = audit_wheel(wheel, target="native")
    found = {f.subject: f for f in _only(audit, ABI3_NON_LIMITED_SYMBOL)}
    # not in the stable ABI at all; in it only since 3.10 (the wheel claims 3.9); Py_IncRef (3.2) is fine
    assert set(found) == {"_PyObject_GetAttrId", "PyUnicode_AsUTF8AndSize"}
    assert "not in the stable ABI" in found["_PyObject_GetAttrId"].detail
    assert "3.10" in found["PyUnicode_AsUTF8AndSize"].detail
    _assert_error(audit, found["_PyObject_GetAttrId"], errors.NonLimitedSymbolError, "WT953")

    # the same binary claiming cp310-abi3: only the private symbol remains
    later = tmp_path / "later"
    later.mkdir()
    wheel = pack_wheel(later, "lim-0.1-cp310-abi3-manylinux_2_17_x86_64.whl", {member: ext.read_bytes()})
    assert [f.subject for f in audit_wheel(wheel, target="native").findings] == ["_PyObject_GetAttrId"]


# -- macOS and Windows (minimal binaries written by the test support) ------------------------------

def test_macos_library_outside_the_system(tmp_path: Path) -> None:
    member = "mac/_m.cpython-312-darwin.so"
    binary = macho_file(["/usr/lib/libSystem.B.dylib", "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib",
                         "@loader_path/../mac/.dylibs/libz.1.dylib"])
    wheel = pack_wheel(tmp_path, "mac-0.1-cp312-cp312-macosx_11_0_arm64.whl",
                       {member: binary, "mac/.dylibs/libz.1.dylib": macho_file(["/usr/lib/libSystem.B.dylib"])})
    audit = audit_wheel(wheel, target="native")
    [finding] = _only(audit, LIBRARY_OUTSIDE_SYSTEM)
    assert (finding.member, finding.subject) == (member, "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib")
    _assert_error(audit, finding, errors.LibraryOutsideSystemError, "WT957")


def test_macos_abi3_symbols(tmp_path: Path) -> None:
    binary = macho_file(["/usr/lib/libSystem.B.dylib"], ("Py_IncRef", "_PyObject_GetAttrId"))
    wheel = pack_wheel(tmp_path, "mac-0.1-cp39-abi3-macosx_11_0_arm64.whl", {"mac/_m.abi3.so": binary})
    audit = audit_wheel(wheel, target="native")
    assert [f.subject for f in _only(audit, ABI3_NON_LIMITED_SYMBOL)] == ["_PyObject_GetAttrId"]


def test_windows_unbundled_dll(tmp_path: Path) -> None:
    member = "win/_w.cp312-win_amd64.pyd"
    binary = pe_file({"python312.dll": ["PyLong_FromLong"], "KERNEL32.dll": ["GetProcAddress"],
                      "VCRUNTIME140.dll": ["memcpy"], "libssl-3-x64.dll": ["SSL_new"],
                      "libcrypto-3-x64.dll": ["ERR_get_error"]})
    wheel = pack_wheel(tmp_path, "win-0.1-cp312-cp312-win_amd64.whl",
                       {member: binary, "win.libs/libcrypto-3-x64.dll": pe_file({"KERNEL32.dll": ["ExitProcess"]})})
    audit = audit_wheel(wheel, target="native")
    [finding] = _only(audit, LIBRARY_OUTSIDE_SYSTEM)
    assert (finding.member, finding.subject) == (member, "libssl-3-x64.dll")
    _assert_error(audit, finding, errors.LibraryOutsideSystemError, "WT957")


def test_windows_abi3_links_python3_dll_only(tmp_path: Path) -> None:
    good = pe_file({"python3.dll": ["PyLong_FromLong", "Py_IncRef"]})
    wheel = pack_wheel(tmp_path, "win-0.1-cp39-abi3-win_amd64.whl", {"win/_w.pyd": good})
    assert audit_wheel(wheel, target="native").verdict == "ok"
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = pe_file({"python3.dll": ["PyUnicode_AsUTF8AndSize"], "python39.dll": ["_PyObject_GetAttrId"]})
    wheel = pack_wheel(bad_dir, "win-0.1-cp39-abi3-win_amd64.whl", {"win/_w.pyd": bad})
    audit = audit_wheel(wheel, target="native")
    assert {f.subject for f in _only(audit, ABI3_NON_LIMITED_SYMBOL)} == {"python39.dll", "PyUnicode_AsUTF8AndSize"}


def test_unreadable_compiled_member(tmp_path: Path) -> None:
    wheel = pack_wheel(tmp_path, "junk-0.1-cp312-cp312-manylinux_2_17_x86_64.whl",
                       {"junk/_x.cpython-312-x86_64-linux-gnu.so": b"#!/bin/sh\necho not a library\n"})
    audit = audit_wheel(wheel, target="native")
    [finding] = _only(audit, UNREADABLE_BINARY)
    _assert_error(audit, finding, errors.UnreadableBinaryError, "WT958")


def test_not_a_wheel(tmp_path: Path) -> None:
    bad = tmp_path / "bad-0.1-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(errors.AuditInputError) as info:
        audit_wheel(bad, target="native")
    assert info.value.code == "WT959" and bad.name in str(info.value)


# -- Pyodide: a real module rewritten ------------------------------------------------------------

def _msgpack_members() -> tuple[str, dict[str, bytes]]:
    with zipfile.ZipFile(artefact(MSGPACK_WASM)) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    [so] = [n for n in members if n.endswith(".so")]
    return so, members


def test_pyodide_import_the_runtime_lacks(tmp_path: Path, pyodide_facts: RuntimeFacts) -> None:
    so, members = _msgpack_members()
    members[so] = rename_wasm_import(members[so], "PyLong_FromLong", "PyLong_FromMochiAudit")
    wheel = pack_wheel(tmp_path, MSGPACK_WASM, members)
    audit = audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts)
    [finding] = _only(audit, WASM_MISSING_IMPORT)
    assert (finding.member, finding.subject) == (so, "PyLong_FromMochiAudit")
    assert "pyodide 314.0.7" in finding.detail
    _assert_error(audit, finding, errors.WasmMissingImportError, "WT954")


def test_pyodide_import_provided_by_another_module_of_the_lock(tmp_path: Path, pyodide_facts: RuntimeFacts) -> None:
    so, members = _msgpack_members()
    members[so] = rename_wasm_import(members[so], "PyLong_FromLong", "mochi_audit_helper")
    wheel = pack_wheel(tmp_path, MSGPACK_WASM, members)
    helper = pack_wheel(tmp_path, "helper-0.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
                        {"helper/libhelper.so": wasm_module(exports=("mochi_audit_helper",))})
    alone = audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts)
    assert [f.subject for f in alone.findings] == ["mochi_audit_helper"]
    with_lock = audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts, lock_wheels=[helper, wheel])
    assert with_lock.verdict == "ok", with_lock.findings


def test_pyodide_needed_library_missing(tmp_path: Path, pyodide_facts: RuntimeFacts) -> None:
    module = wasm_module(imports=(("env", "PyLong_FromLong"),), exports=("PyInit__n",), needed=("libmochiaudit.so",))
    member = "needs/_n.cpython-314-wasm32-emscripten.so"
    wheel = pack_wheel(tmp_path, "needs-0.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl", {member: module})
    audit = audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts)
    [finding] = _only(audit, WASM_MISSING_LIBRARY)
    assert (finding.member, finding.subject) == (member, "libmochiaudit.so")
    _assert_error(audit, finding, errors.WasmMissingLibraryError, "WT955")
    # shipped by another wheel of the lock: fine
    lib = pack_wheel(tmp_path, "mochiaudit-0.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
                     {"mochiaudit.libs/libmochiaudit.so": wasm_module()})
    assert audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts, lock_wheels=[lib]).verdict == "ok"


def test_pyodide_weak_import_is_not_a_finding(tmp_path: Path, pyodide_facts: RuntimeFacts) -> None:
    module = wasm_module(imports=(("env", "mochi_audit_weak"),), weak=(("env", "mochi_audit_weak"),))
    wheel = pack_wheel(tmp_path, "weak-0.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl", {"weak/_w.so": module})
    assert audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts).verdict == "ok"


def test_pyodide_abi_tag_mismatch(tmp_path: Path, pyodide_facts: RuntimeFacts) -> None:
    _, members = _msgpack_members()
    name = "msgpack-1.2.4-cp314-cp314-pyemscripten_2025_0_wasm32.whl"
    wheel = pack_wheel(tmp_path, name, members)
    audit = audit_wheel(wheel, target="pyodide-314", runtime=pyodide_facts)
    [finding] = _only(audit, WASM_ABI_MISMATCH)
    assert finding.subject == "pyemscripten_2025_0_wasm32"
    assert finding.member == "msgpack-1.2.4.dist-info/WHEEL"
    assert "pyemscripten_2026_0_wasm32" in finding.detail
    _assert_error(audit, finding, errors.WasmAbiMismatchError, "WT956")


# -- WASI: no wasi_0_0_0_wasm32 wheel with compiled code exists in the index; synthetic modules ----

def test_wasi_module_against_the_pinned_componentize_py(tmp_path: Path, wasi_facts: RuntimeFacts) -> None:
    assert "libpython3.14.so" in wasi_facts.libraries
    good = wasm_module(imports=(("env", "PyLong_FromLong"), ("env", "malloc"), ("GOT.mem", "PyExc_TypeError")),
                       exports=("PyInit__g",), needed=("libc.so", "libpython3.14.so"))
    member = "g/_g.cpython-314-wasm32-wasi.so"
    wheel = pack_wheel(tmp_path, "g-0.1-cp314-cp314-wasi_0_0_0_wasm32.whl", {member: good})
    assert audit_wheel(wheel, target="wasi-p2", runtime=wasi_facts).verdict == "ok"

    bad = wasm_module(imports=(("env", "PyLong_FromLong"), ("env", "mochi_audit_missing"),
                               ("wasi:http/types@0.2.0", "new-fields")), exports=("PyInit__b",))
    other = tmp_path / "bad"
    other.mkdir()
    wheel = pack_wheel(other, "b-0.1-cp314-cp314-wasi_0_0_0_wasm32.whl", {"b/_b.so": bad})
    audit = audit_wheel(wheel, target="wasi-p2", runtime=wasi_facts)
    assert {f.subject for f in _only(audit, WASM_MISSING_IMPORT)} == {
        "mochi_audit_missing", "wasi:http/types@0.2.0.new-fields"}
    _assert_error(audit, audit.findings[0], errors.WasmMissingImportError, "WT954")


# -- model, policy, determinism ------------------------------------------------------------------

def test_binding_policy_is_the_strictest_claimed_tag() -> None:
    chosen = policy.binding_policy(["manylinux_2_28_x86_64", "manylinux1_x86_64", "manylinux_2_17_x86_64"])
    assert chosen is not None and chosen.tag == "manylinux_2_5_x86_64"
    assert policy.binding_policy(["linux_x86_64", "macosx_11_0_arm64"]) is None
    musl = policy.binding_policy(["musllinux_1_2_x86_64"])
    assert musl is not None and musl.allows_library("libc.musl-x86_64.so.1") and not musl.allows_library("libssl.so.3")


def test_same_wheel_same_json(tmp_path: Path) -> None:
    ext = compile_shared(tmp_path / "_lim.so", ABI3_SOURCE)
    wheel = pack_wheel(tmp_path, "lim-0.1-cp39-abi3-manylinux_2_17_x86_64.whl", {"lim/_lim.abi3.so": ext.read_bytes()})
    first, second = (json.dumps(audit_wheel(wheel, target="native").to_dict(), sort_keys=True) for _ in range(2))
    assert first == second
    again = WheelAudit.from_dict(json.loads(first))
    assert json.dumps(again.to_dict(), sort_keys=True) == first
    assert again.findings == audit_wheel(wheel, target="native").findings


def test_inputs_fingerprint_follows_what_the_audit_reads(pyodide_facts: RuntimeFacts, wasi_facts: RuntimeFacts) -> None:
    sha = hashlib.sha256(b"wheel").hexdigest()
    base = inputs_fingerprint(sha, "pyodide-314", pyodide_facts, ["b" * 64, "a" * 64])
    assert base == inputs_fingerprint(sha, "pyodide-314", pyodide_facts, ["a" * 64, "b" * 64])
    assert base != inputs_fingerprint(sha, "pyodide-314", wasi_facts, ["a" * 64, "b" * 64])
    assert base != inputs_fingerprint("0" * 64, "pyodide-314", pyodide_facts, ["a" * 64, "b" * 64])
    assert base != inputs_fingerprint(sha, "pyodide-314", pyodide_facts, ["a" * 64])


def test_every_rule_has_its_own_error_code() -> None:
    codes = {rule: cls.code for rule, cls in errors.RULE_ERRORS.items()}
    assert len(set(codes.values())) == len(codes)
    assert all(950 < int(code[2:]) < 960 for code in codes.values())
