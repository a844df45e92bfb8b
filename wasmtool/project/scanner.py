"""Find ``import python "<spec>" as <alias>`` statements in Mochi source.

``scan_imports`` is pure (text in, positions out); ``scan_sources`` walks a project.
Comments (``//``, ``#``, ``/* */``) and other string literals are skipped. An import
without ``as`` gets the alias derived from the package name (``-``/``.`` -> ``_``).

A path under ``python_wrap.`` (``import python "python_wrap.tomli.tomli_externs" as tomli``,
the form the released Mochi runs) names a generated binding module, not a package: it adds
no requirement and is not reported here (see :func:`is_binding_import`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wasmtool.errors import clip
from wasmtool.mochi_syntax import MOCHI_KEYWORDS
from wasmtool.project.errors import ImportLineError
from wasmtool.project.spec import ImportSpec, parse_import_spec

_IMPORT = re.compile(r'import\s+python\s+"((?:[^"\\\n]|\\.)*)"(?:\s+as\s+([^\s;/#]+))?')
_IDENT = re.compile(r"^[^\W\d]\w*$")
#: The longest ``import python "<spec>"`` string accepted (a name, extras, a URL and a rev fit
#: easily); a longer one is an error before it is parsed, so no message echoes all of it.
MAX_SPEC_LENGTH = 1000
_SKIP_DIRS = {".mochi", "node_modules", "python_wrap", ".git", ".venv", "__pycache__"}


@dataclass(frozen=True)
class ImportLine:
    spec: ImportSpec
    alias: str
    file: str
    line: int
    column: int


def _mask(text: str) -> str:
    """Blank out comments and string literals other than the ones an import statement
    owns, keeping offsets, so the import regex only sees code."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i) or c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = [ch if ch == "\n" else " " for ch in text[i:j]]
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            before = text[max(0, i - 40):i]
            if not re.search(r"import\s+python\s+$", before):
                out[i + 1:j] = " " * (j - i - 1)
            i = j + 1
        else:
            i += 1
    return "".join(out)


#: The package of the generated bindings in a workspace (``python_wrap.<alias>.<pkg>_externs``).
BINDINGS_PACKAGE = "python_wrap"


def is_binding_import(path: str) -> bool:
    """Whether an ``import python`` string names a generated binding module (0.10 dialect)."""
    return path == BINDINGS_PACKAGE or path.startswith(BINDINGS_PACKAGE + ".")


def scan_imports(text: str, *, file: str) -> list[ImportLine]:
    found: list[ImportLine] = []
    masked = _mask(text)
    for m in _IMPORT.finditer(masked):
        if is_binding_import(m.group(1)):
            continue
        line = masked.count("\n", 0, m.start()) + 1
        col = m.start() - (masked.rfind("\n", 0, m.start()) + 1) + 1
        spec_col = m.start(1) - (masked.rfind("\n", 0, m.start(1)) + 1)
        if len(m.group(1)) > MAX_SPEC_LENGTH:
            raise ImportLineError(
                f"import spec {clip(m.group(1), 80)!r} is {len(m.group(1))} characters long "
                f"(at most {MAX_SPEC_LENGTH})", file=f"{file}:{line}:{col}")
        spec = parse_import_spec(m.group(1), file=file, line=line, column=spec_col)
        alias = m.group(2)
        if alias is None:
            alias = re.sub(r"[-.]", "_", spec.name)
        elif not _IDENT.match(alias):
            raise ImportLineError(f"alias {clip(repr(alias))} is not an identifier", file=f"{file}:{line}:{col}")
        if alias in MOCHI_KEYWORDS:
            raise ImportLineError(f"alias {clip(repr(alias))} is a Mochi keyword", file=f"{file}:{line}:{col}",
                                  hint=f"use another name, e.g. {alias}_")
        found.append(ImportLine(spec=spec, alias=alias, file=file, line=line, column=col))
    return found


def read_source(path: Path, *, file: str) -> str:
    """The text of a ``.mochi`` source: UTF-8, a leading byte-order mark dropped. Bytes that
    are not UTF-8, or a file that cannot be read, are an :class:`ImportLineError` naming
    ``file`` (and line and column)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportLineError(f"cannot read the source: {exc.strerror or exc}", file=file) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportLineError(f"not UTF-8 text: byte 0x{data[exc.start]:02x}", file=f"{file}:{line}:{column}",
                              hint="Mochi sources are UTF-8; save the file as UTF-8") from exc
    return text.removeprefix("\ufeff")


def scan_sources(root: Path) -> list[ImportLine]:
    out: list[ImportLine] = []
    for path in sorted(p for p in root.rglob("*.mochi") if p.is_file()):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        out.extend(scan_imports(read_source(path, file=str(rel)), file=str(rel)))
    return out
