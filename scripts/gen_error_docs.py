"""Generate docs/errors.md, the error-code reference, from the code.

Every module of the ``wasmtool`` package is imported (``pkgutil.walk_packages``), so the
page lists every subclass of :class:`wasmtool.errors.WasmtoolError` wherever it is defined.
(``runtime/wasmtool_runtime`` is standard-library only and cannot subclass it: the worker
answers with JSON-RPC codes, which wasmtool turns into the classes listed here.)

Codes are grouped in ranges, one per domain base class (the direct subclasses of
``WasmtoolError`` in ``wasmtool.errors``): from the base's code up to the next base's.
A class's description is, first found: its own docstring (first paragraph); the line that
names it and its code in a tree of its module's docstring (``BundleError  WT840  ...``);
the description of its nearest wasmtool base class.

    python scripts/gen_error_docs.py            # (re)write docs/errors.md
    python scripts/gen_error_docs.py --check    # exit 1 if docs/errors.md is stale

Output is deterministic: rows sorted by code, then class name, then module.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wasmtool.errors import WasmtoolError

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "errors.md"
PACKAGES = ("wasmtool",)
OWN_TOP_LEVEL = frozenset({"wasmtool", "wasmtool_runtime"})
_TREE_CHARS = r"[\s│├└─]*"
#: A trailing note of a tree line that the table shows in other columns: ``(ValueError, exit 2)``.
_TRAILING_NOTE = re.compile(r"\s+\((?![^()]*\balso\b)[^()]*(?:Error|exit)[^()]*\)$")
_ROLE = re.compile(r":(?:class|func|mod|meth|attr|data|exc|obj):`~?(?:[\w.]+\.)?(\w+)`")

for _path in (ROOT, ROOT / "runtime"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


class GenerationError(Exception):
    """Some module could not be imported, or the classes are not as expected."""


@dataclass(frozen=True)
class CodeRange:
    start: int
    end: int
    base: str           # the domain base class
    what: str           # what the range covers

    @property
    def title(self) -> str:
        return f"WT{self.start:03d}" if self.start == self.end else f"WT{self.start:03d}-WT{self.end:03d}"

    def matches(self, code: str) -> bool:
        return self.start <= _number(code) <= self.end


@dataclass(frozen=True)
class ErrorRow:
    code: str
    name: str
    module: str
    description: str
    exit_code: int


def import_all(packages: tuple[str, ...] = PACKAGES) -> None:
    """Import every module of ``packages``; raise :class:`GenerationError` listing failures."""
    failures: list[str] = []
    for top in packages:
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, f"{top}.",
                                          onerror=lambda name: failures.append(f"{name}: cannot walk")):
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # any failure hides the module's error classes
                failures.append(f"{info.name}: {type(exc).__name__}: {exc}")
    if failures:
        raise GenerationError("cannot import every module, the page would miss codes:\n  " + "\n  ".join(failures))


def error_classes() -> list[type[WasmtoolError]]:
    """Every subclass of WasmtoolError (root included) defined in wasmtool's own modules."""
    from wasmtool.errors import WasmtoolError

    seen: dict[int, type[WasmtoolError]] = {}
    stack: list[type[WasmtoolError]] = [WasmtoolError]
    while stack:
        cls = stack.pop()
        if id(cls) in seen:
            continue
        seen[id(cls)] = cls
        stack.extend(cls.__subclasses__())
    return [c for c in seen.values() if c.__module__.split(".")[0] in OWN_TOP_LEVEL]


def _number(code: str) -> int:
    m = re.fullmatch(r"WT(\d{3})", code)
    if m is None:
        raise GenerationError(f"malformed error code {code!r}")
    return int(m[1])


def code_ranges() -> list[CodeRange]:
    """One range per domain base class (and the root), from its code to the next base's."""
    from wasmtool.errors import WasmtoolError

    bases: list[type[WasmtoolError]] = [WasmtoolError]
    bases += [c for c in WasmtoolError.__subclasses__() if c.__module__ == "wasmtool.errors"]
    bases.sort(key=lambda c: (_number(c.code), c.__name__))
    if len(bases) < 2:
        raise GenerationError("no domain base classes found in wasmtool.errors")
    ranges: list[CodeRange] = []
    for i, cls in enumerate(bases):
        start = _number(cls.code)
        end = _number(bases[i + 1].code) - 1 if i + 1 < len(bases) else 999
        what = "the root of every error wasmtool raises on purpose" if cls is WasmtoolError else describe(cls)
        ranges.append(CodeRange(start, max(end, start), cls.__name__, what))
    return ranges


def _markdown(text: str) -> str:
    text = _ROLE.sub(r"``\1``", text)
    text = " ".join(text.replace("``", "`").split())
    return text.replace("|", "\\|")


def _own_doc(cls: type) -> str:
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return ""
    return _markdown(inspect.cleandoc(doc).split("\n\n", 1)[0])


def _tree_doc(cls: type) -> str:
    """The description on the line naming ``cls`` and its code in a module docstring tree."""
    code = re.escape(str(getattr(cls, "code", "")))
    pattern = re.compile(rf"^{_TREE_CHARS}{re.escape(cls.__name__)}\s+\(?{code}\)?\s+(?P<what>\S.*?)\s*$")
    for module_name in (cls.__module__, "wasmtool.errors"):
        lines = (getattr(sys.modules.get(module_name), "__doc__", None) or "").splitlines()
        for i, line in enumerate(lines):
            m = pattern.match(line)
            if m is None:
                continue
            parts, col = [m["what"]], m.start("what")
            for more in lines[i + 1:]:  # continuation lines are aligned with the description
                if len(more) <= col or more[:col].strip(" │") or more[col] == " ":
                    break
                parts.append(more[col:].strip())
            return _markdown(_TRAILING_NOTE.sub("", " ".join(parts)))
    return ""


def describe(cls: type) -> str:
    """Own docstring, else its tree line, else the nearest wasmtool base's description."""
    from wasmtool.errors import WasmtoolError

    for candidate in cls.__mro__:
        if isinstance(candidate, type) and issubclass(candidate, WasmtoolError):
            text = _own_doc(candidate) or _tree_doc(candidate)
            if text:
                return text
    return ""


def collect() -> list[ErrorRow]:
    import_all()
    rows = [ErrorRow(str(c.code), c.__name__, c.__module__, describe(c), int(getattr(c, "exit_code", 1)))
            for c in error_classes()]
    for row in rows:
        _number(row.code)
    return sorted(rows, key=lambda r: (r.code, r.name, r.module))


_HEADER = """\
<!-- Generated by scripts/gen_error_docs.py from the code; do not edit by hand.
     Regenerate with: python scripts/gen_error_docs.py -->

# Error codes

Every failure wasmtool reports on purpose carries a stable code `WTnnn`. The command line
prints it on standard error as

```
error: WTnnn <file>: <package>: <field>: <message>
  hint: <what to do>
```

The `<file>: <package>: <field>:` prefix names what is at fault (the parts that do not apply
are left out); the hint line is there when there is advice. `wasmtool run` puts the code of
a failing line in that line's result (`"error": {"code": "WT724", ...}`, see
[value-encoding.md](value-encoding.md)).

The exit status is the one in the tables; click's own usage errors (an unknown option, a
missing argument) exit 2. In Python every error is a subclass of
`wasmtool.errors.WasmtoolError`, and many also subclass the closest standard exception
(`ValueError`, `RuntimeError`, ...), so either can be caught.

A class without a description of its own shows its base class's.
"""


def render(rows: list[ErrorRow] | None = None, ranges: list[CodeRange] | None = None) -> str:
    """The whole page."""
    rows = collect() if rows is None else rows
    ranges = code_ranges() if ranges is None else ranges
    groups: dict[str, list[ErrorRow]] = {}
    for row in rows:
        owner = next((r for r in ranges if r.matches(row.code)), None)
        groups.setdefault(owner.title if owner else "", []).append(row)
    out = [_HEADER]
    contents = [f"- [{r.title}](#{r.title.lower()}): {r.what}" for r in ranges if groups.get(r.title)]
    if groups.get(""):
        contents.append("- [Other codes](#other-codes)")
    out.append("\n".join(contents) + "\n")
    for r in ranges:
        if groups.get(r.title):
            out.append(f"## {r.title}\n\n`{r.base}`: {r.what}\n")
            out.append(_table(groups[r.title]))
    if groups.get(""):
        out.append("## Other codes\n")
        out.append(_table(groups[""]))
    return "\n".join(out)


def _table(rows: list[ErrorRow]) -> str:
    lines = ["| code | class | meaning | exit | defined in |", "|---|---|---|---|---|"]
    lines += [f"| {r.code} | `{r.name}` | {r.description} | {r.exit_code} | `{r.module}` |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/errors.md from wasmtool's error classes.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="the file to write or check")
    args = parser.parse_args(argv)
    try:
        text = render()
    except GenerationError as exc:
        print(f"gen_error_docs: {exc}", file=sys.stderr)
        return 2
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_error_docs.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
