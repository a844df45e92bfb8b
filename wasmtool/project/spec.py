"""Import specs: the string in ``import python "<spec>" as <alias>`` (formats.md §4).

Grammar::

    spec      := name extras? ( "@" qualifier )?
    name      := [A-Za-z0-9] ( [A-Za-z0-9._-]* [A-Za-z0-9] )?       ; PEP 508 name
    extras    := "[" ident ( "," ident )* "]"
    qualifier := version-set | "git+" url ( "#" rev )? | "path+" relpath | "index+" url

Version sets are PEP 440 specifiers (checked with ``packaging.specifiers``) plus sugar:

=============== ======================== ==========================================
sugar           expands to               rule
=============== ======================== ==========================================
``^1.2.3``      ``>=1.2.3,<2``           caret: bump the first non-zero component
``^0.27``       ``>=0.27,<0.28``
``^0.0.3``      ``>=0.0.3,<0.0.4``
``^1`` / ``^0`` ``>=1,<2`` / ``>=0,<1``  one component: bump it
``~1.2.3``      ``>=1.2.3,<1.3``         tilde: bump the minor
``~1.2``        ``>=1.2,<1.3``
``~1``          ``>=1,<2``               one component: bump it
``1.2.3``       ``==1.2.3``              bare version
=============== ======================== ==========================================

Sugar on pre-, post-, dev- or local versions, or with an epoch, is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wasmtool.project.errors import ImportSpecError

Source = Literal["registry", "index", "git", "path"]
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_EXTRA = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
#: Line breaks and other control characters (C0, DEL, NEL, the Unicode line and paragraph
#: separators): a spec holding one could smuggle a second line into a requirements file.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_URL_SCHEMES = ("http://", "https://", "ssh://", "git://", "file://")


@dataclass(frozen=True)
class ImportSpec:
    raw: str
    name: str
    extras: tuple[str, ...] = ()
    specifier: str = ""
    source: Source = "registry"
    url: str = ""
    rev: str = ""
    path: str = ""

    def render(self) -> str:
        text = self.name + (f"[{','.join(self.extras)}]" if self.extras else "")
        if self.source == "git":
            return f"{text}@git+{self.url}" + (f"#{self.rev}" if self.rev else "")
        if self.source == "path":
            return f"{text}@path+{self.path}"
        if self.source == "index":
            return f"{text}@index+{self.url}"
        return f"{text}@{self.specifier}" if self.specifier else text

    def requirement(self) -> str:
        """PEP 508 form (registry and index sources)."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"


def _fail(msg: str, spec: str, pos: int, ctx: dict[str, object]) -> ImportSpecError:
    return ImportSpecError(msg, spec=spec, pos=pos, **ctx)  # type: ignore[arg-type]


def _sugar_version(text: str, spec: str, pos: int, ctx: dict[str, object]) -> tuple[Version, list[int]]:
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text):
        try:
            v = Version(text)
        except InvalidVersion:
            raise _fail(f"{text!r} is not a version", spec, pos, ctx) from None
        raise _fail(f"caret/tilde sugar needs a plain release version, not {v}", spec, pos, ctx)
    parts = [int(x) for x in text.split(".")]
    return Version(text), parts


def expand_version_set(text: str, *, _spec: str | None = None, _pos: int = 0,
                       _ctx: dict[str, object] | None = None) -> str:
    """Expand caret/tilde/bare-version sugar into a normalised PEP 440 specifier string."""
    spec = _spec if _spec is not None else text
    ctx = _ctx or {}
    body = re.sub(r"\s+", "", text)
    if not body:
        raise _fail("empty version set", spec, _pos, ctx)
    if body == "*":
        return ""
    if body.startswith("^"):
        _, parts = _sugar_version(body[1:], spec, _pos + 1, ctx)
        idx = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        upper = parts[: idx + 1]
        upper[idx] += 1
        return str(SpecifierSet(f">={body[1:]},<{'.'.join(map(str, upper))}"))
    if body.startswith("~") and not body.startswith("~="):
        _, parts = _sugar_version(body[1:], spec, _pos + 1, ctx)
        upper = parts[:2] if len(parts) >= 2 else parts[:1]
        upper[-1] += 1
        return str(SpecifierSet(f">={body[1:]},<{'.'.join(map(str, upper))}"))
    if re.fullmatch(r"[0-9][0-9A-Za-z.!+*-]*", body):
        body = "==" + body
    try:
        return str(SpecifierSet(body))
    except InvalidSpecifier:
        raise _fail(f"{text!r} is not a PEP 440 version set", spec, _pos, ctx) from None


def parse_import_spec(text: str, *, file: str | None = None, line: int | None = None,
                      column: int | None = None) -> ImportSpec:
    ctx: dict[str, object] = {"file": file, "line": line, "column": column}
    if not text:
        raise _fail("empty spec", text, 0, ctx)
    if text != text.strip():
        pos = 0 if text[0].isspace() else len(text.rstrip())
        raise _fail("leading or trailing whitespace", text, pos, ctx)
    bad = _CONTROL.search(text)
    if bad is not None:
        raise _fail(f"control character {bad.group(0)!r} (a spec is one line of printable text)",
                    text, bad.start(), ctx)
    spec = _parse(text, ctx)
    _check_requirement(spec, ctx)
    return spec


def _parse(text: str, ctx: dict[str, object]) -> ImportSpec:
    m = _NAME.match(text)
    if m is None:
        raise _fail("a package name must start with a letter or digit", text, 0, ctx)
    name_end = m.end()
    if name_end < len(text) and text[name_end] in "._-":
        raise _fail("a package name must end with a letter or digit", text, name_end, ctx)
    name = str(canonicalize_name(m.group(0)))
    pos = name_end
    extras: tuple[str, ...] = ()
    if pos < len(text) and text[pos] == "[":
        close = text.find("]", pos)
        if close < 0:
            raise _fail("unclosed '['", text, pos, ctx)
        items = [e.strip() for e in text[pos + 1: close].split(",")]
        if items == [""]:
            raise _fail("empty extras", text, pos + 1, ctx)
        for item in items:
            if not _EXTRA.match(item):
                raise _fail(f"invalid extra name {item!r}", text, pos + 1, ctx)
        extras = tuple(sorted({str(canonicalize_name(e)) for e in items}))
        pos = close + 1
    if pos == len(text):
        return ImportSpec(raw=text, name=name, extras=extras)
    if text[pos] != "@":
        raise _fail(f"unexpected {text[pos]!r} after the package name (expected '@')", text, pos, ctx)
    qual = text[pos + 1:]
    qpos = pos + 1
    if not qual:
        raise _fail("nothing after '@'", text, pos, ctx)
    if "@" in qual and not qual.startswith(("git+", "index+")):
        raise _fail("a second '@'", text, qpos + qual.index("@"), ctx)
    if qual.startswith("git+"):
        url, _, rev = qual[4:].partition("#")
        _check_url(url, text, qpos + 4, ctx)
        if "#" in qual and not rev:
            raise _fail("empty revision after '#'", text, len(text), ctx)
        if re.search(r"\s", rev):
            raise _fail("whitespace in a revision", text, len(text) - len(rev), ctx)
        return ImportSpec(raw=text, name=name, extras=extras, source="git", url=url, rev=rev)
    if qual.startswith("index+"):
        url = qual[6:]
        _check_url(url, text, qpos + 6, ctx)
        return ImportSpec(raw=text, name=name, extras=extras, source="index", url=url)
    if qual.startswith("path+"):
        path = qual[5:]
        if not path or path in (".", "./"):
            raise _fail("path must name another folder, not '.'", text, qpos + 5, ctx)
        if path.startswith("/"):
            raise _fail("path must be relative to the manifest", text, qpos + 5, ctx)
        return ImportSpec(raw=text, name=name, extras=extras, source="path", path=path)
    if re.match(r"[A-Za-z][A-Za-z0-9.-]*\+", qual):
        raise _fail(f"unsupported source {qual.split('+', 1)[0]!r} (use git+, path+ or index+)", text, qpos, ctx)
    specifier = expand_version_set(qual, _spec=text, _pos=qpos, _ctx=ctx)
    return ImportSpec(raw=text, name=name, extras=extras, specifier=specifier)


def _check_requirement(spec: ImportSpec, ctx: dict[str, object]) -> None:
    """The spec, as the resolver will see it, must be exactly one PEP 508 requirement."""
    text = spec.requirement()  # name[extras] + specifier; git: name[extras] @ url
    if spec.source == "git":
        text += f" @ git+{spec.url}" + (f"@{spec.rev}" if spec.rev else "")
    if spec.source == "path":
        return  # a local folder: resolved to a file URL by the project model
    try:
        Requirement(text)
    except InvalidRequirement:
        raise _fail(f"does not form a valid PEP 508 requirement ({text!r})", spec.raw, 0, ctx) from None


def _check_url(url: str, spec: str, pos: int, ctx: dict[str, object]) -> None:
    if not url:
        raise _fail("empty URL", spec, pos, ctx)
    space = re.search(r"\s", url)
    if space is not None:
        raise _fail("whitespace in a URL", spec, pos + space.start(), ctx)
    if not url.startswith(_URL_SCHEMES):
        raise _fail("URL scheme must be http, https, ssh, git or file", spec, pos, ctx)
