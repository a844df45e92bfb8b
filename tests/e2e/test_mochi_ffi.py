"""Generated wrappers driven through an emulator of the released Mochi's (0.10.x) Python FFI.

No Mochi binary exists here: ``tests/support/mochi_ffi.py`` reproduces one FFI call from the
protocol (a fresh ``python3`` per call, ``MOCHI_ARGS``, stdout+stderr read as one JSON value,
numbers back as floats) and ``tests/support/mochi_program.py`` checks and runs the small
subset of Mochi programs the example uses. Covered here:

* the emulator and the program checker on their own (no wasmtool output involved);
* ``examples/hello-python``: locked and installed against the hermetic index, ``main.mochi``
  run call by call, in-process and under ``wasmtool exec``; a failing call's error;
* the corpus: at least one real call for every package whose 0.10 shim declares a function
  worth calling, in one venv holding the 25 recorded wheels;
* a package that prints and warns: under the FFI the wrapper still writes only JSON, and a
  failure starts with one ``wasmtool: ... failed: ...`` line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VENV_BIN, cli_env, run_cli
from tests.corpus.pipeline import CORPUS, CorpusResult
from tests.support.mochi_ffi import MochiDecodeError, MochiRuntimeError, call, encode_args
from tests.support.mochi_program import MochiProgramError, load
from tests.support.mochi_program import main as program_main
from tests.support.session_cache import SharedIndex
from wasmtool.synth.grammar import check_shim

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello-python"


def python_env(pythonpath: Sequence[Path], *, bin_first: Path = VENV_BIN, **extra: str) -> dict[str, str]:
    """This process's environment with ``bin_first`` first on PATH and only ``pythonpath``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "MOCHI_ARGS", "WASMTOOL_QUIET_CALLS")}
    env["PATH"] = os.pathsep.join([str(bin_first), os.environ.get("PATH", os.defpath)])
    env["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    return {**env, **extra}


def mochi_literal(value: Any) -> str:
    """``value`` written as a Mochi literal (strings without control characters but ``\\n``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(map(mochi_literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {mochi_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Mochi literal for {value!r}")


def first_line(exc: MochiRuntimeError) -> str:
    return exc.output.splitlines()[0]


# -- the emulator on its own ---------------------------------------------------------------------------

PROBE = '''\
import os
import sys

CALLS = []
RECORD = {"name": "probe", "sizes": [1, 2.5, None], "ok": True}


class Thing:
    def __init__(self, *args):
        self.args = args


class Box:
    @staticmethod
    def size():
        return 3


def add(a, b):
    return a + b


def count():
    CALLS.append(1)
    return len(CALLS)


def kinds(*args):
    return [type(a).__name__ for a in args]


def where():
    return [sys.argv[0], os.environ.get("FAKE_PYTHON3", "")]


def chatty():
    print("chatter", file=sys.stderr)
    return 1


def nan():
    return float("nan")


def fail():
    raise ValueError("boom")
'''


@pytest.fixture
def probe_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "probe_mod").mkdir()
    (tmp_path / "probe_mod" / "ffi_probe.py").write_text(PROBE)
    return python_env([tmp_path / "probe_mod"])


def test_a_routine_gets_the_arguments_spread_and_numbers_come_back_as_floats(probe_env: dict[str, str]) -> None:
    got = call("ffi_probe", "add", [2, 3], env=probe_env)
    assert got == 5.0 and isinstance(got, float)
    assert call("ffi_probe", "add", ["mo", "chi"], env=probe_env) == "mochi"
    assert call("ffi_probe", "add", [[1], [2.5]], env=probe_env) == [1.0, 2.5]
    assert call("ffi_probe", "Box.size", [], env=probe_env) == 3.0  # a dotted selector


def test_a_value_is_read_without_arguments_and_a_class_is_not_callable(probe_env: dict[str, str]) -> None:
    assert call("ffi_probe", "RECORD", [], env=probe_env) == {"name": "probe", "sizes": [1.0, 2.5, None], "ok": True}
    for attr in ("RECORD", "Thing"):  # inspect.isroutine is false for a class
        with pytest.raises(MochiRuntimeError) as info:
            call("ffi_probe", attr, [1], env=probe_env)
        assert f"TypeError: {attr} is not callable" in info.value.output
    with pytest.raises(MochiRuntimeError, match="is not JSON serializable"):  # the class itself is no JSON
        call("ffi_probe", "Thing", [], env=probe_env)


def test_arguments_are_plain_values_encoded_as_go_writes_them(probe_env: dict[str, str]) -> None:
    assert encode_args([2.0, 0.5, 1e21, 1e-7, 0.00001, -0.0, "é", True, None, [1], {"b": {}, "a": 1}]) == \
        '[2,0.5,1e+21,1e-7,0.00001,-0,"é",true,null,[1],{"a":1,"b":{}}]'
    got = call("ffi_probe", "kinds", [1, 2.0, 0.5, "é", True, None, [1], {"k": 1}], env=probe_env)
    assert got == ["int", "int", "float", "str", "bool", "NoneType", "list", "dict"]
    for bad in (b"x", (1, 2), {1: "one"}, 2**64, float("nan"), {"k": {3}}):
        with pytest.raises(TypeError):
            call("ffi_probe", "kinds", [bad], env=probe_env)


def test_output_beside_the_json_breaks_decoding(probe_env: dict[str, str]) -> None:
    with pytest.raises(MochiDecodeError) as info:
        call("ffi_probe", "chatty", [], env=probe_env)  # stderr is read with stdout
    assert info.value.output.startswith("chatter\n")
    with pytest.raises(MochiDecodeError):
        call("ffi_probe", "nan", [], env=probe_env)  # json.dump writes NaN, which is not JSON


def test_no_state_survives_between_calls(probe_env: dict[str, str]) -> None:
    assert [call("ffi_probe", "count", [], env=probe_env) for _ in range(2)] == [1.0, 1.0]


def test_python3_comes_from_path_and_the_script_is_a_deleted_temp_file(
        probe_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "fake_bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text(f'#!/bin/sh\nFAKE_PYTHON3=1 exec "{sys.executable}" "$@"\n')
    (fake_bin / "python3").chmod(0o755)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    env = {**probe_env, "PATH": os.pathsep.join([str(fake_bin), probe_env["PATH"]])}
    script, fake = call("ffi_probe", "where", [], env=env)
    assert fake == "1"
    assert Path(script).parent == temp and re.fullmatch(r"mochi_py_.*\.py", Path(script).name)
    with pytest.raises(MochiRuntimeError) as info:
        call("ffi_probe", "fail", [], env=env)
    assert info.value.returncode == 1
    assert "Traceback (most recent call last)" in info.value.output
    assert info.value.output.rstrip().endswith("ValueError: boom")
    assert list(temp.iterdir()) == []


# -- the program checker on its own ----------------------------------------------------------------------

HEADER = '''\
import python "ffi_probe" as probe
type Meters = float
type Rec { name: string, sizes: list<float?> }
extern fun probe.add(a: int, b: int): int
extern fun probe.scale(x: Meters, by: float?): float
extern fun probe.kinds(a: any, b: list<int>, c: map<string, bool>): list<string>
extern fun probe.count(): int
extern fun probe.nothing()
extern fun probe.RECORD(): Rec
'''


@pytest.mark.parametrize(("body", "error"), [
    ("print(probe.nope(1))", "10:7: unknown extern probe.nope"),  # the body starts on line 10
    ("print(probe.add(1))", "probe.add takes 2 argument(s), got 1"),
    ('print(probe.add(1, "2"))', "argument b of probe.add must be int, got string"),
    ("print(probe.add(1.5, 2))", "argument a of probe.add must be int, got float"),
    ("let n = probe.count()\nprint(probe.scale(n, null))", "argument x of probe.scale must be float, got int"),
    ("print(probe.scale(null, 2))", "argument x of probe.scale must be float, got null"),
    ('print(probe.kinds(1, [1, true], {}))', "an item of argument b of probe.kinds must be int, got bool"),
    ('print(probe.kinds(1, [], {"k": 1}))', "a value of argument c of probe.kinds must be bool, got int"),
    ("let v = probe.nothing()", "this call returns no value"),
    ("probe.add(1)", "probe.add takes 2 argument(s), got 1"),
    ('print(probe.RECORD()["nope"])', "Rec has the fields name, sizes"),
    ("print(x)", "undefined name x"),
    ("let x = 1\nlet x = 2", "x is already defined"),
    ("let x = 1 + 2", "10:11: not in the supported Mochi subset"),
    ("fun f() {}", "10:5: not in the supported Mochi subset"),  # `fun` lexes as a name
    ("[1, 2]", "10:1: not in the supported Mochi subset"),
    ('print("\\q")', "10:7: unsupported escape \\q"),
    ("extern fun other.f(): int", "other is not an imported python module"),
    ("extern fun probe.g(x: Feet): int", "10:23: unknown type Feet"),
])
def test_the_checker_rejects_what_mochi_rejects(body: str, error: str) -> None:
    with pytest.raises(MochiProgramError) as info:
        load(HEADER + body + "\n", file="t.mochi")
    message = str(info.value)
    assert message.startswith("t.mochi:") and error in message, message


def test_the_checker_accepts_int_literals_for_floats_any_and_options() -> None:
    program = load(HEADER + """
let n = probe.add(1, 2)
print(probe.scale(3, null), probe.scale(2.5, 4), n)   // a comment
print(probe.RECORD()["sizes"][0], probe.kinds([n, "x", {"k": null}], [], {"k": true}))
probe.nothing()
probe.count()
""")
    assert [st.kind for st in program.statements][-5:] == ["let", "print", "print", "call", "call"]


def test_a_program_runs_call_by_call(probe_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    text = HEADER + '''
let x = probe.add(40, 2)          // 42.0: numbers come back as floats
let rec = probe.RECORD()
print(x, probe.count(), probe.count())
print([x, "s\\n\\"q\\"\\\\"], {"k": x}["k"], rec["name"], rec["sizes"][1])
'''
    assert load(text).run(env=probe_env) == [(42.0, 1.0, 1.0), ([42.0, 's\n"q"\\'], 42.0, "probe", 2.5)]
    program = tmp_path / "main.mochi"
    program.write_text(text)
    for var in ("PATH", "PYTHONPATH"):
        monkeypatch.setenv(var, probe_env[var])
    assert program_main(["run", str(program)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [[42.0, 1.0, 1.0], [[42.0, 's\n"q"\\'], 42.0, "probe", 2.5]]


# -- examples/hello-python, locked and installed against the hermetic index ------------------------------


@dataclass(frozen=True)
class Installed:
    project: Path
    cache: Path
    index_url: str

    @property
    def workspace(self) -> Path:
        return self.project / ".mochi" / "python_workspace"

    def env(self) -> dict[str, str]:
        """The environment ``wasmtool exec`` gives a command (and so Mochi's ``python3``)."""
        from wasmtool.run.environment import project_environment

        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MOCHI_ARGS")}
        return project_environment(base, self.project / ".mochi" / "venv", self.workspace)

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        """``wasmtool -C <project> exec -- COMMAND`` (from the checkout, for ``-m tests...``)."""
        return subprocess.run([str(VENV_BIN / "wasmtool"), "-C", str(self.project), "exec", "--", *command],
                              capture_output=True, text=True, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL,
                              env={k: v for k, v in cli_env(self.cache, self.index_url).items()
                                   if k != "PYTHONPATH"})


@pytest.fixture(scope="module")
def example(shared_cache: Path, shared_index: SharedIndex, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The example locked and installed with the session's cache and index: the tests read the
    project's files and answers, never the cache."""
    project = tmp_path_factory.mktemp("hello-python") / "hello-python"
    project.mkdir()
    for name in ("mochi.toml", "main.mochi"):
        shutil.copy(EXAMPLE / name, project / name)
    for step in ("lock", "install"):
        run_cli(["-C", str(project), step], cache=shared_cache, index_url=shared_index.url, check=True)
    return Installed(project, shared_cache, shared_index.url)


EXAMPLE_PRINTS: list[tuple[Any, ...]] = [
    ("mochi",),                      # doc["name"]
    (3.0,),                          # doc["version"]: every JSON number comes back as a float
    ("4000000000000002",),           # the Luhn check returns the card number
    ([97.0, 71.0, 107.0, 61.0],),    # base64 of b"hi" is b"aGk=", bytes as a list of ints
    (True,),                         # attrs' run-validators switch is on
]


@pytest.mark.slow
def test_the_example_program_runs_through_the_ffi(example: Installed) -> None:
    # every shim of the workspace is valid 0.10 Mochi, for the project's grammar and the checker
    declared = {}
    for shim in sorted(example.workspace.glob("python_wrap/*/*_shim.mochi")):
        text = shim.read_text()
        check_shim(text, dialect="0.10", file=str(shim))
        declared.update(load(text, file=str(shim)).externs)
    main = example.project / "main.mochi"
    program = load(main.read_text(), file=str(main))
    for name, ext in program.externs.items():  # main.mochi's lines are the shims' (parameter names aside)
        shim_ext = declared[name]
        assert (ext.module, ext.attr, ext.returns) == (shim_ext.module, shim_ext.attr, shim_ext.returns)
        assert [t for _, t in ext.params] == [t for _, t in shim_ext.params], name

    printed = program.run(env=example.env(), cwd=example.project)
    assert printed == EXAMPLE_PRINTS
    assert isinstance(printed[1][0], float)

    proc = example.exec("python3", "-c", "import python_wrap, sys; print(sys.prefix)")
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).resolve() == (example.project / ".mochi" / "venv").resolve()
    # `wasmtool exec -- mochi run main.mochi`, with the emulator standing in for mochi
    proc = example.exec(sys.executable, "-m", "tests.support.mochi_program", "run", str(main))
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line) for line in proc.stdout.splitlines()] == [list(p) for p in EXAMPLE_PRINTS]


@pytest.mark.slow
def test_an_exception_in_the_package_is_a_clear_runtime_error(example: Installed) -> None:
    program = load('import python "python_wrap.tomli.tomli_externs" as tomli\n'
                   "extern fun tomli.tomli_loads(s: string): map<string, any>\n"
                   'print(tomli.tomli_loads("x = = 1"))\n')
    with pytest.raises(MochiRuntimeError) as info:
        program.run(env=example.env())
    message = "TOMLDecodeError: Invalid value (at line 1, column 5)"
    assert first_line(info.value) == f"wasmtool: tomli_loads failed: {message}"
    assert "Traceback (most recent call last)" in info.value.output
    assert info.value.output.rstrip().endswith(message)
    assert str(info.value).count("Invalid value") == 2  # the error text carries the whole output


# -- the corpus: real calls through the 0.10 shims -------------------------------------------------------

#: (dist, extern, arguments, expected result as Mochi receives it). At least one row for every
#: corpus package whose 0.10 shim declares a function worth calling; version getters only
#: where the shim declares nothing else callable.
CALLS: list[tuple[str, str, list[Any], Any]] = [
    ("aiohttp", "aiohttp_parse_content_disposition", ['attachment; filename="report.csv"'],
     {"t0": "attachment", "t1": {"filename": "report.csv"}}),
    ("aiohttp", "aiohttp_encode_basic_auth_full", ["user", "pass", None], "Basic dXNlcjpwYXNz"),
    ("attrs", "attrs_attr_get_run_validators", [], True),
    ("click", "click_get_app_dir", ["My App"], "/mochi-config/my-app"),   # XDG_CONFIG_HOME below
    ("fastapi", "fastapi_version", [], "0.165.0"),
    ("httpx", "httpx_version", [], "0.28.1"),                             # else only its CLI, main()
    ("msgpack", "msgpack_version", [], "1.2.4"),
    ("numpy", "np_typename", ["d"], "double precision"),
    ("numpy", "np_geterr", [], {"divide": "warn", "invalid": "warn", "over": "warn", "under": "ignore"}),
    ("orjson", "orjson_OPT_SORT_KEYS", [], 32.0),                         # dumps/loads take `any`
    ("pillow", "PIL_BdfFontFile_TYPE_CHECKING", [], False),              # a submodule's constant
    ("scikit-learn", "sklearn_version", [], "1.9.1"),                      # its stubs' other items need arrays
    ("toml", "toml_loads_string", ["a = 1"], {"a": 1.0}),                # loads' overload arms are bound apart
    ("tomli", "tomli_loads", ["a = 1"], {"a": 1.0}),                     # a declared Any, widened
    ("pandas", "pd_reset_option", ["display.max_rows"], None),
    ("pydantic", "pydantic_PaymentCardNumber_validate_brand", ["4000000000000002"], "Visa"),
    ("pytest", "pytest_Cache_clear_cache", ["/nonexistent/mochi-ffi-cache"], None),   # no such folder: a no-op
    ("pydantic", "pydantic_Base_six_four_Encoder_decode", [[97, 71, 107, 61]], [104.0, 105.0]),
    ("pyyaml", "yaml_with_libyaml", [], True),                            # the wheel's C extension loads
    ("requests", "requests_check_compatibility", ["2.8.0", None, "3.4.0"], None),
    ("rich", "rich_Style_normalize", ["bold  RED on white"], "bold red on white"),
    ("rich", "rich_Color_parse", ["red"], {"name": "red", "number": 1.0, "triplet": None, "type": 1.0}),
    ("scipy", "scipy_version", [], "1.18.1"),
    ("sqlalchemy", "sqlalchemy_version", [], "2.1.9"),
    ("starlette", "starlette_version", [], "1.10.0"),
    ("typer", "typer_get_app_dir", ["My App"], "/mochi-config/my-app"),
    ("urllib3", "urllib_three_make_headers_full", [True, None, "mochi", "user:pass", None, None, None, None],
     {"connection": "keep-alive", "user-agent": "mochi", "authorization": "Basic dXNlcjpwYXNz"}),
]

#: Corpus packages whose 0.10 shim declares functions, none of them callable in a test.
NOT_CALLED: dict[str, str] = {
    "tqdm": "declares only tqdm_main, the command-line entry point (reads sys.argv and stdin)",
    "uvicorn": "declares only uvicorn_main, the command-line entry point (starts a server)",
}


@dataclass(frozen=True)
class CorpusVenv:
    results: dict[str, CorpusResult]
    env: dict[str, str]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusVenv:
    """One venv with the 25 corpus wheels (offline, as tests/corpus does) and a workspace
    with every package's 0.10 files."""
    from tests.corpus.pipeline import corpus_result, corpus_venv
    from wasmtool.synth.workspace import wrap_runtime_source

    base = tmp_path_factory.mktemp("corpus-ffi")
    venv, workspace = base / "venv", base / "workspace"
    corpus_venv(venv)
    (workspace / "python_wrap").mkdir(parents=True)
    (workspace / "python_wrap" / "__init__.py").write_text("")
    (workspace / "_mochi_wrap.py").write_text(wrap_runtime_source())
    results = {}
    for dist in sorted(CORPUS):
        results[dist] = r = corpus_result(dist)
        folder = workspace / "python_wrap" / r.surface.alias
        folder.mkdir()
        for name, text in r.files.items():   # the 0.10 folder the pipeline rendered
            (folder / name).write_text(text)
    # compiled once by the venv's interpreter, as an installed package is: every call is a fresh
    # process (the FFI's contract), and under PYTHONDONTWRITEBYTECODE (inherited by the calls)
    # each would compile its wrapper module again (over 20 MB of source for numpy's)
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(workspace)], check=True,
                   timeout=600, stdin=subprocess.DEVNULL)
    env = python_env([workspace], bin_first=venv / "bin", XDG_CONFIG_HOME="/mochi-config")
    return CorpusVenv(results, env)


def shim_text(r: CorpusResult) -> str:
    return next(text for name, text in r.files.items() if name.endswith("_shim.mochi"))


@pytest.mark.slow
@pytest.mark.corpus
def test_every_corpus_package_with_ffi_functions_is_called(corpus: CorpusVenv) -> None:
    from wasmtool.synth.dialect import ffi_split

    called = {dist for dist, *_ in CALLS}
    assert not called & set(NOT_CALLED)
    missing, stale = [], []
    for dist, r in sorted(corpus.results.items()):
        shim = shim_text(r)
        check_shim(shim, dialect="0.10", file=f"{dist}_shim.mochi")
        load(shim, file=f"{dist}_shim.mochi")
        functions = {f.extern_name for f in ffi_split(r.surface)[0]}
        if functions and dist not in called | set(NOT_CALLED):
            missing.append(f"{dist}: {sorted(functions)[:8]}")
        if not functions and dist in called | set(NOT_CALLED):
            stale.append(dist)
        for _, extern, *_ in (row for row in CALLS if row[0] == dist):
            assert extern in functions, f"{dist}: {extern} is not in the 0.10 shim"
    assert not missing, "corpus packages with 0.10 functions but no call in CALLS:\n" + "\n".join(missing)
    assert not stale, f"no function crosses the FFI any more, drop them from CALLS/NOT_CALLED: {stale}"


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize(("dist", "extern", "args", "expected"), CALLS, ids=[f"{d}-{e}" for d, e, *_ in CALLS])
def test_corpus_call_through_the_ffi(corpus: CorpusVenv, dist: str, extern: str, args: list[Any],
                                     expected: Any) -> None:
    r = corpus.results[dist]
    shim = shim_text(r)
    call_text = f"{r.surface.alias}.{extern}({', '.join(map(mochi_literal, args))})"
    if load(shim).externs[f"{r.surface.alias}.{extern}"].returns.kind == "void":
        assert expected is None  # no value reaches Mochi: the call must just succeed
        assert load(f"{shim}\n{call_text}\n", file=f"{dist}.mochi").run(env=corpus.env) == []
    else:
        assert load(f"{shim}\nprint({call_text})\n", file=f"{dist}.mochi").run(env=corpus.env) == [(expected,)]


# -- a package that prints and warns ---------------------------------------------------------------------

NOISY = '''\
"""A package that talks on import and when called."""

import os
import sys
import warnings

print("noisy_pkg: hello from import")
print("noisy_pkg: stderr at import", file=sys.stderr)
os.write(1, b"noisy_pkg: raw fd 1 at import\\n")
warnings.warn(UserWarning("noisy_pkg import warning"))


def double(x: int) -> int:
    """Double x, loudly."""
    print(f"doubling {x}")
    warnings.warn(UserWarning("noisy_pkg double warning"))
    return 2 * x


def explode(message: str) -> int:
    """Fail after a warning."""
    warnings.warn(UserWarning("noisy_pkg about to fail"))
    raise ValueError(message)
'''


def noisy_wheel(folder: Path) -> Path:
    info = "noisy_pkg-1.0.dist-info"
    files = {
        "noisy_pkg/__init__.py": NOISY,
        "noisy_pkg/py.typed": "",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: noisy-pkg\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": "noisy_pkg\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    wheel = folder / "noisy_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


def test_a_noisy_package_still_answers_with_json_only(tmp_path: Path) -> None:
    from wasmtool.stubs.discover import discover, module_stubs
    from wasmtool.synth.workspace import externs_module, surface_files, wrap_runtime_source
    from wasmtool.typemap.lower import map_module

    wheel = noisy_wheel(tmp_path)
    stubs = discover(wheel, dist="noisy-pkg", version="1.0", import_names=("noisy_pkg",), python_version="3.12")
    modules = module_stubs(stubs, python_version=(3, 12), platform="linux", skips=[])
    surface = map_module(modules, dist="noisy-pkg", version="1.0", alias="noisy", import_names=("noisy_pkg",),
                         target="native", tier=stubs.provenance)
    workspace, site = tmp_path / "workspace", tmp_path / "site"
    (workspace / "python_wrap" / "noisy").mkdir(parents=True)
    (workspace / "python_wrap" / "__init__.py").write_text("")
    (workspace / "_mochi_wrap.py").write_text(wrap_runtime_source())
    for name, text in surface_files(surface, "0.10").items():
        (workspace / "python_wrap" / "noisy" / name).write_text(text)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    env = python_env([workspace, site])
    shim = (workspace / "python_wrap" / "noisy" / "noisy_pkg_shim.mochi").read_text()
    check_shim(shim, dialect="0.10")
    assert f'import python "{externs_module(surface)}" as noisy' in shim

    assert load(shim + "print(noisy.noisy_double(21))\n").run(env=env) == [(42.0,)]

    with pytest.raises(MochiRuntimeError) as info:
        load(shim + 'print(noisy.noisy_explode("bad input"))\n').run(env=env)
    out = info.value.output
    assert first_line(info.value) == "wasmtool: noisy_explode failed: ValueError: bad input"
    assert "Traceback (most recent call last)" in out
    for seen in ("noisy_pkg about to fail", "noisy_pkg import warning", "noisy_pkg: hello from import",
                 "noisy_pkg: stderr at import", "noisy_pkg: raw fd 1 at import"):
        assert seen in out, seen
