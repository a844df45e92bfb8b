"""Typed JS bindings end to end: ``bind`` for pyodide-314 writes ``<alias>.d.ts`` per alias
(the real CLI over the hermetic index), the pinned TypeScript (``node_modules/.bin/tsc``)
accepts a right caller and rejects a wrong call naming it, and ``bindAlias``
(runtime/pyodide/bindings.mjs) calls the installed bundle in real Pyodide under Node with
the methods the declarations name.

Without node, node_modules/pyodide or node_modules/typescript (scripts/setup-node.sh) the
tests fail, naming what is missing (tests/skip_policy.py)."""

from __future__ import annotations

import json
import random
import re
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree_snapshot
from tests.pyodide.conftest import skip_or_fail
from tests.support.index_server import IndexServer, ServedFile
from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.run.pyodide import pyodide_dir
from wasmtool.synth.typescript import method_names, render_typescript
from wasmtool.synth.workspace import externs_module
from wasmtool.tools import run_tool
from wasmtool.typemap.surface import MappedSurface

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime" / "pyodide"
TSC = ROOT / "node_modules" / ".bin" / "tsc"
TSC_FLAGS = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022", "--pretty", "false"]

MANIFEST = """
name = "typed"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "pyodide-314"]

[python-dependencies]
packaging = ">=24"
tomli = "^2"
"""

#: A caller of both aliases that uses records of the value encoding, handles and errors.
RIGHT = """\
import { loadBundle } from "./loader.mjs";
import { bindAlias, releaseHandles, WasmtoolCallError } from "./bindings.mjs";
import type { TomliBindings } from "./tomli.js";
import type { PackagingBindings, Version } from "./packaging.js";

const bundle = await loadBundle({ bundleDir: "." });
const tomli = bindAlias(bundle, "tomli");
const pk: PackagingBindings = bindAlias(bundle, "packaging");
const also = bindAlias<TomliBindings>(bundle, "tomli");
const doc: Record<string, unknown> = await tomli.loads("a = 1");
const v: Version = await pk.version_parse("1.2rc1");
const pub: string = await pk.Version_public(v);
const name: string = await pk.utils_canonicalize_name("Foo_Bar");
const dropped: number = await releaseHandles(bundle, "packaging", [v, 2]);
try {
  await also.loads("a = ");
} catch (err) {
  if (err instanceof WasmtoolCallError) console.log(err.code, err.pyType, err.message);
}
console.log(doc, pub, name, dropped);
"""

#: (the wrong line, TypeScript's error code, what the message says): each replaces nothing, it is
#: appended to RIGHT.
WRONG = [
    ('await tomli.loads(42);', "TS2345", "Argument of type 'number' is not assignable to parameter of type 'string'."),
    ('await pk.Version_public("1.2");', "TS2345",
     "Argument of type 'string' is not assignable to parameter of type 'WasmtoolHandle'."),
    ('const n: number = await pk.version_parse("1.2");', "TS2322",
     "Type 'WasmtoolHandle' is not assignable to type 'number'."),
    ("await pk.no_such_method();", "TS2339", "Property 'no_such_method' does not exist on type 'PackagingBindings'."),
    ("await tomli.loads();", "TS2554", "Expected 1 arguments, but got 0."),
]


@dataclass(frozen=True)
class Project:
    root: Path
    cache: Path
    index_url: str

    @property
    def workspace(self) -> Path:
        return self.root / ".mochi" / "python_workspace-pyodide-314"

    def declarations(self) -> dict[str, Path]:
        return {p.parent.name: p for p in sorted(self.workspace.glob("python_wrap/*/*.d.ts"))}

    def surface(self, alias: str) -> MappedSurface:
        path = self.workspace / "python_wrap" / alias / "surface.json"
        return MappedSurface.from_dict(json.loads(path.read_text("utf-8")))


@pytest.fixture(scope="module")
def tsc(node: str) -> Path:
    if not TSC.is_file():
        skip_or_fail(f"{TSC} is missing (typescript is a devDependency in package.json: scripts/setup-node.sh)")
    return TSC


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, served_files: dict[str, list[ServedFile]]) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("typed") / "typed"
    root.mkdir()
    (root / "mochi.toml").write_text(textwrap.dedent(MANIFEST))
    cache = root.parent / "cache"
    with IndexServer(served_files) as server:
        run_cli(["-C", str(root), "lock"], cache=cache, index_url=server.url, check=True)
        run_cli(["-C", str(root), "bind", "--target", "pyodide-314"], cache=cache, index_url=server.url, check=True)
        yield Project(root, cache, server.url)


def test_bind_writes_one_declaration_per_alias_for_pyodide_only_and_a_rebind_writes_nothing(
        project: Project) -> None:
    declared = project.declarations()
    assert sorted(declared) == ["packaging", "tomli"]
    for alias, path in declared.items():
        assert path.name == f"{alias}.d.ts"
        assert path.read_text("utf-8") == render_typescript(project.surface(alias))
    record = json.loads((project.workspace / ".wasmtool-files.json").read_text("utf-8"))
    assert {"python_wrap/packaging/packaging.d.ts", "python_wrap/tomli/tomli.d.ts"} <= set(record["files"])
    before = tree_snapshot(project.workspace)
    proc = run_cli(["-C", str(project.root), "bind", "--target", "pyodide-314"], cache=project.cache,
                   index_url=project.index_url, check=True)
    assert "(0 file(s) changed)" in proc.stderr + proc.stdout
    assert tree_snapshot(project.workspace) == before
    # the native workspace has no declarations: JavaScript does not call it
    run_cli(["-C", str(project.root), "bind", "--target", "native"], cache=project.cache,
            index_url=project.index_url, check=True)
    native = project.root / ".mochi" / "python_workspace"
    assert (native / "python_wrap" / "tomli" / "tomli_shim.mochi").is_file()
    assert not list(native.rglob("*.d.ts"))


def caller_dir(project: Project, folder: Path) -> Path:
    """A folder laid out like the bundle: the runtime's modules and types, each alias's .d.ts."""
    folder.mkdir()
    (folder / "package.json").write_text('{"type": "module"}\n')
    for name in ("loader.mjs", "loader.d.mts", "bindings.mjs", "bindings.d.mts"):
        shutil.copyfile(RUNTIME / name, folder / name)
    for path in project.declarations().values():
        shutil.copyfile(path, folder / path.name)
    return folder


def run_tsc(tsc: Path, folder: Path, file: str) -> tuple[int, list[str]]:
    proc = run_tool("tsc", [str(tsc), *TSC_FLAGS, file], cwd=folder, check=False, timeout=300)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return proc.returncode, lines


def test_a_right_caller_type_checks(project: Project, tsc: Path, tmp_path: Path) -> None:
    folder = caller_dir(project, tmp_path / "right")
    (folder / "right.ts").write_text(RIGHT)
    status, lines = run_tsc(tsc, folder, "right.ts")
    assert (status, lines) == (0, [])


@pytest.mark.parametrize(("wrong", "code", "message"), WRONG, ids=[w[1] + "-" + str(i) for i, w in enumerate(WRONG)])
def test_a_wrong_call_fails_type_checking_naming_the_call(project: Project, tsc: Path, tmp_path: Path,
                                                           wrong: str, code: str, message: str) -> None:
    folder = caller_dir(project, tmp_path / "wrong")
    source = RIGHT + wrong + "\n"
    (folder / "wrong.ts").write_text(source)
    status, lines = run_tsc(tsc, folder, "wrong.ts")
    line_no = source.splitlines().index(wrong) + 1
    assert status == 1, lines
    assert len(lines) == 1, lines
    found = re.fullmatch(r"wrong\.ts\((\d+),(\d+)\): error (TS\d+): (.*)", lines[0])
    assert found is not None, lines
    assert (int(found.group(1)), found.group(3), found.group(4)) == (line_no, code, message)
    column = int(found.group(2))
    assert 1 <= column <= len(wrong)


def test_a_declaration_that_does_not_fit_the_runtime_types_is_caught(project: Project, tsc: Path,
                                                                      tmp_path: Path) -> None:
    """The check is real: the same right caller against a declaration whose method takes a
    number instead of a string fails."""
    folder = caller_dir(project, tmp_path / "tampered")
    path = folder / "tomli.d.ts"
    text = path.read_text("utf-8")
    assert "  loads(__s: string): Promise<Record<string, unknown>>;" in text
    path.write_text(text.replace("  loads(__s: string)", "  loads(__s: number)"))
    (folder / "right.ts").write_text(RIGHT)
    status, lines = run_tsc(tsc, folder, "right.ts")
    assert status == 1
    assert any("error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'." in line
               for line in lines), lines


NODE_CALLS = """\
import { loadBundle } from "./loader.mjs";
import { bindAlias, releaseHandles, WasmtoolCallError } from "./bindings.mjs";

const [bundleDir, indexURL] = process.argv.slice(2);
const bundle = await loadBundle({ bundleDir, indexURL });
const out = { methods: {} };
for (const alias of ["packaging", "tomli"]) out.methods[alias] = Object.keys(bindAlias(bundle, alias)).sort();
const tomli = bindAlias(bundle, "tomli");
const pk = bindAlias(bundle, "packaging");
const doc = await tomli.loads('a = 1\\nbig = 12345678901234567890\\nf = nan\\n[t]\\nx = "y"\\n');
out.doc = { a: doc.a, big: typeof doc.big === "bigint" ? doc.big.toString() + "n" : doc.big,
            f: Number.isNaN(doc.f) ? "NaN" : doc.f, t: doc.t };
const v = await pk.version_parse("1.2rc1");
out.handle = v;
out.public = await pk.Version_public(v);
out.release = await pk.Version_release(v);
out.canonical = await pk.utils_canonicalize_name("Foo_Bar");
const failure = async (call) => {
  try { await call(); return null; } catch (err) {
    return { cls: err instanceof WasmtoolCallError, code: err.code, pyType: err.pyType, message: err.message,
             method: err.method };
  }
};
out.raised = await failure(() => tomli.loads("a = "));
out.missing = await failure(() => tomli.loads());
out.extra = await failure(() => tomli.loads("a = 1", 2));
out.unknown = await failure(async () => bindAlias(bundle, "nope"));
out.released = await releaseHandles(bundle, "packaging", [v, 99]);
out.afterRelease = await failure(() => pk.Version_public(v));
console.log(JSON.stringify(out));
"""


def test_bind_alias_calls_the_installed_bundle_with_the_declared_method_names(
        project: Project, node: str, tmp_path: Path) -> None:
    run_cli(["-C", str(project.root), "install", "--target=pyodide-314"], cache=project.cache,
            index_url=project.index_url, check=True)
    bundle = project.root / ".mochi" / "pyodide-314"
    folder = caller_dir(project, tmp_path / "node")
    (folder / "calls.mjs").write_text(NODE_CALLS)
    proc = run_tool("node", [node, "calls.mjs", str(bundle), str(pyodide_dir())], cwd=folder, check=False,
                    timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for alias, path in project.declarations().items():
        declared = re.findall(r"^  (\w+)\(", path.read_text("utf-8"), flags=re.MULTILINE)
        assert out["methods"][alias] == sorted(declared)
        externs = [f.extern_name for f in project.surface(alias).functions]
        assert sorted(declared) == sorted(method_names(alias, externs).values())
    assert out["doc"] == {"a": 1, "big": "12345678901234567890n", "f": "NaN", "t": {"x": "y"}}
    assert out["handle"] == {"$handle": 1}
    assert (out["public"], out["release"], out["canonical"]) == ("1.2rc1", [1, 2], "foo-bar")
    assert out["raised"] == {"cls": True, "code": "WT856", "pyType": "tomli._parser.TOMLDecodeError",
                             "message": "Invalid value (at end of document)", "method": "loads"}
    assert out["missing"]["code"] == "WT727" and "missing argument __s" in out["missing"]["message"]
    assert out["extra"]["code"] == "WT727" and "takes 1 argument(s), 2 given" in out["extra"]["message"]
    assert out["unknown"]["code"] == "WT706" and "no alias nope is bound" in out["unknown"]["message"]
    assert out["released"] == 1
    assert out["afterRelease"]["code"] == "WT727" and "unknown handle 1" in out["afterRelease"]["message"]


NODE_RULES = """\
import { methodNames, externsModule, encodeValue, decodeValue } from "./bindings.mjs";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));
const show = (v) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n`
  : typeof x === "number" && !Number.isFinite(x) ? String(x) : x instanceof Map ? { Map: [...x.entries()] } : x);
console.log(JSON.stringify({
  names: input.names.map(([alias, externs]) => methodNames(alias, externs)),
  modules: input.modules.map((s) => externsModule(s)),
  encoded: [encodeValue([1n, 2n ** 64n, -(2n ** 70n), NaN, Infinity, -Infinity, new Map([[1, "a"]]),
                         new Map([["k", 1]]), new Set(["x"]), new Uint8Array([104, 105]), { $handle: 3 }, undefined]),
            encodeValue(undefined)],
  decoded: input.decode.map((v) => show(decodeValue(v))),
}));
"""


def test_the_javascript_rules_agree_with_the_python_ones(node: str, tmp_path: Path) -> None:
    rng = random.Random(1717)
    letters = "abcXYZ_0123456789"
    cases: list[tuple[str, list[str]]] = []
    for _ in range(300):
        alias = rng.choice("abjpkXY") + "".join(rng.choice(letters) for _ in range(rng.randint(0, 4)))
        items = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(0, 6))]
        prefixes = [f"{alias}_", spell_inner_digits(f"{alias}_")]
        externs = [rng.choice(prefixes) + i if rng.random() < 0.8 else i for i in items]
        cases.append((alias, externs))
    surfaces = [MappedSurface("d", "1", alias, imports, "py.typed")
                for alias, imports in [("tomli", ("tomli",)), ("yaml", ("_yaml", "yaml")), ("du", ("dateutil.parser",
                                       "dateutil")), ("x", ()), ("pk", ("zeta", "alpha.beta"))]]
    decode = [{"$int": "12345678901234567890"}, {"$int": "5"}, {"$float": "-inf"}, {"$map": [[1, "a"], [2, "b"]]},
              {"$map": [["$int", 1]]}, {"$bytes": "aGk="}, {"$handle": 2}, {"a": [{"$float": "nan"}]},
              {"$int": "x"}, {"$int": "1", "other": 2}]
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    for name in ("loader.mjs", "bindings.mjs"):
        shutil.copyfile(RUNTIME / name, tmp_path / name)
    (tmp_path / "rules.mjs").write_text(NODE_RULES)
    payload = {"names": cases, "modules": [{"alias": s.alias, "import_names": list(s.import_names)} for s in surfaces],
               "decode": decode}
    proc = run_tool("node", [node, "rules.mjs"], cwd=tmp_path, input=json.dumps(payload), check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["names"] == [method_names(alias, externs) for alias, externs in cases]
    assert out["modules"] == [externs_module(s) for s in surfaces]
    assert json.loads(out["encoded"][0]) == [
        1, {"$int": str(2**64)}, {"$int": str(-(2**70))}, {"$float": "nan"}, {"$float": "inf"}, {"$float": "-inf"},
        {"$map": [[1, "a"]]}, {"$map": [["k", 1]]}, ["x"], [104, 105], {"$handle": 3}, None]
    assert out["encoded"][1] == "null"
    assert [json.loads(x) for x in out["decoded"]] == [
        "12345678901234567890n", 5, "-Infinity", {"Map": [[1, "a"], [2, "b"]]}, {"$int": 1}, [104, 105],
        {"$handle": 2}, {"a": ["NaN"]}, {"$int": "x"}, {"$int": "1", "other": 2}]


def _exports(text: str) -> set[str]:
    names = set(re.findall(r"^export (?:declare )?(?:async )?(?:function|const|class) (\w+)", text, re.MULTILINE))
    for group in re.findall(r"^export \{([^}]*)\} from", text, re.MULTILINE):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names


@pytest.mark.parametrize("module", ["loader", "bindings"])
def test_the_runtime_type_files_declare_every_export(module: str) -> None:
    """A function added to loader.mjs or bindings.mjs without its type is found here."""
    js = _exports((RUNTIME / f"{module}.mjs").read_text("utf-8"))
    declared = _exports((RUNTIME / f"{module}.d.mts").read_text("utf-8"))
    assert {"loadBundle", "callFunction"} <= js if module == "loader" else {"bindAlias", "releaseHandles"} <= js
    assert js == declared
