"""Errors in project files: mochi.toml, ``import python`` lines, import specs (WT050-WT099)."""

from __future__ import annotations

from wasmtool.errors import ProjectError, clip


class ImportSpecError(ProjectError):
    """An ``import python "<spec>"`` string is malformed; the message carries a pointer."""

    code = "WT051"

    #: Characters of the spec shown around the pointer (a long spec is echoed in part).
    WINDOW = 80

    def __init__(self, message: str, *, spec: str, pos: int, file: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        end = min(len(spec), max(pos + self.WINDOW // 2, self.WINDOW))
        start = max(0, end - self.WINDOW)
        head, tail = ("..." if start else ""), ("..." if end < len(spec) else "")
        shown = "".join(c if c.isprintable() else "?" for c in spec[start:end])  # one column per character
        pointer = f"\n    {head}{shown}{tail}\n    {' ' * (len(head) + pos - start)}^"
        where = file
        if file and line is not None:
            where = f"{file}:{line}:{(column or 0) + pos}"
        super().__init__(f"invalid import spec: {clip(message)}{pointer}", file=where)
        self.spec = spec
        self.pos = pos
        self.reason = message


class ImportLineError(ProjectError):
    code = "WT052"


class ManifestSyntaxError(ProjectError):
    code = "WT053"


class ManifestError(ProjectError):
    """mochi.toml parses but has problems; ``problems`` lists every one with its key path."""

    code = "WT054"

    def __init__(self, problems: list[str], *, file: str) -> None:
        self.problems = problems
        super().__init__("invalid manifest:\n  " + "\n  ".join(problems), file=file,
                         field=problems[0].split(":", 1)[0] if problems else None)


class ManifestMissingError(ProjectError):
    code = "WT055"


class RequirementConflictError(ProjectError):
    """Imports and the manifest disagree (unlisted extra, alias reused for two packages)."""

    code = "WT056"


class PathEscapeError(ProjectError):
    """A file or folder wasmtool writes in the project (the workspace, mochi.lock, a pylock
    file) is, or passes through, a symbolic link leading outside the project; nothing is
    written or deleted through it."""

    code = "WT057"
