"""Facts of Mochi's syntax that several generators and parsers need (mochi-grammar.md §1)."""

from __future__ import annotations

#: Mochi P2 keywords and literals: never identifiers, aliases, parameter or field names.
MOCHI_KEYWORDS = frozenset({
    "test", "expect", "agent", "intent", "on", "close", "stream", "emit", "type", "fun", "extern",
    "import", "return", "break", "continue", "let", "var", "if", "else", "then", "for", "while", "in",
    "generate", "match", "when", "fetch", "load", "save", "package", "export", "fact", "rule", "all",
    "none", "try", "catch", "not", "set", "omap", "async", "await", "spawn", "true", "false",
})
