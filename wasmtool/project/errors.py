"""Errors in project files: mochi.toml, ``import python`` lines, import specs (WT050-WT099), and
cold-start budgets (``[python.budget.<target>]``, WT660-WT669)."""

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


# -- cold-start budgets (``[python.budget.<target>]``, docs/budget.md): WT660-WT669 ------------


class BudgetSettingError(ProjectError):
    """``[python.budget.<target>]`` in mochi.toml is malformed (an unknown key, a value that is
    not a positive integer, a table where a number belongs); ``problems`` lists every one with
    its key path, the first one is the ``field``."""

    code = "WT660"

    def __init__(self, problems: list[str], *, file: str) -> None:
        self.problems = problems
        super().__init__("invalid cold-start budget:\n  " + "\n  ".join(problems), file=file,
                         field=problems[0].split(":", 1)[0] if problems else None,
                         hint="each of cold-start-ms, import-ms and bundle-bytes is a positive integer "
                              "(docs/budget.md)")


class BudgetExceededError(ProjectError):
    """A Pyodide bundle measured by ``install --smoke`` (or ``lock --check --budget``) is over
    its ``[python.budget.<target>]``: one line per exceeded budget, each naming what grew (the
    package and how many bytes or ms, against the previous measurement in mochi.lock when there
    is one); ``package`` is the first package named."""

    code = "WT661"

    def __init__(self, lines: list[str], *, file: str, field: str, package: str | None = None,
                 hint: str | None = None) -> None:
        self.lines = lines
        super().__init__("over the cold-start budget:\n  " + "\n  ".join(lines), file=file, field=field,
                         package=package, hint=hint)


class BudgetTargetError(ProjectError):
    """A ``[python.budget.<target>]`` table names a target whose cold start cannot be measured
    (an unknown target, or one that is not a Pyodide target)."""

    code = "WT662"


class BudgetMeasureError(ProjectError):
    """The cold-start measurement itself failed: Node could not load the bundle with its own
    loader, a package failed to import, or the measurement's output was not understood."""

    code = "WT663"


class BudgetBundleError(ProjectError):
    """``lock --check --budget`` has no installed bundle to measure for a target, or the
    installed bundle does not hold the wheels mochi.lock pins (install it again first)."""

    code = "WT664"
