"""The ``mochi.lock`` model (formats.md §2) with a ``target`` on every entry.

``MochiLock.from_dict`` is lenient while reading and then validates strictly, reporting
every problem at once with its key path; ``to_dict`` is canonical (entries sorted by
target, name, version; lists sorted where order carries no meaning). No file or TOML work
happens here: see :mod:`wasmtool.lock.io`.

One lock holds several target profiles: an entry is identified by ``(target, name)``.
The lock records, per target, the requirement set it was resolved from (``inputs``), so
``lock --check`` can tell a changed manifest from a changed world.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from wasmtool.lock.errors import LockSchemaError, LockVersionError
from wasmtool.project.budget import MeasurementTable, measurement_to_dict, parse_measurements
from wasmtool.project.capabilities import CapabilityTable, parse_capabilities, table_to_dict

SCHEMA_VERSION = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
SOURCES = ("registry", "index", "git", "path", "distribution")
STUB_TIERS = ("", "stubs-package", "py.typed", "py.typed-partial", "typeshed", "stubgen", "none")


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    target: str
    source: str = "registry"
    alias: str = ""
    import_names: tuple[str, ...] = ()
    specifier: str = ""
    index_url: str = ""
    origin: str = ""               # "index" or "pyodide-lock" (distribution packages)
    wheel_filename: str = ""
    wheel_url: str = ""
    sdist_filename: str = ""
    sdist_url: str = ""            # a wheel built from an sdist (docs/builds.md): the sdist it came from,
    sdist_sha256: str = ""
    build_backend: str = ""        # ... the PEP 517 backend, the build dependencies (`name==v --hash=sha256:h`),
    build_requires: tuple[str, ...] = ()
    build_python: str = ""         # ... the building Python, and the hash of all of these with the sdist's
    build_inputs_sha256: str = ""
    path: str = ""                 # source = "path": the folder, relative to the project, built into the wheel
    platform_tag: str = ""
    wheel_blake3: str = ""
    wheel_sha256: str = ""
    index_sha256: str = ""
    stub_provenance: str = ""
    stub_sha256: str = ""
    wrapper_sha256: str = ""
    shim_sha256: str = ""
    capabilities_declared: tuple[str, ...] = ()
    type_features: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    markers: str = ""
    requires_python: str = ""
    attestation_bundle: str = ""   # sha256 of the PEP 740 provenance the file verified against
    attestation_verified: bool = False
    attestation_publisher: str = ""    # the verified publisher label (docs/attestations.md)
    attestation_predicate: str = ""    # the attestations' predicate type(s)
    attestation_trust_root: str = ""   # "production", "staging" or "sha256:<hex>" of a trusted-root file
    audit_verdict: str = ""        # wheel audit at lock time (docs/audit.md): "ok" | "findings" | "skipped"
    audit_inputs_sha256: str = ""  # hash of the audit's inputs: a verdict is reused while it matches
    audit_findings: tuple[str, ...] = ()   # one "rule member subject" line per finding
    freethread_status: str = ""    # free-threaded locks only: "full" | "pure" | "untested" | "incompatible"
    skipped_count: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.target, self.name)

    @property
    def dependency_names(self) -> tuple[str, ...]:
        """The canonical names of ``dependencies`` (entries are ``name==version``), sorted."""
        from packaging.utils import canonicalize_name

        return tuple(sorted({str(canonicalize_name(d.partition("==")[0])) for d in self.dependencies}))

    @property
    def label(self) -> str:
        """``name:alias`` as used in drift lines (formats.md §2)."""
        return f"{self.name}:{self.alias}" if self.alias else self.name


_LIST_FIELDS = {"import_names", "capabilities_declared", "type_features", "extras", "dependencies",
                "build_requires", "audit_findings"}
_BOOL_FIELDS = {"attestation_verified"}
_INT_FIELDS = {"skipped_count"}
_REQUIRED = ("name", "version", "target", "source")
_SORTED_LISTS = {"capabilities_declared", "type_features", "extras", "dependencies", "import_names",
                 "build_requires", "audit_findings"}
AUDIT_VERDICTS = ("", "ok", "findings", "skipped")
FREETHREAD_STATUSES = ("", "full", "pure", "untested", "incompatible")
_FIELD_NAMES = [f.name for f in fields(LockedPackage)]
_KEY_TO_FIELD = {n.replace("_", "-"): n for n in _FIELD_NAMES}
_KEY_ALIASES = {"pypi-simple-sha256": "index-sha256"}


@dataclass(frozen=True)
class TargetInputs:
    """What one target was locked from: the profile and the requirement set."""

    target: str
    python_version: str
    requirements: tuple[str, ...]
    index_url: str = ""
    abi_tag_policy: str = ""       # recorded when not the default "both" (docs/audit.md)
    freethread_status: str = ""    # "free-threaded" for a free-threaded lock, else "" (GIL)


@dataclass(frozen=True)
class MochiLock:
    packages: tuple[LockedPackage, ...] = ()
    inputs: tuple[TargetInputs, ...] = ()
    requires_python: str = ""
    created_by: str = "wasmtool"
    tool_fields: Mapping[str, Any] = field(default_factory=dict)
    #: ``[python-capabilities.<package>]``: the grants accepted for each package
    #: (wasmtool/project/capabilities.py); none recorded = nothing granted.
    capabilities: CapabilityTable = ()
    #: ``[budget.<target>]``: the last cold-start measurement of each target's bundle
    #: (``install --smoke`` with a ``[python.budget.<target>]``; wasmtool/project/budget.py).
    budget: MeasurementTable = ()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(sorted({i.target for i in self.inputs} | {p.target for p in self.packages}))

    def for_target(self, target: str) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.target == target)

    def inputs_for(self, target: str) -> TargetInputs | None:
        return next((i for i in self.inputs if i.target == target), None)

    def replace_target(self, target: str, inputs: TargetInputs, packages: list[LockedPackage]) -> MochiLock:
        """A new lock in which ``target``'s entries are replaced; other targets are kept."""
        kept = [p for p in self.packages if p.target != target]
        kept_inputs = [i for i in self.inputs if i.target != target]
        return replace(self, packages=tuple(kept + packages), inputs=tuple([*kept_inputs, inputs]))

    # -- canonical dict -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema-version": SCHEMA_VERSION, "created-by": self.created_by}
        if self.requires_python:
            out["requires-python"] = self.requires_python
        out["target"] = [
            {k: v for k, v in {
                "name": i.target, "python-version": i.python_version,
                "index-url": i.index_url, "requirements": sorted(i.requirements),
                "abi-tag-policy": i.abi_tag_policy, "freethread-status": i.freethread_status,
            }.items() if v != ""}
            for i in sorted(self.inputs, key=lambda i: i.target)
        ]
        out["python-package"] = [
            _package_to_dict(p) for p in sorted(self.packages, key=lambda p: (p.target, p.name, p.version))
        ]
        if table_to_dict(self.capabilities):
            out["python-capabilities"] = table_to_dict(self.capabilities)
        if self.budget:
            out["budget"] = {m.target: measurement_to_dict(m) for m in sorted(self.budget, key=lambda m: m.target)}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str = "mochi.lock") -> MochiLock:
        problems: list[str] = []
        version = data.get("schema-version")
        if version is None:
            problems.append("schema-version: missing")
        elif not isinstance(version, int) or isinstance(version, bool):
            problems.append(f"schema-version: expected an integer, got {version!r}")
        elif version != SCHEMA_VERSION:
            raise LockVersionError(
                f"schema-version {version} is not supported (this wasmtool reads {SCHEMA_VERSION})",
                file=file, field="schema-version",
                hint="upgrade wasmtool, or re-create the lock with `wasmtool lock`",
            )
        for key in data:
            if key not in ("schema-version", "created-by", "requires-python", "target", "python-package",
                           "python-capabilities", "budget"):
                problems.append(f"{key}: unknown key")
        inputs = _parse_inputs(data.get("target", []), problems)
        capabilities = parse_capabilities(data.get("python-capabilities", {}), problems, path="python-capabilities")
        budget = parse_measurements(data.get("budget", {}), problems)
        raw_packages = data.get("python-package", [])
        packages: list[LockedPackage] = []
        if not isinstance(raw_packages, list):
            problems.append("python-package: expected an array of tables")
        else:
            for i, raw in enumerate(raw_packages):
                pkg = _parse_package(raw, f"python-package[{i}]", problems)
                if pkg is not None:
                    packages.append(pkg)
        seen: set[tuple[str, str]] = set()
        for i, p in enumerate(packages):
            if p.key in seen:
                problems.append(f"python-package[{i}]: duplicate entry for {p.name} on target {p.target}")
            seen.add(p.key)
        if problems:
            raise LockSchemaError(problems, file=file)
        return cls(
            packages=tuple(packages),
            inputs=tuple(inputs),
            requires_python=str(data.get("requires-python", "")),
            created_by=str(data.get("created-by", "wasmtool")),
            capabilities=tuple((n, g) for n, g in capabilities if not g.is_empty()),
            budget=budget,
        )


def _package_to_dict(p: LockedPackage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(p, name)
        if name in _SORTED_LISTS:
            value = sorted(value)
        if value in ("", (), [], False, 0) and name not in _REQUIRED:
            continue
        out[name.replace("_", "-")] = list(value) if isinstance(value, tuple) else value
    return out


def _parse_inputs(raw: Any, problems: list[str]) -> list[TargetInputs]:
    if not isinstance(raw, list):
        problems.append("target: expected an array of tables")
        return []
    out: list[TargetInputs] = []
    for i, t in enumerate(raw):
        path = f"target[{i}]"
        if not isinstance(t, Mapping):
            problems.append(f"{path}: expected a table")
            continue
        name, pyver = t.get("name"), t.get("python-version", "")
        reqs = t.get("requirements", [])
        if not isinstance(name, str) or not name:
            problems.append(f"{path}.name: missing or not a string")
            continue
        if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
            problems.append(f"{path}.requirements: expected a list of strings")
            continue
        for key in t:
            if key not in ("name", "python-version", "requirements", "index-url", "abi-tag-policy",
                           "freethread-status"):
                problems.append(f"{path}.{key}: unknown key")
        if t.get("abi-tag-policy", "legacy") not in ("legacy", "abi2026"):   # "both" (the default) is not written
            problems.append(f"{path}.abi-tag-policy: expected legacy or abi2026, got {t['abi-tag-policy']!r}")
            continue
        if t.get("freethread-status", "free-threaded") != "free-threaded":
            problems.append(f"{path}.freethread-status: expected \"free-threaded\", got {t['freethread-status']!r}")
            continue
        out.append(TargetInputs(name, str(pyver), tuple(reqs), str(t.get("index-url", "")),
                                str(t.get("abi-tag-policy", "")), str(t.get("freethread-status", ""))))
    return out


def _parse_package(raw: Any, path: str, problems: list[str]) -> LockedPackage | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: expected a table")
        return None
    values: dict[str, Any] = {}
    start = len(problems)
    for key, value in raw.items():
        canonical = _KEY_ALIASES.get(str(key), str(key))
        fname = _KEY_TO_FIELD.get(canonical)
        if fname is None:
            problems.append(f"{path}.{key}: unknown key")
            continue
        if key != canonical and canonical in raw and raw[canonical] != value:
            problems.append(f"{path}.{key}: alias of {canonical} with a different value")
            continue
        if fname in _LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{path}.{key}: expected a list of strings")
                continue
            value = tuple(value)
        elif fname in _BOOL_FIELDS:
            if not isinstance(value, bool):
                problems.append(f"{path}.{key}: expected a boolean")
                continue
        elif fname in _INT_FIELDS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"{path}.{key}: expected a non-negative integer")
                continue
        elif not isinstance(value, str):
            problems.append(f"{path}.{key}: expected a string")
            continue
        values[fname] = value
    for req in _REQUIRED:
        if not values.get(req):
            problems.append(f"{path}.{req.replace('_', '-')}: missing")
    for hfield in ("wheel_sha256", "index_sha256", "stub_sha256", "wrapper_sha256", "shim_sha256", "wheel_blake3",
                   "sdist_sha256", "build_inputs_sha256", "audit_inputs_sha256"):
        v = values.get(hfield, "")
        if v and not _HEX64.match(v):
            problems.append(f"{path}.{hfield.replace('_', '-')}: expected 64 lowercase hex digits")
    if values.get("source") and values["source"] not in SOURCES:
        problems.append(f"{path}.source: expected one of {', '.join(SOURCES)}, got {values['source']!r}")
    if values.get("audit_verdict", "") not in AUDIT_VERDICTS:
        problems.append(f"{path}.audit-verdict: expected ok, findings or skipped, got {values['audit_verdict']!r}")
    if values.get("freethread_status", "") not in FREETHREAD_STATUSES:
        problems.append(f"{path}.freethread-status: expected full, pure, untested or incompatible, "
                        f"got {values['freethread_status']!r}")
    if values.get("stub_provenance", "") not in STUB_TIERS:
        problems.append(f"{path}.stub-provenance: unknown tier {values['stub_provenance']!r}")
    if (values.get("index_sha256") and values.get("wheel_sha256")
            and values["index_sha256"] != values["wheel_sha256"]):
        problems.append(f"{path}.index-sha256: differs from wheel-sha256")
    if len(problems) > start:
        return None
    return LockedPackage(**values)
