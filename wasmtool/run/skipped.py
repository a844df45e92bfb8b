"""What ``wasmtool bind`` skipped for one alias: its ``SKIPPED.txt`` (no wasmtool imports, so
that the errors of :mod:`wasmtool.run.errors` can name a skipped item), and which setting
would bind a skipped item (:func:`remedy`, one pure table over the skip reasons)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PARTIAL_TIERS", "Remedy", "SkippedItem", "read_skipped", "remedy", "submodule_remedy"]

#: Stub tiers whose ``Any`` maps with ``allow-partial`` (the same set as
#: ``wasmtool.typemap.table.PARTIAL_TIERS``; a test keeps them equal).
PARTIAL_TIERS = frozenset({"py.typed-partial", "stubgen"})


@dataclass(frozen=True)
class SkippedItem:
    """One line of an alias's ``SKIPPED.txt``: ``path<TAB>reason<TAB>detail[<TAB>hint]``;
    ``tier`` is the stub tier of the file's header line (``tier=stubgen``)."""

    path: str
    reason: str
    detail: str = ""
    hint: str = ""
    tier: str = ""

    @property
    def item(self) -> str:
        """The Python path of the item (an overload arm's ``#n`` left out), as settings name it."""
        return self.path.split("#", 1)[0]

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason, "detail": self.detail, "hint": self.hint}


def read_skipped(alias_dir: Path) -> tuple[SkippedItem, ...]:
    """The items ``wasmtool bind`` skipped for one alias (empty when ``SKIPPED.txt`` is missing)."""
    try:
        text = (alias_dir / "SKIPPED.txt").read_text(encoding="utf-8")
    except OSError:
        return ()
    items = []
    tier = ""
    for line in text.splitlines():
        if line.startswith("# wasmtool SKIPPED "):
            tier = next((w.removeprefix("tier=") for w in line.split() if w.startswith("tier=")), "")
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) >= 2:
            detail, hint = (*cells[2:4], "", "")[:2]
            items.append(SkippedItem(cells[0], cells[1], detail, hint, tier))
    return tuple(items)


# -- which setting binds a skipped item ------------------------------------------------------------


@dataclass(frozen=True)
class Remedy:
    """What would make ``wasmtool bind`` bind a skipped item: ``setting`` (what to write, empty
    when no setting binds it) and ``text``, the sentence an error shows."""

    setting: str
    text: str


def _settings(*settings: str, where: str = "[python]", what: str = "") -> Remedy:
    joined = " or ".join(f"`{s}`" for s in settings)
    return Remedy(" or ".join(settings), f"to bind it{what}: {joined} in {where} of mochi.toml, then `wasmtool bind`")


def _none(why: str) -> Remedy:
    return Remedy("", f"no setting binds it: {why}")


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


_TYPEVAR = re.compile(r"TypeVar `([^`]+)`")
_SUPERSET = re.compile(r"superset arm does not map: (Skip\w+) ?(.*)")


def _typing(item: SkippedItem, target: str, dist: str) -> Remedy:
    """``SkipUnsupportedTypingConstruct``: ``Any``, a missing annotation, ``object``, a TypeVar."""
    text = f"{item.detail} {item.hint}"
    partial = item.tier in PARTIAL_TIERS
    allow_any = f"allow-any = [{_quoted(item.item)}]"
    tv = _TYPEVAR.search(item.hint)
    if tv is not None:
        return _settings(f'monomorphise = [{{ item = {_quoted(item.item)}, {tv.group(1)} = "<type>" }}]')
    if "`Any`" in item.hint or item.detail.strip() == "Any":
        first = "allow-partial = true" if partial else 'any = "map"'
        return _settings(first, allow_any, what=" as `any`")
    if "has no annotation" in text or "missing return annotation" in text:
        return (_settings("allow-partial = true", allow_any, what=" as `any`") if partial
                else _settings(allow_any, what=" as `any`"))
    if "`object`" in item.hint and not partial:
        return _settings('any = "map"', what=" as `any`")
    return _none(item.hint or "the type is not in the type table")


def _overload(item: SkippedItem, target: str, dist: str) -> Remedy:
    arm = _SUPERSET.search(item.hint)
    if arm is not None:   # no arm maps: what would make the covering arm map
        inner = remedy(SkippedItem(item.path, arm.group(1), arm.group(2), arm.group(2), item.tier),
                       target=target, dist=dist)
        if inner.setting:
            return inner
    return _none(item.hint or "no arm of the @overload maps")


def _untyped(item: SkippedItem, target: str, dist: str) -> Remedy:
    if "fallback is off" in item.detail:
        return _settings("fallback = true", where="[python.stubgen]")
    return _none("no stubs in any tier, and stubgen found none")


def _target(item: SkippedItem, target: str, dist: str) -> Remedy:
    on = target or "this target"
    return Remedy("--target native", f"not available on target {on}; try --target native")


def _fixed(why: str) -> Callable[[SkippedItem, str, str], Remedy]:
    return lambda item, target, dist: _none(why)


#: Skip reason token -> the setting that binds such an item, or why none does (docs/value-encoding.md).
REMEDIES: Mapping[str, Callable[[SkippedItem, str, str], Remedy]] = {
    "SkipUnknown": _fixed("a stub file of the package does not parse for this target's Python version or platform"),
    "SkipNoComplexType": _fixed("Mochi has no complex type"),
    "SkipOpenUnion": _fixed("the union has no boundary form"),
    "SkipParamSpec": _fixed("`*args`, `**kwargs`, ParamSpec and `Callable[..., R]` cannot be declared on an extern"),
    "SkipTypeVarTuple": _fixed("variadic generics cannot be declared on an extern"),
    "SkipForwardRef": _fixed("the name is not defined in this distribution's stubs"),
    "SkipUnsupportedTypingConstruct": _typing,
    "SkipCFunctionWithoutStubs": _fixed("the package ships no stubs for this compiled module"),
    "SkipOverloadAmbiguity": _overload,
    "SkipUntypedPackage": _untyped,
    "SkipImportTimeNetwork": _fixed("importing the module opens a network connection, which stubgen does not allow"),
    "SkipImportTimeError": _fixed("stubgen could not import the module"),
    "SkipPrivateName": _fixed("names with a leading underscore are not bound"),
    "SkipDunder": _fixed("`__dunder__` functions and methods are not bound"),
    "SkipDescriptor": _fixed("descriptor classes are not bound"),
    "SkipMetaclass": _fixed("classes with a custom metaclass are not bound"),
    "SkipDynamicAttribute": _fixed("attributes resolved at runtime are not in the stubs"),
    "SkipIncompatibleAsyncRuntime": _fixed("the package needs an event loop other than asyncio"),
    "SkipBytearrayMutable": _fixed("the function writes to a bytearray argument"),
    "SkipPyodideUnavailable": _fixed("the package has no Pyodide build"),
    "SkipWasiUnavailable": _fixed("the package has no WASI build"),
    "SkipTargetUnrepresentable": _target,
    "SkipStatelessFfi": lambda item, target, dist: _settings(
        'mochi-dialect = "mep-71"', what=" for Mochi (`wasmtool call` and `run` reach it already)"),
}


def remedy(item: SkippedItem, *, target: str = "", dist: str = "") -> Remedy:
    """The setting that would bind ``item`` (from :data:`REMEDIES`), or why none does."""
    rule = REMEDIES.get(item.reason)
    if rule is None:
        return _none(f"unknown skip reason {item.reason}")
    return rule(item, target, dist)


def submodule_remedy(module: str, package: str, dist: str, import_names: Sequence[str]) -> Remedy:
    """``module`` (``dateutil.relativedelta``) is not among the modules bound for ``dist``:
    the dependency's ``submodules`` or ``import-names`` would bind it."""
    rel = module.removeprefix(package + ".")
    names = ", ".join(_quoted(n) for n in (*import_names, module))
    return Remedy(
        f'submodules = ["{rel}"]',
        f"`{module}` is not bound: if it is a submodule, bind it with `submodules = [{_quoted(rel)}]` or "
        f"`import-names = [{names}]` in the {dist} entry of [python-dependencies], then `wasmtool bind`")
