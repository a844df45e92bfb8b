"""``wasmtool call --target wasi-p2 --component REF ALIAS.FUNC``: call a component pulled from an
OCI registry, with no lock, workspace or install of its own (docs/remote-cache.md).

* :func:`fetch_component` reads the manifest under REF (the trust root, as for ``pull``) and
  keeps the artifact in the cache under its manifest digest,
  ``<cache>/oci-components/<hex>/`` (``component.wasm``, ``config.json``, ``manifest.json``):
  content-addressed, so a later call of the same manifest fetches no blob. Every blob is
  checked against the SHA-256 its descriptor names when fetched (``WT976`` otherwise), and
  again, from the cache, before each use (a cached copy that no longer matches is fetched
  again).
* The component's plans travel in its config (``dev.wasmtool.plans``, written by ``push``;
  see :func:`wasmtool.ops.oci.plan_bundle`): per alias, ``alias.func`` -> WIT interface,
  function and value types. An artifact without them is ``WT978``; an alias it does not serve
  is ``WT979``.
* Capabilities: a pulled component is granted nothing (no folder, no environment variable)
  unless the CALLING project grants them: the grants its ``mochi.lock`` records for the
  distributions the component carries (the rule of an installed component), folders taken in
  the calling project. The artifact's own wishes are never read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmtool.cache.errors import ComponentPlanError, PulledAliasError, RemoteArtifactError, RemoteDigestError
from wasmtool.cache.oci import OciClient, parse_ref
from wasmtool.ops.oci import DEFAULT_TIMEOUT, PLAN_CONFIG_KEY, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE
from wasmtool.project.capabilities import Grants

__all__ = ["PulledComponent", "call_component", "fetch_component", "pulled_grants"]

_FOLDER = "oci-components"


@dataclass(frozen=True)
class PulledComponent:
    """A component artifact in the cache: its folder, manifest digest and plan bundle."""

    directory: Path
    digest: str
    bundle: Mapping[str, Any]
    fetched: bool          # False: every blob came from the cache

    @property
    def wasm(self) -> Path:
        return self.directory / "component.wasm"

    @property
    def aliases(self) -> list[str]:
        return sorted(self.bundle.get("aliases", {}))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _descriptors(manifest: Mapping[str, Any], ref: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The config and the one ``application/wasm`` layer of a Wasm component manifest."""
    config = manifest.get("config")
    if not isinstance(config, dict) or config.get("mediaType") != WASM_CONFIG_MEDIA_TYPE:
        kind = config.get("mediaType") if isinstance(config, dict) else None
        raise RemoteArtifactError(f"{ref}: config media type {kind!r} is not a Wasm component "
                                  f"({WASM_CONFIG_MEDIA_TYPE})", file=ref)
    layers = [layer for layer in manifest.get("layers", []) if isinstance(layer, dict)
              and layer.get("mediaType") == WASM_LAYER_MEDIA_TYPE]
    if len(layers) != 1:
        raise RemoteArtifactError(f"{ref}: a Wasm artifact has {len(layers)} application/wasm layers, expected one",
                                  file=ref)
    for d in (config, layers[0]):
        if not isinstance(d.get("digest"), str) or not str(d["digest"]).startswith("sha256:"):
            raise RemoteArtifactError(f"{ref}: a descriptor names no sha256 digest", file=ref)
    return config, layers[0]


def _cached_ok(folder: Path, config: Mapping[str, Any], layer: Mapping[str, Any]) -> bool:
    """The cached copy's files hash to the manifest's descriptors (checked before every use)."""
    wasm, conf = folder / "component.wasm", folder / "config.json"
    return (wasm.is_file() and conf.is_file() and _sha256(conf) == config["digest"]
            and _sha256(wasm) == layer["digest"])


def _bundle(config_path: Path, ref: str) -> dict[str, Any]:
    """The plan bundle in a (verified) Wasm config; ``WT978`` when there is none."""
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ComponentPlanError(f"{ref}: the component's config is not JSON: {exc}", file=ref) from exc
    bundle = data.get(PLAN_CONFIG_KEY) if isinstance(data, dict) else None
    if bundle is None:
        raise ComponentPlanError(
            f"{ref}: the component carries no wasmtool plan ({PLAN_CONFIG_KEY} in its config), so its "
            "functions cannot be called by ALIAS.FUNC", file=ref,
            hint="push it again with this wasmtool (`wasmtool push --target wasi-p2 REF`)")
    aliases = bundle.get("aliases") if isinstance(bundle, dict) else None
    build = bundle.get("build") if isinstance(bundle, dict) else None
    if (not isinstance(aliases, dict) or not aliases or not isinstance(build, dict)
            or not all(isinstance(v, dict) for v in aliases.values())):
        raise ComponentPlanError(f"{ref}: the component's {PLAN_CONFIG_KEY} is malformed (no aliases or build)",
                                 file=ref, hint="push it again with this wasmtool")
    return dict(bundle)


def fetch_component(ref_text: str, cache_root: Path, *, timeout: float = DEFAULT_TIMEOUT) -> PulledComponent:
    """The component artifact under ``ref_text``, in the cache (fetched when not there yet)."""
    ref = parse_ref(ref_text, what="--component", need_tag=True)
    with OciClient(ref, timeout=timeout) as client:
        manifest, digest = client.get_manifest(ref.tag)
        config, layer = _descriptors(manifest, str(ref))
        folder = cache_root / _FOLDER / digest.removeprefix("sha256:")
        fetched = False
        if not _cached_ok(folder, config, layer):
            fetched = True
            (cache_root / _FOLDER).mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_root / _FOLDER))
            try:
                client.fetch_blob(str(config["digest"]), tmp / "config.json", size=_size(config))
                _bundle(tmp / "config.json", str(ref))   # refuse before fetching a large layer
                client.fetch_blob(str(layer["digest"]), tmp / "component.wasm", size=_size(layer))
                (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                                   encoding="utf-8")
                if folder.exists() and not _cached_ok(folder, config, layer):
                    shutil.rmtree(folder)        # a cached copy that no longer matched
                try:
                    tmp.rename(folder)           # atomic: a reader sees all of it or nothing
                except OSError:
                    if not folder.is_dir():      # else another call put the same digest there first
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            if not _cached_ok(folder, config, layer):   # pragma: no cover - a concurrent writer's bad copy
                raise RemoteDigestError(f"{ref}: the cached component does not match its manifest", file=str(folder))
    return PulledComponent(directory=folder, digest=digest, bundle=_bundle(folder / "config.json", str(ref)),
                           fetched=fetched)


def _size(descriptor: Mapping[str, Any]) -> int | None:
    size = descriptor.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def pulled_grants(root: Path, target: str, carried_wheels: Sequence[str], alias: str) -> tuple[str, Grants]:
    """``(grantee, grants)`` for a pulled component called from the project at ``root``: the
    grants the caller's ``mochi.lock`` records for the distributions the component carries;
    no lock (or nothing recorded), nothing."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    from wasmtool.lock.io import LOCK_NAME, read_lock

    carried: set[str] = set()
    for wheel in carried_wheels:
        try:
            carried.add(str(parse_wheel_filename(wheel)[0]))
        except InvalidWheelFilename:
            continue
    grantee = alias if str(canonicalize_name(alias)) in carried else ""
    lock_path = root / LOCK_NAME
    if not lock_path.is_file():
        return grantee, Grants()
    lock = read_lock(lock_path)
    entry = next((p for p in lock.for_target(target) if p.alias == alias), None)
    if entry is not None and str(canonicalize_name(entry.name)) in carried:
        grantee = str(canonicalize_name(entry.name))
    grants = Grants()
    for name, granted in lock.capabilities:
        if name in carried:
            grants = grants.union(granted)
    return grantee, grants


def _method(plan: Any, alias: str, rest: str, n_args: int | None = None) -> str:
    """The extern name ``alias.rest`` means in ``plan`` (as a session resolves it without a
    workspace: ``alias_rest``, the extern or WIT path itself, else a unique Python target, or
    among several (an overload's arms, a name also defined in a submodule) the one of the
    outermost module that takes ``n_args`` arguments); ``rest`` itself when nothing matches
    (the runtime then lists what it exports)."""
    from wasmtool.mochi_syntax import spell_inner_digits

    functions = [fn for _iface, fn in plan.functions()]
    externs = {fn.extern_name for fn in functions}
    for candidate in (f"{alias}_{rest.replace('.', '_')}", rest):
        for spelled in dict.fromkeys((candidate, spell_inner_digits(candidate))):
            if spelled in externs:
                return spelled
    by_target = [fn.extern_name for fn in functions
                 if fn.target.partition(":")[2] == rest or fn.target.replace(":", ".").endswith("." + rest)]
    if len(by_target) > 1 and n_args is not None:
        fits = [fn for fn in functions if fn.extern_name in by_target and len(fn.params) == n_args]
        depth = min((fn.target.partition(":")[0].count(".") for fn in fits), default=0)
        outer = [str(fn.extern_name) for fn in fits if fn.target.partition(":")[0].count(".") == depth]
        if len(outer) == 1:
            return outer[0]
    return by_target[0] if len(by_target) == 1 else rest


def call_component(root: Path, target: str, ref_text: str, name: str, args: Sequence[Any],
                   kwargs: Mapping[str, Any], *, cache_root: Path, timeout: float | None = None,
                   registry_timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Call ``name`` (``ALIAS.FUNC``) in the component under ``ref_text``, from the project at
    ``root`` (which grants its capabilities, if any); returns the decoded result."""
    from wasmtool.run.wasi import WasiComponentRuntime
    from wasmtool.wit.build import DEFAULT_ENGINE_CONFIG, BuiltComponent, cwasm_path_for, engine_key
    from wasmtool.wit.model import WitPlan

    pulled = fetch_component(ref_text, cache_root, timeout=registry_timeout)
    alias, _dot, rest = name.partition(".")
    plans = pulled.bundle["aliases"]
    if alias not in plans or not rest:
        raise PulledAliasError(f"{name}: the component at {ref_text} serves the aliases "
                               f"{', '.join(pulled.aliases)}; call one as ALIAS.FUNC", field="ALIAS.FUNC")
    build = pulled.bundle["build"]
    try:
        plan = WitPlan.from_dict(plans[alias])
        input_hash = str(build["input_hash"])
        world = str(build["world"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ComponentPlanError(f"{ref_text}: the plan of alias {alias!r} is malformed: {exc}",
                                 file=ref_text) from exc
    built = BuiltComponent(path=pulled.wasm,
                           cwasm_path=cwasm_path_for(pulled.wasm, engine_key(DEFAULT_ENGINE_CONFIG), input_hash),
                           wit_dir=pulled.directory / "wit", world=world, input_hash=input_hash, plan=plan,
                           externs_module=str(build.get("externs_module", "")), from_cache=True)
    wheels = build.get("wheels", [])
    grantee, grants = pulled_grants(root, target, [str(w) for w in wheels] if isinstance(wheels, list) else [],
                                    alias)
    with WasiComponentRuntime(built, grants=grants, root=root, grantee=grantee) as runtime:
        method = _method(plan, alias, rest, len(args) + len(kwargs))
        return runtime.call(method, list(args), dict(kwargs), timeout=timeout)
