"""A real OCI registry for tests: Debian's ``docker-registry`` (CNCF Distribution 2.8) on 127.0.0.1.

:func:`start_registry` writes a config (filesystem storage under the given folder, a fresh
free port, plain HTTP, deletes allowed), starts ``docker-registry serve CONFIG``, waits until
``/v2/`` answers, and returns a :class:`Registry`; :meth:`Registry.stop` ends it. With
``users`` the registry requires basic auth from an htpasswd file whose bcrypt entries are made
with the ``bcrypt`` package (a dev requirement, so the tests need no Apache ``htpasswd``).
Installed by ``scripts/setup.sh`` (Debian packages ``docker-registry`` and ``skopeo``).
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "docker-registry"


def registry_available() -> bool:
    return shutil.which(REGISTRY) is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    process: subprocess.Popen[bytes]
    port: int
    storage: Path
    log: Path
    users: Mapping[str, str]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, repository: str) -> str:
        """``oci://127.0.0.1:PORT/<repository>`` (loopback: plain HTTP)."""
        return f"oci://{self.host}/{repository}"

    def blob_path(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes."""
        algo, hexd = digest.split(":", 1)
        return self.storage / "docker/registry/v2/blobs" / algo / hexd[:2] / hexd / "data"

    def docker_config(self, folder: Path) -> Path:
        """A Docker config folder (for ``DOCKER_CONFIG``) with this registry's credentials."""
        folder.mkdir(parents=True, exist_ok=True)
        user, password = next(iter(self.users.items()))
        auths = {self.host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}
        (folder / "config.json").write_text(json.dumps({"auths": auths}), encoding="utf-8")
        return folder

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        """Start the registry again on the same port and storage."""
        self.stop()
        self.process = _spawn(self.storage.parent / "config.yml", self.log)
        _wait_ready(self)


def _spawn(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([REGISTRY, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_ready(reg: Registry, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reg.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({reg.process.returncode}):\n"
                               + reg.log.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"http://{reg.host}/v2/", timeout=2) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:    # up, and wants credentials
                return
        except OSError:
            pass
        time.sleep(0.1)
    reg.kill()
    raise RuntimeError("docker-registry did not answer /v2/ in time:\n" + reg.log.read_text(errors="replace")[-2000:])


def start_registry(folder: Path, *, users: Mapping[str, str] | None = None) -> Registry:
    """Start a registry storing under ``folder/storage``; ``users`` (name -> password) turns on basic auth."""
    folder.mkdir(parents=True, exist_ok=True)
    storage = folder / "storage"
    storage.mkdir(exist_ok=True)
    port = _free_port()
    auth = ""
    if users:
        import bcrypt

        htpasswd = folder / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
                                    for u, p in users.items()), encoding="utf-8")
        auth = f"auth:\n  htpasswd:\n    realm: wasmtool-test\n    path: {htpasswd}\n"
    config = storage.parent / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        "  redirect:\n    disable: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: wasmtool-test-secret\n"
        + auth,
        encoding="utf-8")
    log = folder / "registry.log"
    reg = Registry(process=_spawn(config, log), port=port, storage=storage, log=log, users=dict(users or {}))
    _wait_ready(reg)
    return reg


@contextmanager
def running_registry(folder: Path, *, users: Mapping[str, str] | None = None) -> Iterator[Registry]:
    reg = start_registry(folder, users=users)
    try:
        yield reg
    finally:
        reg.stop()
