"""The recorded PEP 740 fixtures, and a hermetic index on 127.0.0.1 that serves them with
their provenance (JSON ``provenance`` key, HTML ``data-provenance``, ``/provenance/<file>``).

The fixtures are read from the shared fixtures folder beside the repository at run time
(never copied into it); every bad case is derived from their bytes here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import AttestationType

from tests.support.index_server import IndexServer, ServedFile, _Handler, _requires_python, _wheel_metadata

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "attestations"
WHEEL = FIXTURES / "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_ATTESTATION = FIXTURES / "rfc8785-0.1.2-py3-none-any.whl.publish.attestation"
SDIST = FIXTURES / "pypi_attestations-0.0.19.tar.gz"
SDIST_ATTESTATION = FIXTURES / "pypi_attestations-0.0.19.tar.gz.publish.attestation"
SDIST_PROVENANCE = FIXTURES / "pypi_attestations-0.0.19.tar.gz.provenance"

#: Who signed the wheel's attestation (Sigstore staging, an email identity: not a Trusted
#: Publisher kind, so a project pins it with trusted-publisher = { identity, issuer }).
WHEEL_IDENTITY = "william@yossarian.net"
WHEEL_ISSUER = "https://github.com/login/oauth"
WHEEL_LABEL = f"identity:{WHEEL_IDENTITY} issuer:{WHEEL_ISSUER}"
SDIST_LABEL = "github:trailofbits/pypi-attestations"
PUBLISH = AttestationType.PYPI_PUBLISH_V1.value  # the publish predicate type


def require_fixtures() -> None:
    if not WHEEL.is_file():
        pytest.fail(f"{FIXTURES} is missing: the recorded attestation fixtures live beside the repository")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_provenance(attestation: bytes | None = None) -> bytes:
    """A provenance object for the wheel: one bundle holding its one attestation. The bundle's
    publisher is the signer's email identity (kind ``email``)."""
    att = json.loads(attestation if attestation is not None else WHEEL_ATTESTATION.read_bytes())
    return json.dumps({"version": 1, "attestation_bundles": [
        {"publisher": {"kind": "email", "identity": WHEEL_IDENTITY, "issuer": WHEEL_ISSUER},
         "attestations": [att]}]}).encode()


def altered_statement(attestation: bytes) -> bytes:
    """The attestation with one byte of its signed statement changed (not in the subject)."""
    doc = json.loads(attestation)
    statement = json.loads(base64.b64decode(doc["envelope"]["statement"]))
    statement["predicate"] = {"altered": True}
    doc["envelope"]["statement"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(doc).encode()


def flipped(data: bytes) -> bytes:
    """``data`` with one byte flipped: for a zip, the first entry's modification time in its
    local header (the archive still reads, the bytes and the SHA-256 differ)."""
    offset = 10 if data[:4] == b"PK\x03\x04" else len(data) // 2
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def served(path: Path, project: str, data: bytes | None = None, *, folder: Path | None = None) -> ServedFile:
    """A ServedFile for ``path`` (or for ``data`` written under ``folder`` with the same name)."""
    if data is not None:
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        path = (folder / path.name)
        path.write_bytes(data)
    meta = _wheel_metadata(path)
    return ServedFile(project, path.name, sha256(path.read_bytes()), path, meta, _requires_python(meta))


class AttestIndex(IndexServer):
    """:class:`IndexServer` plus provenance: ``provenance[filename]`` is served at
    ``/provenance/<filename>`` and advertised on the project pages; ``provenance_status``
    answers a status instead (advertised too), ``provenance_delay`` sleeps before answering."""

    def __init__(self, projects: dict[str, list[ServedFile]]) -> None:
        super().__init__(projects)
        self.httpd.server_close()
        handler = type("Handler", (_AttestHandler,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.provenance: dict[str, bytes] = {}
        self.provenance_status: dict[str, int] = {}
        self.provenance_delay: dict[str, float] = {}

    def provenance_requests(self) -> int:
        with self.behaviour.lock:
            return sum(1 for _m, p in self.behaviour.requests if p.startswith("/provenance/"))

    def advertised(self, filename: str) -> bool:
        return filename in self.provenance or filename in self.provenance_status

    def replace_file(self, project: str, file: ServedFile) -> None:
        self.projects[project] = [file if f.filename == file.filename else f for f in self.projects[project]]
        self.by_name[file.filename] = file


class _AttestHandler(_Handler):
    server_ref: AttestIndex

    def _serve(self, head: bool) -> None:
        srv = self.server_ref
        path = self.path.split("?", 1)[0]
        if not path.startswith("/provenance/"):
            super()._serve(head)
            return
        fname = path[len("/provenance/"):]
        with srv.behaviour.lock:
            srv.behaviour.requests.append(("HEAD" if head else "GET", path))
        delay = srv.provenance_delay.get(fname)
        if delay:
            time.sleep(delay)
            self.close_connection = True
            return  # the client gave up meanwhile: nothing to answer
        status = srv.provenance_status.get(fname)
        if status is not None:
            self._send(status, b"no", "text/plain", head)
        elif fname in srv.provenance:
            self._send(200, srv.provenance[fname], "application/json", head)
        else:
            self._send(404, b"not found", "text/plain", head)

    def _project_page(self, name: str, files: list[ServedFile], base: str, want_json: bool) -> tuple[bytes, str]:
        body, ctype = super()._project_page(name, files, base, want_json)
        srv = self.server_ref
        if want_json:
            doc: dict[str, Any] = json.loads(body)
            for item in doc["files"]:
                if srv.advertised(item["filename"]):
                    item["provenance"] = f"{base}/provenance/{item['filename']}"
            return json.dumps(doc).encode(), ctype
        text = body.decode()
        for f in files:
            if srv.advertised(f.filename):
                text = re.sub(rf'(href="[^"]*/files/{re.escape(f.filename)}#[^"]*")',
                              rf'\1 data-provenance="/provenance/{f.filename}"', text)
        return text.encode(), ctype

