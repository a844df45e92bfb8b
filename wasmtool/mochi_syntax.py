"""Facts of Mochi's syntax that several generators and parsers need (mochi-grammar.md §1)."""

from __future__ import annotations

import re

#: Mochi P2 keywords and literals: never identifiers, aliases, parameter or field names.
MOCHI_KEYWORDS = frozenset({
    "test", "expect", "agent", "intent", "on", "close", "stream", "emit", "type", "fun", "extern",
    "import", "return", "break", "continue", "let", "var", "if", "else", "then", "for", "while", "in",
    "generate", "match", "when", "fetch", "load", "save", "package", "export", "fact", "rule", "all",
    "none", "try", "catch", "not", "set", "omap", "async", "await", "spawn", "true", "false",
})

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGITS_BEFORE_WORD = re.compile(r"\d+(?=[^\W\d]|_)")


def spell_inner_digits(name: str) -> str:
    """Spell out digit runs that an identifier character follows: ``Base64Encoder`` ->
    ``Base_six_four_Encoder``, ``sha256_hash`` -> ``sha_two_five_six_hash``.

    Mochi's lexer (both grammars, verified with the oracles; not in mochi-grammar.md) scans
    a digit run inside an identifier as a numeric literal and rejects an identifier
    character right after it ("P043 invalid numeric literal: missing whitespace"), so
    digits may only end an identifier (``sha256``, ``x_2``). Deterministic and idempotent.
    """
    def spell(m: re.Match[str]) -> str:
        start, end = m.span()
        words = "_".join(_DIGIT_WORDS[int(d)] for d in m.group())
        before = "" if start == 0 or name[start - 1] == "_" else "_"
        after = "" if name[end] == "_" else "_"
        return f"{before}{words}{after}"

    return _DIGITS_BEFORE_WORD.sub(spell, name)
