"""``mochi.toml``: parse (pure) and load (IO). Lenient read, then strict validation that
reports every problem at once with its key path (formats.md §1)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, canonicalize_name

from wasmtool.attest.policy import PublisherPin, parse_pin
from wasmtool.mochi_syntax import MOCHI_KEYWORDS
from wasmtool.project.budget import BudgetTable, parse_budgets
from wasmtool.project.capabilities import CapabilityTable, parse_capabilities
from wasmtool.project.errors import (
    BudgetSettingError,
    ImportSpecError,
    ManifestError,
    ManifestMissingError,
    ManifestSyntaxError,
)
from wasmtool.project.spec import expand_version_set
from wasmtool.targets.profile import DEFAULT_TARGET
from wasmtool.tomlfile import loads_toml, read_toml_text


@dataclass(frozen=True)
class IndexSetting:
    url: str
    name: str = ""
    priority: str = "supplemental"


@dataclass(frozen=True)
class PythonSettings:
    requires_python: str = ">=3.12"
    python_version: str | None = None
    implementation: str = "cpython"
    target: str = DEFAULT_TARGET
    targets: tuple[str, ...] = ()
    runtime_mode: str = "auto"   # "auto" | "embedded" (= "inprocess") | "subprocess"
    async_mode: str = "per-call"
    index_url: str | None = None
    indexes: tuple[IndexSetting, ...] = ()
    venv: str = ".mochi/venv"
    allow_partial: bool = False
    allow_any: tuple[str, ...] = ()     # wasmtool addition: item patterns whose `Any` maps to `any`
    monomorphise: tuple[tuple[str, str], ...] = ()   # ("<item>.<TypeVar or parameter>", "<type>")
    typeshed: bool = True
    stubgen: dict[str, Any] | None = None   # formats.md §1.2 table, read by StubgenPolicy.from_config
    pyodide_packages: str = "index-first"   # wasmtool addition: "index-first" | "distribution"
    strict_return_types: bool = True
    int_mode: str = "bigint"
    mochi_dialect: str = "0.10"   # shim dialect: "0.10" (released Mochi) | "mep-71"
    any_policy: str = "map"       # `any`: "map" (a declared Any of a complete stub tier is widened) | "skip"
    attestations: str = "warn"    # PEP 740 at lock time: "off" | "warn" | "require" (docs/attestations.md)
    build: str = "pure"           # sdists built into wheels: "pure" | "all" | "none" (docs/builds.md)
    accept_unreproducible_builds: bool = False   # install keeps a rebuilt wheel whose hash differs
    audit: str = "warn"           # wheel audit at lock time: "off" | "warn" | "require" (docs/audit.md)
    free_threaded: bool = False   # choose cp3XYt wheels (free-threaded CPython); docs/audit.md
    allow_untested_freethread: bool = False   # a GIL-only extension on a free-threaded lock: warn, not fail
    freethread_deny_list: tuple[str, ...] = ()   # PEP 508 requirements refused on a free-threaded lock
    abi_tag_policy: str = "both"  # which ABI tags a wheel may carry: "legacy" | "both" | "abi2026"


@dataclass(frozen=True)
class DependencySpec:
    name: str
    raw_name: str
    version: str = ""
    extras: tuple[str, ...] = ()
    markers: str = ""
    index: str = ""
    git: str = ""
    rev: str = ""
    path: str = ""
    editable: bool = False
    optional: bool = False
    groups: tuple[str, ...] = ()
    import_names: tuple[str, ...] = ()
    alias: str = ""          # the Mochi alias of the binding (python_wrap.<alias>); default from the name
    #: ``submodules``: ``None`` = not set (public submodules are bound unless ``import-names``
    #: is set), ``True``/``False``, or the submodules to bind, relative to the package (``"parser"``).
    submodules: bool | tuple[str, ...] | None = None
    #: ``trusted-publisher`` (+ ``workflow``): who must have signed this package's attestations.
    trusted_publisher: PublisherPin | None = None


@dataclass(frozen=True)
class Manifest:
    file: str
    name: str = ""
    python: PythonSettings = field(default_factory=PythonSettings)
    dependencies: tuple[DependencySpec, ...] = ()
    #: ``[browser] app``: the folder (relative to the project) whose files install copies into a
    #: Pyodide bundle; "" = none (the bundle's generated page). See wasmtool/bundle/app.py.
    browser_app: str = ""
    #: ``[python.capabilities.<package>]``: what each package may reach at run time, by canonical
    #: name (wasmtool/project/capabilities.py).
    capabilities: CapabilityTable = ()
    #: ``[python.budget.<target>]``: cold-start budgets, by target (wasmtool/project/budget.py).
    budgets: BudgetTable = ()
    #: ``[cache] remote``: the shared OCI remote cache, ``oci://host[:port]/repository``; "" = none
    #: (wasmtool/cache/remote.py); ``remote-timeout``: seconds, ``None`` = the default.
    cache_remote: str = ""
    cache_remote_timeout: float | None = None


_PY_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "requires-python": (str, "requires_python"), "python-version": (str, "python_version"),
    "implementation": (str, "implementation"), "target": (str, "target"), "targets": (list, "targets"),
    "runtime-mode": (str, "runtime_mode"), "async-mode": (str, "async_mode"), "index-url": (str, "index_url"),
    "indexes": (list, "indexes"), "venv": (str, "venv"), "allow-partial": (bool, "allow_partial"),
    "allow-any": (list, "allow_any"),
    "typeshed": (bool, "typeshed"), "strict-return-types": (bool, "strict_return_types"),
    "int-mode": (str, "int_mode"), "pyodide-packages": (str, "pyodide_packages"), "runtime": (dict, ""),
    "mochi-dialect": (str, "mochi_dialect"), "any": (str, "any_policy"), "attestations": (str, "attestations"),
    "build": (str, "build"), "accept-unreproducible-builds": (bool, "accept_unreproducible_builds"),
    # accepted and validated by later phases; kept so that manifests using them parse
    "stubgen": (dict, "stubgen"), "typeshed-revision": (str, ""), "monomorphise": (list, "monomorphise"),
    "free-threaded": (bool, "free_threaded"), "allow-untested-freethread": (bool, "allow_untested_freethread"),
    "freethread-deny-list": (list, "freethread_deny_list"), "audit": (str, "audit"),
    "abi-tag-policy": (str, "abi_tag_policy"), "require-attestations": (bool, ""), "attestation": (str, ""),
    "allowed-builders": (list, ""), "trusted-publishers": (list, ""), "pyodide-abi": (str, ""),
    "sidecar-glob": (str, ""), "publish": (dict, ""), "capabilities": (dict, ""), "budget": (dict, ""),
}
_DEP_KEYS: dict[str, type | tuple[type, ...]] = {
    "version": str, "extras": list, "markers": str, "index": str, "git": str, "rev": str, "tag": str,
    "branch": str, "path": str, "editable": bool, "optional": bool, "groups": list, "import-names": list,
    "alias": str, "submodules": (bool, list), "trusted-publisher": (str, dict), "workflow": str}
_TOP_KEYS = {"name", "version", "description", "python", "python-dependencies", "package", "capabilities",
             "dependencies", "authors", "license", "browser", "cache"}


def parse_manifest(text: str, *, file: str) -> Manifest:
    data = loads_toml(text, file=file, error=ManifestSyntaxError)
    problems: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key")
    python = _parse_python(data.get("python", {}), problems)
    deps = _parse_deps(data.get("python-dependencies", {}), problems)
    browser_app = _parse_browser(data.get("browser", {}), problems)
    cache_remote, cache_timeout = _parse_cache(data.get("cache", {}), problems)
    raw_python = data.get("python", {})
    raw_caps = raw_python.get("capabilities") if isinstance(raw_python, dict) else None
    capabilities = parse_capabilities(raw_caps, problems) if isinstance(raw_caps, dict) else ()
    name = data.get("name", "")
    if problems:
        raise ManifestError(problems, file=file)
    raw_budget = raw_python.get("budget") if isinstance(raw_python, dict) else None
    budget_problems: list[str] = []
    budgets = parse_budgets(raw_budget, budget_problems) if isinstance(raw_budget, dict) else ()
    if budget_problems:
        raise BudgetSettingError(budget_problems, file=file)
    return Manifest(file=file, name=str(name), python=python, dependencies=deps, browser_app=browser_app,
                    capabilities=capabilities, budgets=budgets, cache_remote=cache_remote,
                    cache_remote_timeout=cache_timeout)


def _parse_cache(raw: Any, problems: list[str]) -> tuple[str, float | None]:
    """``[cache]``: ``remote`` (an ``oci://`` URL, checked when used) and ``remote-timeout`` (seconds)."""
    if not isinstance(raw, dict):
        problems.append("cache: expected a table")
        return "", None
    for key in raw:
        if key not in ("remote", "remote-timeout"):
            problems.append(f"cache.{key}: unknown key")
    remote = raw.get("remote", "")
    if not isinstance(remote, str) or (remote and not remote.startswith(("oci://", "oci+http://"))):
        problems.append(f"cache.remote: {remote!r}: expected \"oci://host[:port]/repository\"")
        remote = ""
    timeout = raw.get("remote-timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout <= 3600):
        problems.append(f"cache.remote-timeout: {timeout!r}: expected seconds between 0 and 3600")
        timeout = None
    return remote, None if timeout is None else float(timeout)


def _parse_browser(raw: Any, problems: list[str]) -> str:
    """``[browser]``: ``app``, a relative folder without ``..`` (the app's static files)."""
    if not isinstance(raw, dict):
        problems.append("browser: expected a table")
        return ""
    for key in raw:
        if key != "app":
            problems.append(f"browser.{key}: unknown key")
    app = raw.get("app", "")
    if not isinstance(app, str):
        problems.append(f"browser.app: expected str, got {type(app).__name__}")
        return ""
    if "app" in raw and (not app.strip("/") or _CONTROL.search(app) or app.startswith(("/", "\\"))
                         or re.match(r"[A-Za-z]:", app) or ".." in re.split(r"[/\\]", app)):
        problems.append(f"browser.app: {app!r}: expected a folder inside the project (relative, without '..')")
        return ""
    return app


def load_manifest(path: Path) -> Manifest:
    try:
        text = read_toml_text(path, ManifestSyntaxError)
    except FileNotFoundError as exc:
        raise ManifestMissingError("no mochi.toml", file=str(path),
                                   hint="create one, or run `wasmtool add python <spec>`") from exc
    return parse_manifest(text, file=str(path))


def _typed(value: Any, want: type | tuple[type, ...]) -> bool:
    if isinstance(want, tuple):
        return any(_typed(value, w) for w in want)
    if want is bool:
        return isinstance(value, bool)
    if want is list:
        return isinstance(value, list)
    return isinstance(value, want) and not isinstance(value, bool)


def _parse_python(raw: Any, problems: list[str]) -> PythonSettings:
    if not isinstance(raw, dict):
        problems.append("python: expected a table")
        return PythonSettings()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = _PY_KEYS.get(key)
        if spec is None:
            problems.append(f"python.{key}: unknown key")
            continue
        want, attr = spec
        if not _typed(value, want):
            problems.append(f"python.{key}: expected {getattr(want, '__name__', want)}, got {type(value).__name__}")
            continue
        if attr:
            values[attr] = value
    if isinstance(raw.get("runtime"), dict):
        loop = raw["runtime"].get("event-loop")
        if loop is not None:
            if "async_mode" in values and values["async_mode"] != loop:
                problems.append("python.runtime.event-loop: alias of async-mode with a different value")
            values.setdefault("async_mode", loop)
    if values.get("async_mode") == "percall":
        values["async_mode"] = "per-call"
    checks = {"implementation": ("cpython",), "runtime_mode": ("auto", "embedded", "inprocess", "subprocess"),
              "async_mode": ("per-call", "persistent"), "int_mode": ("bigint", "int64-only"),
              "pyodide_packages": ("index-first", "distribution"), "mochi_dialect": ("0.10", "mep-71"),
              "any_policy": ("map", "skip"), "attestations": ("off", "warn", "require"),
              "build": ("pure", "all", "none"), "audit": ("off", "warn", "require"),
              "abi_tag_policy": ("legacy", "both", "abi2026")}
    keys = {attr: key for key, (_, attr) in _PY_KEYS.items() if attr}
    for attr, allowed in checks.items():
        if attr in values and values[attr] not in allowed:
            problems.append(f"python.{keys[attr]}: expected one of {', '.join(allowed)}, "
                            f"got {values[attr]!r}")
    if "requires_python" in values:
        try:
            SpecifierSet(values["requires_python"])
        except InvalidSpecifier:
            problems.append(f"python.requires-python: {values['requires_python']!r} is not a PEP 440 specifier")
    pv = values.get("python_version")
    if pv is not None and not (isinstance(pv, str) and re.fullmatch(r"\d+\.\d+", pv)):
        problems.append(f"python.python-version: expected X.Y, got {pv!r}")
    if "monomorphise" in values:
        pairs: list[tuple[str, str]] = []
        for i, entry in enumerate(values["monomorphise"]):
            item = entry.get("item") if isinstance(entry, dict) else None
            if not isinstance(item, str) or not item or len(entry) < 2:
                problems.append(f"python.monomorphise[{i}]: expected {{ item = \"pkg.fn\", <name> = \"<type>\" }}")
                continue
            for key, value in entry.items():
                if key == "item":
                    continue
                if not isinstance(value, str) or not value:
                    problems.append(f"python.monomorphise[{i}].{key}: expected a type annotation string")
                    continue
                pairs.append((f"{item}.{key}", value))
        values["monomorphise"] = tuple(sorted(set(pairs)))
    if "allow_any" in values:
        if not all(isinstance(t, str) and t for t in values["allow_any"]):
            problems.append("python.allow-any: expected a list of item patterns such as \"tomli.loads\" or \"yaml.*\"")
        values["allow_any"] = tuple(sorted(set(values["allow_any"])))
    if "freethread_deny_list" in values:
        deny: list[str] = []
        for i, item in enumerate(values["freethread_deny_list"]):
            try:
                deny.append(str(Requirement(item)) if isinstance(item, str) else "")
            except InvalidRequirement:
                deny.append("")
            if not deny[-1]:
                problems.append(f"python.freethread-deny-list[{i}]: expected a requirement such as \"lxml<6\", "
                                f"got {item!r}")
        values["freethread_deny_list"] = tuple(sorted({d for d in deny if d}))
    if "targets" in values:
        if not all(isinstance(t, str) for t in values["targets"]):
            problems.append("python.targets: expected a list of strings")
        else:
            values["targets"] = tuple(values["targets"])
    if "indexes" in values:
        idx: list[IndexSetting] = []
        for i, item in enumerate(values["indexes"]):
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                problems.append(f"python.indexes[{i}].url: missing or not a string")
                continue
            prio = item.get("priority", "supplemental")
            if prio not in ("primary", "supplemental", "explicit"):
                problems.append(f"python.indexes[{i}].priority: expected primary, supplemental or explicit")
                continue
            idx.append(IndexSetting(item["url"], str(item.get("name", "")), prio))
        values["indexes"] = tuple(idx)
    return PythonSettings(**values)


def _parse_deps(raw: Any, problems: list[str]) -> tuple[DependencySpec, ...]:
    if not isinstance(raw, dict):
        problems.append("python-dependencies: expected a table")
        return ()
    out: dict[str, DependencySpec] = {}
    for raw_name, value in raw.items():
        try:
            name = str(canonicalize_name(raw_name, validate=True))
        except InvalidName:
            path = f"python-dependencies.{json.dumps(raw_name, ensure_ascii=True)}"
            problems.append(f"{path}: not a valid package name (PEP 508: letters, digits, '.', '-', '_', "
                            "starting and ending with a letter or digit)")
            continue
        path = f"python-dependencies.{raw_name}"
        if name in out:
            problems.append(f"{path}: duplicate of {out[name].raw_name} (names are compared normalised)")
            continue
        table = {"version": value} if isinstance(value, str) else value
        if not isinstance(table, dict):
            problems.append(f"{path}: expected a version string or a table")
            continue
        vals: dict[str, Any] = {}
        bad = False
        for key, v in table.items():
            want = _DEP_KEYS.get(key)
            if want is None:
                problems.append(f"{path}.{key}: unknown key")
                bad = True
                continue
            if not _typed(v, want):
                problems.append(f"{path}.{key}: expected {_type_names(want)}, got {type(v).__name__}")
                bad = True
                continue
            vals[key] = v
        if bad:
            continue
        version = ""
        if vals.get("version"):
            try:
                version = expand_version_set(vals["version"])
            except ImportSpecError as exc:
                problems.append(f"{path}.version: {exc.reason}")
                continue
        if vals.get("markers"):
            try:
                if _CONTROL.search(vals["markers"]):
                    raise InvalidMarker("control character")
                Marker(vals["markers"])
            except InvalidMarker:
                problems.append(f"{path}.markers: invalid PEP 508 marker")
                bad = True
        extras: list[str] = []
        for i, extra in enumerate(vals.get("extras", [])):
            try:
                extras.append(str(canonicalize_name(extra, validate=True)) if isinstance(extra, str) else "")
            except InvalidName:
                extras.append("")
            if not extras[-1]:
                problems.append(f"{path}.extras[{i}]: {extra!r} is not a valid extra name (PEP 685: letters, "
                                "digits, '.', '-', '_', starting and ending with a letter or digit)")
                bad = True
        for key in ("index", "git", "rev", "tag", "branch"):
            if key in vals and not _SAFE_TEXT.fullmatch(vals[key]):
                problems.append(f"{path}.{key}: must be non-empty, without spaces or control characters")
                bad = True
        if "path" in vals and (not vals["path"] or _CONTROL.search(vals["path"])):
            problems.append(f"{path}.path: must be non-empty, without control characters")
            bad = True
        if bad:
            continue
        if not _forms_requirement(name, extras, version, vals):
            problems.append(f"{path}: does not form a valid PEP 508 requirement")
            continue
        refs = [k for k in ("rev", "tag", "branch") if k in vals]
        if len(refs) > 1:
            problems.append(f"{path}: at most one of rev, tag, branch")
        if refs and "git" not in vals:
            problems.append(f"{path}.{refs[0]}: only valid with git")
        if "git" in vals and "path" in vals:
            problems.append(f"{path}: git and path are exclusive")
        if ("git" in vals or "path" in vals) and version:
            problems.append(f"{path}.version: not allowed with git or path")
        if vals.get("editable") and "path" not in vals:
            problems.append(f"{path}.editable: only valid with path")
        submodules = _parse_submodules(vals.get("submodules"), f"{path}.submodules", problems)
        pin: PublisherPin | None = None
        if "trusted-publisher" in vals:
            parsed = parse_pin(vals["trusted-publisher"], workflow=vals.get("workflow"))
            if isinstance(parsed, str):
                problems.append(f"{path}.trusted-publisher: {parsed}")
            else:
                pin = parsed
        elif "workflow" in vals:
            problems.append(f"{path}.workflow: only valid with trusted-publisher")
        alias = vals.get("alias", "")
        if alias and (not re.fullmatch(r"[^\W\d]\w*", alias) or alias in MOCHI_KEYWORDS):
            problems.append(f"{path}.alias: {alias!r} is not a Mochi identifier (letters, digits, _; not a keyword)")
        out[name] = DependencySpec(
            name=name, raw_name=raw_name, version=version,
            extras=tuple(sorted(set(extras))),
            markers=vals.get("markers", ""), index=vals.get("index", ""), git=vals.get("git", ""),
            rev=vals.get("rev") or vals.get("tag") or vals.get("branch") or "", path=vals.get("path", ""),
            editable=vals.get("editable", False), optional=vals.get("optional", False),
            groups=tuple(vals.get("groups", [])), import_names=tuple(vals.get("import-names", [])),
            alias=vals.get("alias", ""), submodules=submodules, trusted_publisher=pin,
        )
    return tuple(out[k] for k in sorted(out))


def _type_names(want: type | tuple[type, ...]) -> str:
    return " or ".join(w.__name__ for w in want) if isinstance(want, tuple) else want.__name__


#: A submodule path relative to its package: dotted identifiers (``parser``, ``tz.tz``).
_SUBMODULE = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")


def _parse_submodules(value: Any, path: str, problems: list[str]) -> bool | tuple[str, ...] | None:
    """``submodules = true | false | ["parser", "tz"]`` (validated; the list sorted, deduplicated)."""
    if value is None or isinstance(value, bool):
        return value
    names: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _SUBMODULE.fullmatch(item):
            problems.append(f"{path}[{i}]: expected a submodule path relative to the package, such as \"parser\" "
                            f"or \"tz.tz\", got {item!r}")
            continue
        names.append(item)
    return tuple(sorted(set(names)))


#: Source fields (``git``, ``rev``, ``path``, ``index``, ...) become part of a requirement
#: or a command line: printable, no whitespace.
_SAFE_TEXT = re.compile(r"[^\s\x00-\x1f\x7f\x85\u2028\u2029]+")
#: Line breaks and other control characters: never part of a requirement.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _forms_requirement(name: str, extras: list[str], version: str, vals: dict[str, Any]) -> bool:
    """Whether the dependency, assembled as the resolver will see it, parses as one PEP 508
    requirement (the last line of defence: every part was checked on its own above)."""
    text = name + (f"[{','.join(extras)}]" if extras else "")
    if vals.get("git"):
        rev = vals.get("rev") or vals.get("tag") or vals.get("branch")
        text += f" @ git+{vals['git']}" + (f"@{rev}" if rev else "")
    else:
        text += version
    if vals.get("markers"):
        text += f" ; {vals['markers']}"
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return _CONTROL.search(text) is None
