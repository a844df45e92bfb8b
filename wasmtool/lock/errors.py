"""Errors of mochi.lock / pylock.toml reading, writing and checking (WT400-WT449)."""

from __future__ import annotations

from wasmtool.errors import LockError


class LockSyntaxError(LockError):
    """The lock file is not valid TOML."""

    code = "WT401"


class LockSchemaError(LockError):
    """The lock file parses but a field is missing, mistyped or inconsistent.

    ``problems`` lists every problem found, each prefixed with its key path
    (``python-package[3].wheel-sha256``), so one run reports them all.
    """

    code = "WT402"

    def __init__(self, problems: list[str], *, file: str) -> None:
        self.problems = problems
        super().__init__("invalid lock:\n  " + "\n  ".join(problems), file=file)


class LockVersionError(LockError):
    """``schema-version`` is not one this wasmtool reads."""

    code = "WT403"


class LockMissingError(LockError):
    code = "WT404"


class LockDriftError(LockError):
    """``lock --check`` found differences; ``lines`` holds one line per difference."""

    code = "WT410"
    exit_code = 1

    def __init__(self, lines: list[str], *, file: str, hint: str = "run `wasmtool lock` to update the lock") -> None:
        self.lines = lines
        super().__init__(
            f"{len(lines)} difference(s) between the project and its lock:\n  " + "\n  ".join(lines),
            file=file,
            hint=hint,
        )


class LockIncompleteError(LockError):
    """``install --frozen``: the lock's entries for the target do not cover the project (a
    direct requirement, or an entry's dependency, has no entry; e.g. the lock was edited by
    hand), so it cannot be installed as it is. ``missing`` names the packages."""

    code = "WT411"
    exit_code = 1

    def __init__(self, lines: list[str], missing: list[str], *, file: str, target: str) -> None:
        self.lines = lines
        self.missing = missing
        super().__init__(
            f"mochi.lock does not cover the project for target {target} (missing: {', '.join(missing)}); "
            "--frozen installs a lock as it is:\n  " + "\n  ".join(lines),
            file=file,
            hint="run `wasmtool lock` (or install without --frozen)",
        )


class PylockError(LockError):
    """A pylock.toml failed PEP 751 validation (wraps packaging.pylock errors)."""

    code = "WT420"
