"""The user documentation in docs/, and what users read elsewhere.

* docs/errors.md is what ``scripts/gen_error_docs.py`` generates from the code, and lists
  the code of every error class of every wasmtool module (a new error class fails here until
  the page is regenerated);
* no user-visible text cites a design file or a test number: ``--help`` of every command,
  every string constant of ``wasmtool/`` and ``runtime/`` that is not a docstring (messages,
  hints, error templates, option help), the docstrings of the command callbacks, README.md
  and docs/*.md;
* README.md links docs/, docs/README.md links every page, and relative links resolve.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

import wasmtool
from wasmtool.cli.main import cli
from wasmtool.errors import WasmtoolError, iter_error_classes

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ERRORS_PAGE = DOCS / "errors.md"
GENERATOR = ROOT / "scripts" / "gen_error_docs.py"

#: Citations of the design material or of tests, which users cannot follow.
FORBIDDEN = re.compile(
    r"\b(?:formats|typemap|recipes|phases|mochi-ffi|mochi-grammar|contradictions)\.md\b"
    r"|\bshared/"
    r"|\bissue\s+\d+"
    r"|\btest\s+\d+"
    r"|\bcheck\s+\d+\b"
    r"|§\s?\d",
    re.IGNORECASE,
)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@functools.cache
def _generator() -> ModuleType:
    """scripts/gen_error_docs.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("gen_error_docs", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_error_docs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _violations(text: str) -> list[str]:
    return [m.group(0) for m in FORBIDDEN.finditer(text)]


# -- the error-code page -----------------------------------------------------------------------


def test_error_page_is_generated_and_up_to_date() -> None:
    gen = _generator()
    expected = gen.render()
    assert ERRORS_PAGE.is_file(), "docs/errors.md is missing: run python scripts/gen_error_docs.py"
    assert ERRORS_PAGE.read_text(encoding="utf-8") == expected, (
        "docs/errors.md is stale: run python scripts/gen_error_docs.py")
    assert gen.main(["--check"]) == 0


def _all_error_classes() -> list[type[WasmtoolError]]:
    for info in pkgutil.walk_packages(wasmtool.__path__, "wasmtool."):
        importlib.import_module(info.name)
    return [c for c in iter_error_classes() if c.__module__.split(".")[0] == "wasmtool"]


def test_every_error_code_is_on_the_error_page() -> None:
    page = ERRORS_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (WT\d{3}) \| `(\w+)` \|", page, flags=re.MULTILINE))
    classes = _all_error_classes()
    assert len(classes) > 50
    missing = sorted(f"{c.code} {c.__module__}.{c.__qualname__}" for c in classes
                     if (c.code, c.__name__) not in documented)
    assert not missing, ("error classes missing from docs/errors.md (run python scripts/gen_error_docs.py): "
                         + ", ".join(missing))


def test_error_page_rows_name_a_description_and_a_module() -> None:
    rows = [line for line in ERRORS_PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| WT")]
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 5, row
        _code, _name, meaning, exit_status, module = cells
        assert meaning and exit_status.isdigit() and module.startswith("`wasmtool"), row


# -- no design files or test numbers in user-visible text ------------------------------------------


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    if isinstance(group, click.Group):
        for name in sorted(group.commands):
            yield from _commands(group.commands[name], (*path, name))


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "wasmtool" for p, _ in COMMANDS])
def test_help_cites_no_design_file(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="wasmtool", terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Usage: wasmtool" in result.output
    assert not _violations(result.output), f"wasmtool {' '.join(path)} --help: {_violations(result.output)}"
    texts = [command.help or "", (command.callback.__doc__ if command.callback else None) or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    for text in texts:
        assert not _violations(text), f"wasmtool {' '.join(path)}: {text!r}"


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                found.add(id(first.value))
    return found


def python_string_violations(path: Path) -> list[str]:
    """``file:line: text`` of every string constant (f-string parts included) that is not a
    docstring and cites a design file or a test number."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstring_nodes(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and _violations(node.value)):
            out.append(f"{_rel(path)}:{node.lineno}: {node.value.strip()[:120]!r}")
    return sorted(set(out))


_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\\])//[^\n]*", re.DOTALL)
_JS_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`", re.DOTALL)


def js_string_violations(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for literal in _JS_STRING.finditer(_JS_COMMENT.sub(lambda m: " " * len(m.group(0)), text)):
        if _violations(literal.group(0)):
            line = text.count("\n", 0, literal.start()) + 1
            out.append(f"{_rel(path)}:{line}: {literal.group(0)[:120]!r}")
    return out


SOURCES = sorted(p for base in ("wasmtool", "runtime") for p in (ROOT / base).rglob("*")
                 if p.suffix in (".py", ".mjs", ".js") and "node_modules" not in p.parts)


def test_sources_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"wasmtool/cli/main.py", "runtime/wasmtool_runtime/mochi_wrap.py", "runtime/pyodide/loader.mjs"} <= names


def test_source_strings_cite_no_design_file() -> None:
    found: list[str] = []
    for path in SOURCES:
        found += python_string_violations(path) if path.suffix == ".py" else js_string_violations(path)
    assert not found, "user-visible strings cite design files or tests:\n" + "\n".join(found)


def test_the_scan_sees_messages_and_not_docstrings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""See formats.md."""\n\n'
                      'def f(x):\n    """typemap.md"""\n    raise ValueError(f"{x}: see formats.md")\n',
                      encoding="utf-8")
    found = python_string_violations(sample)
    assert len(found) == 1 and ":5:" in found[0]
    js = tmp_path / "sample.mjs"
    js.write_text('// typemap.md\nthrow new Error(`see test 64`);\nconst url = "https://x/y";\n', encoding="utf-8")
    found = js_string_violations(js)
    assert len(found) == 1 and ":2:" in found[0]


MARKDOWN = sorted([ROOT / "README.md", *DOCS.rglob("*.md"), ROOT / "targets" / "README.md"])


@pytest.mark.parametrize("path", MARKDOWN, ids=[p.relative_to(ROOT).as_posix() for p in MARKDOWN])
def test_markdown_cites_no_design_file(path: Path) -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if _violations(line)]
    assert not found, "\n".join(found)


# -- links -------------------------------------------------------------------------------------------


def test_readme_links_the_docs() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "docs/README.md" in set(_LINK.findall(text))
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert "Documentation" in headings[:2], "README.md should have a Documentation section near the top"


def test_docs_index_links_every_page() -> None:
    index = DOCS / "README.md"
    linked = {link.split("#", 1)[0] for link in _LINK.findall(index.read_text(encoding="utf-8"))}
    pages = {p.name for p in DOCS.glob("*.md") if p.name != "README.md"}
    assert pages <= linked, f"docs/README.md does not link: {sorted(pages - linked)}"
    assert {"configuration.md", "value-encoding.md", "type-table.md", "lock-format.md", "targets.md",
            "errors.md", "runtime-modes.md", "calling-python-from-mochi.md"} <= pages


@pytest.mark.parametrize("path", MARKDOWN, ids=[p.relative_to(ROOT).as_posix() for p in MARKDOWN])
def test_relative_links_resolve(path: Path) -> None:
    broken: list[str] = []
    assert path.is_file()
    for link in _LINK.findall(path.read_text(encoding="utf-8")):
        target = link.split("#", 1)[0]
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        resolved = (path.parent / target).resolve()
        if not resolved.exists():
            broken.append(link)
        elif ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{link} (outside the repository)")
    assert not broken, f"{path.relative_to(ROOT)}: broken links {broken}"
