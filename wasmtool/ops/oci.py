"""``wasmtool push`` / ``wasmtool pull``: share what an install made as OCI artifacts (docs/remote-cache.md).

``push --target T REF`` publishes what ``install --target=T`` left in ``.mochi/<T>/``:

* a built component (``component.wasm`` + ``build.json``; the project's component when the
  install made one, else the only package component, or each with ``per_package``) in the
  CNCF Wasm OCI artifact layout: config ``application/vnd.wasm.config.v0+json``, one
  ``application/wasm`` layer, annotations for the lock hash, the WIT world and the source
  packages;
* otherwise the folder itself (a Pyodide bundle) as one deterministic tar layer with config
  ``application/vnd.wasmtool.bundle.config.v1+json``.

Blobs go first and the manifest last (a push cut short shows nothing). ``pull REF -o DIR``
fetches either kind, checks every blob against its descriptor's SHA-256 and writes
``component.wasm`` (or the bundle's files) and ``oci-manifest.json`` into ``DIR``. What is
done with the artifact is decided by what is in the folder or the manifest, never by the
target's name.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmtool.cache.errors import RemoteArtifactError, RemoteProtocolError
from wasmtool.cache.oci import MANIFEST_MEDIA_TYPE, OciClient, OciRef, digest_of, parse_ref
from wasmtool.context import Context
from wasmtool.fsutil import sha256_file

__all__ = ["PLAN_CONFIG_KEY", "PullResult", "PushResult", "plan_bundle", "pull", "push"]

WASM_CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v0+json"
WASM_LAYER_MEDIA_TYPE = "application/wasm"
BUNDLE_CONFIG_MEDIA_TYPE = "application/vnd.wasmtool.bundle.config.v1+json"
BUNDLE_LAYER_MEDIA_TYPE = "application/vnd.wasmtool.bundle.v1.tar"
ANN_TITLE = "org.opencontainers.image.title"
ANN_LOCK = "dev.wasmtool.lock.sha256"
ANN_WORLD = "dev.wasmtool.wit.world"
ANN_PACKAGES = "dev.wasmtool.source.packages"
ANN_TARGET = "dev.wasmtool.target"
#: the folder a project install writes its one component into (wasmtool.wit.project)
PROJECT_COMPONENT_DIR = "project-component"
#: the key of the Wasm config that carries the plan bundle (see :func:`plan_bundle`)
PLAN_CONFIG_KEY = "dev.wasmtool.plans"
PLAN_BUNDLE_VERSION = 1
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class PushResult:
    pushed: tuple[tuple[str, str], ...]   # (reference, manifest digest)

    def lines(self) -> list[str]:
        return [f"pushed {ref} ({digest})" for ref, digest in self.pushed]


@dataclass(frozen=True)
class PullResult:
    kind: str          # "component" | "bundle"
    out: Path
    digest: str
    files: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"pulled {self.kind} {self.digest} into {self.out} ({len(self.files)} file(s))"]


def _components(place: Path) -> list[Path]:
    if not place.is_dir():
        return []
    return sorted(d for d in place.iterdir() if (d / "component.wasm").is_file() and (d / "build.json").is_file())


def _lock_facts(ctx: Context, target: str) -> tuple[str, str]:
    """The SHA-256 of ``mochi.lock`` and ``name==version`` of its entries for ``target``."""
    from wasmtool.lock.io import read_lock

    if not ctx.lock_path.is_file():
        return "", ""
    entries = sorted(f"{p.name}=={p.version}" for p in read_lock(ctx.lock_path).for_target(target))
    return sha256_file(ctx.lock_path), ",".join(entries)


def push(ctx: Context, target: str, ref_text: str, *, per_package: bool = False,
         timeout: float = DEFAULT_TIMEOUT) -> PushResult:
    ref = parse_ref(ref_text, what="REF", need_tag=True)
    place = ctx.root / ".mochi" / target
    comps = _components(place)
    lock_sha, packages = _lock_facts(ctx, target)
    pushed: list[tuple[str, str]] = []
    with OciClient(ref, timeout=timeout) as client:
        if comps:
            project = [c for c in comps if c.name == PROJECT_COMPONENT_DIR]
            if per_package:
                chosen = [(c, ref.with_tag(f"{ref.tag}-{c.name}")) for c in comps if c.name != PROJECT_COMPONENT_DIR]
                if not chosen:
                    raise RemoteArtifactError(f"{place}: no package components (only the project's)", file=str(place),
                                              hint=f"run `wasmtool install --target={target} --per-package` first")
            elif project or len(comps) == 1:
                chosen = [((project or comps)[0], ref)]
            else:
                raise RemoteArtifactError(
                    f"{place}: {len(comps)} package components and no project component",
                    file=str(place), hint="push each with --per-package (tags <tag>-<alias>)")
            for folder, where in chosen:
                pushed.append((str(where), _push_component(client, where, folder, target, lock_sha, packages,
                                                           plan_bundle(place, folder))))
        elif place.is_dir() and any(p.is_file() for p in place.rglob("*")):
            pushed.append((str(ref), _push_bundle(client, ref, place, target, lock_sha, packages)))
        else:
            raise RemoteArtifactError(f"nothing installed for {target} in {place}", file=str(place),
                                      hint=f"run `wasmtool install --target={target}` first")
    return PushResult(tuple(pushed))


def plan_bundle(place: Path, folder: Path) -> dict[str, Any]:
    """What ``call --component`` needs besides the component (docs/remote-cache.md): the
    build facts (world, input hash, the wheels it carries, for grants) and, per alias the
    component serves, its plan (``alias.func`` -> WIT interface, function and value types).

    A package component serves the alias of its folder (its own ``plan.json``); the project
    component serves every alias whose ``component.json`` names it (each alias's
    ``plan.json``). Reads files only; the result is JSON data, sorted when dumped.
    """
    info = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    plans: dict[str, Any] = {}
    if folder.name == PROJECT_COMPONENT_DIR:
        for alias_dir in sorted(d for d in place.iterdir() if d.is_dir()):
            pointer, plan = alias_dir / "component.json", alias_dir / "plan.json"
            if not (pointer.is_file() and plan.is_file()):
                continue
            try:
                named = json.loads(pointer.read_text(encoding="utf-8")).get("component")
            except (ValueError, AttributeError):
                continue
            if named == folder.name:
                plans[alias_dir.name] = json.loads(plan.read_text(encoding="utf-8"))
    elif (folder / "plan.json").is_file():
        plans[folder.name] = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    wheels = info.get("wheels", [])
    return {"version": PLAN_BUNDLE_VERSION,
            "build": {"world": str(info.get("world", "")), "input_hash": str(info.get("input_hash", "")),
                      "externs_module": str(info.get("externs_module", "")),
                      "wheels": sorted(str(w) for w in wheels) if isinstance(wheels, list) else []},
            "aliases": plans}


def _exports(bundle: Mapping[str, Any]) -> list[str]:
    """The WIT interfaces the plans export (``package/interface@version``), for the Wasm config."""
    from wasmtool.wit.model import WitPlan

    out: set[str] = set()
    for data in bundle.get("aliases", {}).values():
        try:
            plan = WitPlan.from_dict(data)
            out.update(plan.interface_id(iface.label) for iface in plan.interfaces)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return sorted(out)


def _push_component(client: OciClient, ref: OciRef, folder: Path, target: str, lock_sha: str,
                    packages: str, bundle: Mapping[str, Any]) -> str:
    wasm = folder / "component.wasm"
    info = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    digest = "sha256:" + sha256_file(wasm)
    client.push_blob(wasm, digest)
    world = str(info.get("world", ""))
    # The plan travels INSIDE the config blob, under a namespaced key the Wasm config schema
    # does not use, rather than as a second blob named by an annotation or as a referrer
    # artifact: the layout allows exactly one layer; a blob named only by an annotation is
    # referenced by no descriptor, so a registry's garbage collection deletes it; a referrer
    # needs the OCI 1.1 referrers API (or its fallback tags) and a second manifest anyone with
    # push rights could add. The config is a descriptor of the manifest: its digest is checked
    # on pull exactly like the layer's, and it lives and dies with the manifest.
    config = {"architecture": "wasm", "os": "wasip2", "layerDigests": [digest],
              "component": {"target": world, "exports": _exports(bundle), "imports": []},
              PLAN_CONFIG_KEY: dict(bundle)}
    annotations = {ANN_LOCK: lock_sha, ANN_WORLD: world, ANN_PACKAGES: packages, ANN_TARGET: target}
    return _put(client, ref, config, WASM_CONFIG_MEDIA_TYPE,
                [{"mediaType": WASM_LAYER_MEDIA_TYPE, "digest": digest, "size": wasm.stat().st_size,
                  "annotations": {ANN_TITLE: "component.wasm"}}], annotations)


def _push_bundle(client: OciClient, ref: OciRef, place: Path, target: str, lock_sha: str, packages: str) -> str:
    with tempfile.TemporaryDirectory(prefix="wasmtool-push-") as tmp:
        archive = Path(tmp) / "bundle.tar"
        _tar_folder(place, archive)
        digest = "sha256:" + sha256_file(archive)
        client.push_blob(archive, digest)
        size = archive.stat().st_size
    config = {"target": target, "layerDigests": [digest]}
    annotations = {ANN_LOCK: lock_sha, ANN_PACKAGES: packages, ANN_TARGET: target}
    return _put(client, ref, config, BUNDLE_CONFIG_MEDIA_TYPE,
                [{"mediaType": BUNDLE_LAYER_MEDIA_TYPE, "digest": digest, "size": size,
                  "annotations": {ANN_TITLE: f"{place.name}.tar"}}], annotations)


def _put(client: OciClient, ref: OciRef, config: Mapping[str, Any], config_type: str,
         layers: list[dict[str, Any]], annotations: Mapping[str, str]) -> str:
    config_bytes = json.dumps(dict(config), sort_keys=True, separators=(",", ":")).encode("utf-8")
    config_digest = digest_of(config_bytes)
    client.push_blob(config_bytes, config_digest)
    return client.put_manifest(ref.tag, {
        "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": config_type, "digest": config_digest, "size": len(config_bytes)},
        "layers": layers, "annotations": dict(annotations)})


def _tar_folder(folder: Path, dest: Path) -> None:
    """Every regular file under ``folder`` in a tar whose bytes depend on the files alone."""
    files = sorted((p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()),
                   key=lambda p: p.relative_to(folder).as_posix())
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))


def pull(ref_text: str, out: Path, *, timeout: float = DEFAULT_TIMEOUT) -> PullResult:
    ref = parse_ref(ref_text, what="REF", need_tag=True)
    with OciClient(ref, timeout=timeout) as client:
        manifest, digest = client.get_manifest(ref.tag)
        config = manifest.get("config")
        kind = config.get("mediaType") if isinstance(config, dict) else None
        layers = [layer for layer in manifest["layers"] if isinstance(layer, dict)]
        if kind == WASM_CONFIG_MEDIA_TYPE:
            wasm_layers = [layer for layer in layers if layer.get("mediaType") == WASM_LAYER_MEDIA_TYPE]
            if len(wasm_layers) != 1:
                raise RemoteArtifactError(f"{ref}: a Wasm artifact has {len(wasm_layers)} application/wasm "
                                          "layers, expected one", file=str(ref))
            out.mkdir(parents=True, exist_ok=True)
            tmp = out / ".component.wasm.part"
            client.fetch_blob(str(wasm_layers[0]["digest"]), tmp, size=_size(wasm_layers[0]))
            tmp.replace(out / "component.wasm")
            files = ["component.wasm"]
            result_kind = "component"
        elif kind == BUNDLE_CONFIG_MEDIA_TYPE:
            if len(layers) != 1 or layers[0].get("mediaType") != BUNDLE_LAYER_MEDIA_TYPE:
                raise RemoteArtifactError(f"{ref}: a bundle artifact has one tar layer", file=str(ref))
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=".wasmtool-pull-", dir=out) as tmp_dir:
                archive = Path(tmp_dir) / "bundle.tar"
                client.fetch_blob(str(layers[0]["digest"]), archive, size=_size(layers[0]))
                files = _untar(archive, out, ref)
            result_kind = "bundle"
        else:
            raise RemoteArtifactError(f"{ref}: config media type {kind!r} is neither a Wasm component "
                                      f"({WASM_CONFIG_MEDIA_TYPE}) nor a wasmtool bundle", file=str(ref))
    (out / "oci-manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return PullResult(kind=result_kind, out=out, digest=digest, files=tuple(files))


def _size(layer: Mapping[str, Any]) -> int | None:
    size = layer.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _untar(archive: Path, out: Path, ref: OciRef) -> list[str]:
    with tarfile.open(archive, "r:") as tar:
        members = tar.getmembers()
        bad = [m.name for m in members if not m.isfile()]
        if bad:
            raise RemoteArtifactError(f"{ref}: the bundle holds non-file members {bad[:3]}", file=str(ref))
        try:
            tar.extractall(out, filter="data")
        except tarfile.FilterError as exc:
            raise RemoteProtocolError(f"{ref}: unsafe bundle member: {exc}", file=str(ref)) from exc
    return [m.name for m in members]

