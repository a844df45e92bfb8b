"""WIT identifiers: kebab-case labels, ``%``-escaping of keywords, collision-free naming,
and the Python names componentize-py 0.25 derives from them.

Grammar (the component model's ``label``)::

    label ::= word ('-' word)*
    word  ::= [a-z][a-z0-9]* | [A-Z][A-Z0-9]*

wasmtool only emits lower-case words. A label that is a WIT keyword is written ``%label``
in WIT text (the ``%`` is not part of the name). The keyword set below was checked word
by word against ``wasm-tools component wit`` 1.262 (a bare ``<kw>: func();`` fails).
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = [
    "WIT_KEYWORDS",
    "LabelAllocator",
    "escape",
    "is_valid_label",
    "kebab",
    "py_class_name",
    "py_ident",
    "semver",
]

#: Words the WIT lexer reserves (wasm-tools 1.262). ``error-context`` is one token.
WIT_KEYWORDS: frozenset[str] = frozenset({
    "as", "async", "bool", "borrow", "char", "constructor", "enum", "error-context", "export",
    "f32", "f64", "flags", "from", "func", "future", "import", "include", "interface", "list",
    "map", "option", "own", "package", "record", "resource", "result", "s16", "s32", "s64", "s8",
    "static", "stream", "string", "tuple", "type", "u16", "u32", "u64", "u8", "use", "variant",
    "with", "world",
})

_LABEL = re.compile(r"^(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)(?:-(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*$")
# camelCase / PascalCase / ACRONYMWord boundaries
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z][a-z0-9]*|[A-Z][A-Z0-9]*|[0-9][a-z0-9]*")


def is_valid_label(text: str) -> bool:
    """Whether ``text`` (without a leading ``%``) is a WIT label."""
    return bool(_LABEL.match(text))


@lru_cache(maxsize=1 << 16)   # pure; a large package names the same parameters thousands of times
def kebab(name: str, *, fallback: str = "x") -> str:
    """A lower-case WIT label for any Python identifier or dotted name.

    ``snake_case`` and ``camelCase`` split into words, other characters separate words,
    non-ASCII letters are transliterated or dropped, a word starting with a digit is
    glued to the previous word (``v_2`` -> ``v2``) or, first, prefixed with ``n``
    (``2fa`` -> ``n2fa``). An empty result becomes ``fallback``.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", ascii_text):
        for part in _CAMEL.findall(chunk):
            word = part.lower()
            if word[0].isdigit():
                if words:
                    words[-1] += word
                    continue
                word = "n" + word
            words.append(word)
    return "-".join(words) if words else fallback


def escape(label: str) -> str:
    """``label`` as written in WIT text: keywords get a ``%`` prefix."""
    return f"%{label}" if label in WIT_KEYWORDS else label


class LabelAllocator:
    """Hands out distinct labels in one scope, deterministically.

    ``allocate("loads")`` -> ``loads``; a second ``loads`` -> ``loads-v2``, then ``loads-v3``.
    ``reserved`` labels are never handed out (``types`` in a package, ``self`` for params).
    Callers must allocate in a deterministic order (wasmtool sorts by the Python name).
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._used: set[str] = set(reserved)
        self._py: set[str] = {py_ident(r) for r in self._used}
        self._strong: set[str] = {strong_key(r) for r in self._used}

    def allocate(self, wanted: str) -> str:
        base = wanted if is_valid_label(wanted) else kebab(wanted)
        label, n = base, 1
        # also keep the snake_case names componentize-py derives distinct (``a-b`` vs ``a-b``),
        # and the names WIT itself compares without hyphens (``typecodes`` vs ``type-codes``)
        while label in self._used or py_ident(label) in self._py or strong_key(label) in self._strong:
            n += 1
            label = f"{base}-v{n}"
        self._used.add(label)
        self._py.add(py_ident(label))
        self._strong.add(strong_key(label))
        return label


def strong_key(label: str) -> str:
    """What WIT compares for uniqueness: ``wasm-tools`` rejects ``typecodes`` next to
    ``type-codes`` ("name conflicts with previous name"), so hyphens do not count."""
    return label.replace("-", "").lower()


def py_ident(label: str) -> str:
    """The Python name componentize-py 0.25 gives a function, parameter, field or module:
    snake_case, and a trailing ``_`` on Python keywords (``import`` -> ``import_``)."""
    name = label.replace("-", "_").lower()
    return name + "_" if keyword.iskeyword(name) else name


def py_class_name(label: str) -> str:
    """The Python class name componentize-py 0.25 gives a record, enum or interface:
    each word capitalised and joined (``tomli-parser`` -> ``TomliParser``)."""
    return "".join(w[:1].upper() + w[1:].lower() for w in label.split("-"))


_SEMVER_RELEASE = re.compile(r"^\d+(?:\.\d+)*$")


def semver(version: str) -> str:
    """A semver 2.0 version for a PEP 440 ``version`` (WIT package versions are semver).

    ``2.5.0`` -> ``2.5.0``; ``1.0`` -> ``1.0.0``; ``2024.01.5`` -> ``2024.1.5``;
    ``1.2.3.4`` -> ``1.2.3+r4``; ``1.0rc1`` -> ``1.0.0-rc1``; ``1.0.dev2`` -> ``1.0.0-dev2``;
    ``1.0.post1`` -> ``1.0.0+post1``; ``1!2.0+local.7`` -> ``2.0.0+e1.local.7``.
    Anything unparsable becomes ``0.0.0+<sanitised text>``.
    """
    from packaging.version import InvalidVersion, Version

    try:
        v = Version(version)
    except InvalidVersion:
        junk = ".".join(p for p in re.split(r"[^0-9A-Za-z-]+", version) if p) or "unknown"
        return f"0.0.0+{junk}"
    release = list(v.release) + [0] * max(0, 3 - len(v.release))
    core = ".".join(str(n) for n in release[:3])
    pre: list[str] = []
    if v.pre is not None:
        pre.append(f"{v.pre[0]}{v.pre[1]}")
    if v.dev is not None:
        pre.append(f"dev{v.dev}")
    build: list[str] = []
    if v.epoch:
        build.append(f"e{v.epoch}")
    if len(release) > 3:
        build.append("r" + "-".join(str(n) for n in release[3:]))
    if v.post is not None:
        build.append(f"post{v.post}")
    if v.local:
        build.extend(p for p in re.split(r"[^0-9A-Za-z-]+", v.local) if p)
    text = core
    if pre:
        text += "-" + ".".join(pre)
    if build:
        text += "+" + ".".join(build)
    return text
