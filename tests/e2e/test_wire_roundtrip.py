"""Wire forms and checked unions on all three targets (docs/value-encoding.md): a small
typed package (`wirecheck`, built here and served by the hermetic index) is locked,
installed and called natively, in Pyodide under Node and as a WASI component under
wasmtime, through `wasmtool run`. Every wire form goes in and comes back the same on every
target (a datetime in, the same datetime back); a string that is not ISO 8601 fails the same
way everywhere, naming the form. A class object crosses as its dotted path (a subclass's
path in, the same path back; a class that is no subclass fails naming the expected one),
a memoryview or buffer as bytes, and `**kwargs: int` as one map (of the `_full` variant). A
checked union picks its member natively and in Pyodide, and a wrong member fails naming the
expected members; on
wasi-p2 a union has no WIT form, so the function is not exported (the documented skip).

One project, one component build, one Pyodide session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tests.e2e.parity import make_project, normalised
from tests.support.index_server import IndexServer, ServedFile

pytestmark = pytest.mark.slow

WIRECHECK = '''\
"""Functions whose parameters and results are standard-library value types."""

import re
from collections.abc import Buffer
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

__all__ = ["Circle", "Plain", "Shape", "echo_buffer", "echo_date", "echo_decimal", "echo_path", "echo_pattern",
           "echo_time", "echo_uuid", "echo_view", "pick", "shape_class", "shout", "shift", "span", "tagged"]


def _check(value: object, cls: type) -> None:
    if type(value) is not cls:
        raise TypeError(f"expected a {cls.__name__}, got {type(value).__name__}")


def shift(d: datetime, by: timedelta) -> datetime:
    """d moved by a duration."""
    _check(d, datetime)
    _check(by, timedelta)
    return d + by


def span(start: datetime, end: datetime) -> timedelta:
    """The time from start to end."""
    return end - start


def echo_date(d: date) -> date:
    _check(d, date)
    return d


def echo_time(t: time) -> time:
    _check(t, time)
    return t


def echo_decimal(x: Decimal) -> Decimal:
    _check(x, Decimal)
    return x


def echo_uuid(u: UUID) -> UUID:
    _check(u, UUID)
    return u


def echo_path(p: Path) -> Path:
    if not isinstance(p, Path):
        raise TypeError(f"expected a Path, got {type(p).__name__}")
    return p


def echo_pattern(p: re.Pattern[str]) -> re.Pattern[str]:
    _check(p, re.Pattern)
    return p


class Shape:
    """A base class: its subclasses cross as their dotted path."""


class Circle(Shape):
    pass


class Plain:
    pass


def shape_class(cls: type[Shape]) -> type[Shape]:
    """The class given, checked to be a Shape."""
    if not (isinstance(cls, type) and issubclass(cls, Shape)):
        raise TypeError(f"expected a Shape subclass, got {cls!r}")
    return cls


def echo_view(data: memoryview) -> memoryview:
    _check(data, memoryview)
    return data


def echo_buffer(data: Buffer) -> Buffer:
    return data


def tagged(name: str, **tags: int) -> list[str]:
    """name and each keyword argument as key=value, sorted."""
    return sorted([name, *(f"{k}={v}" for k, v in tags.items())])


def pick(x: int | str) -> int | str:
    """Twice x: a number doubled, a string repeated."""
    return x * 2


def shout(x: bytes | str) -> str:
    """x in capitals (bytes decoded as UTF-8)."""
    return (x.decode() if isinstance(x, bytes) else x).upper()
'''

MANIFEST = """
name = "wire-roundtrip"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2", "pyodide-314"]

[python-dependencies]
wirecheck = "*"
"""

UUID_TEXT = "12345678-1234-5678-1234-567812345678"
PATTERN = r"^(\d+)-[a-z]?$"
# (call, expected result or error message) -- the same answer on every target
WIRE_CALLS: list[tuple[dict[str, object], object]] = [
    ({"call": "wirecheck.shift", "args": ["2024-02-28T12:00:00+05:30", 86400.5]},
     "2024-02-29T12:00:00.500000+05:30"),
    ({"call": "wirecheck.shift", "args": ["2023-12-31T23:59:59", -0.25]}, "2023-12-31T23:59:58.750000"),
    ({"call": "wirecheck.span", "args": ["2024-01-01T00:00:00", "2024-01-02T01:00:00.250000"]}, 90000.25),
    ({"call": "wirecheck.echo_date", "args": ["2024-02-29"]}, "2024-02-29"),
    ({"call": "wirecheck.echo_time", "args": ["23:59:58.000001"]}, "23:59:58.000001"),
    ({"call": "wirecheck.echo_decimal", "args": ["3.140"]}, "3.140"),
    ({"call": "wirecheck.echo_uuid", "args": [UUID_TEXT]}, UUID_TEXT),
    ({"call": "wirecheck.echo_path", "args": ["data/in put.csv"]}, "data/in put.csv"),
    ({"call": "wirecheck.echo_pattern", "args": [PATTERN]}, PATTERN),
    ({"call": "wirecheck.shift", "args": ["tomorrow", 1]},
     "wirecheck_shift: d: expected an ISO 8601 datetime string, got 'tomorrow'"),
    ({"call": "wirecheck.echo_uuid", "args": ["not-a-uuid"]},
     "wirecheck_echo_uuid: u: expected a UUID string, got 'not-a-uuid'"),
    # a checked union parameter: on wasi-p2 it crosses as its `string` member
    ({"call": "wirecheck.shout", "args": ["quiet"]}, "QUIET"),
    # a class object crosses as its dotted path, checked against the declared class
    ({"call": "wirecheck.shape_class", "args": ["wirecheck.Circle"]}, "wirecheck.Circle"),
    ({"call": "wirecheck.shape_class", "args": ["wirecheck.Plain"]},
     "wirecheck_shape_class: cls: expected the dotted path of a subclass of wirecheck.Shape, "
     "got 'wirecheck.Plain' (not a subclass)"),
    ({"call": "wirecheck.shape_class", "args": ["wirecheck.Nowhere"]},
     "wirecheck_shape_class: cls: expected the dotted path of a subclass of wirecheck.Shape, "
     "got 'wirecheck.Nowhere' (no class at that path)"),
    # a memoryview / a buffer crosses as bytes (a list of byte values)
    ({"call": "wirecheck.echo_view", "args": [[0, 7, 255]]}, [0, 7, 255]),
    ({"call": "wirecheck.echo_buffer", "args": [[104, 105]]}, [104, 105]),
    # **tags: int is one map of the _full variant, spread as keyword arguments
    ({"call": "wirecheck.tagged_full", "args": ["x", {"b": 2, "a": 1}]}, ["a=1", "b=2", "x"]),
    ({"call": "wirecheck.tagged_full", "args": ["x", {}]}, ["x"]),
    ({"call": "wirecheck.tagged_full", "args": ["x", None]}, ["x"]),
    ({"call": "wirecheck.tagged", "args": ["x"]}, ["x"]),
]
UNION_CALLS: list[tuple[dict[str, object], object]] = [
    ({"call": "wirecheck.pick", "args": [21]}, 42),
    ({"call": "wirecheck.pick", "args": ["ab"]}, "abab"),
    ({"call": "wirecheck.pick", "args": [[1, 2]]}, "wirecheck_pick: x: expected one of int | string, got list"),
]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wirecheck_wheel(folder: Path) -> ServedFile:
    """The `wirecheck` 1.0 wheel (pure, ``py.typed``), with an honest RECORD."""
    info = "wirecheck-1.0.dist-info"
    metadata = "Metadata-Version: 2.1\nName: wirecheck\nVersion: 1.0\nRequires-Python: >=3.10\n"
    members = {
        "wirecheck/__init__.py": WIRECHECK.encode(),
        "wirecheck/py.typed": b"",
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": b"wirecheck\n",
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members.items())
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "wirecheck-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return ServedFile("wirecheck", wheel.name, digest, wheel, metadata.encode(), ">=3.10")


def _answers(records: list[dict[str, object]]) -> list[object]:
    """Each line's result, or its error message (the error type must be the boundary check's)."""
    out: list[object] = []
    for r in records:
        if r["ok"]:
            out.append(r["result"])
        else:
            error = r["error"]
            assert isinstance(error, dict) and error["type"] == "_mochi_wrap.BoundaryTypeError", r
            out.append(error["message"])
    return out


def _write_calls(path: Path, calls: list[tuple[dict[str, object], object]]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c, _ in calls))
    return path


def test_wire_forms_round_trip_on_every_target(tmp_path: Path, cache_dir: Path,
                                               served_files: dict[str, list[ServedFile]]) -> None:
    wheel = wirecheck_wheel(tmp_path / "wheels")
    with IndexServer({**served_files, "wirecheck": [wheel]}) as server:
        project, _, cli = make_project(tmp_path, "wire", MANIFEST, [], cache_dir, server)
        wire = _write_calls(tmp_path / "wire.jsonl", WIRE_CALLS)
        union = _write_calls(tmp_path / "union.jsonl", UNION_CALLS)
        cli("lock")
        cli("install")
        _, _, err = cli("install", "--target=wasi-p2")
        assert "component wirecheck: " in err, err
        cli("install", "--target=pyodide-314")

        widened = project / ".mochi" / "python_workspace" / "python_wrap" / "wirecheck" / "WIDENED.txt"
        assert widened.read_text().splitlines()[1:] == [
            "wirecheck_pick\twirecheck.pick\tparam x\tchecked union int | string",
            "wirecheck_pick\twirecheck.pick\treturn\tchecked union int | string",
            "wirecheck_shout\twirecheck.shout\tparam x\tchecked union list<int> | string",
        ]

        answers: dict[str, list[dict[str, object]]] = {}
        for target in ("native", "pyodide-314", "wasi-p2"):
            code, out, err = cli("run", f"--target={target}", str(wire), check=False)
            answers[target] = normalised(out)
            assert code == 1 and len(answers[target]) == len(WIRE_CALLS), err      # four lines fail on purpose
        assert _answers(answers["native"]) == [expected for _, expected in WIRE_CALLS]
        assert answers["pyodide-314"] == answers["native"]
        assert answers["wasi-p2"] == answers["native"]

        for target in ("native", "pyodide-314"):
            code, out, err = cli("run", f"--target={target}", str(union), check=False)
            assert code == 1, err
            assert _answers(normalised(out)) == [expected for _, expected in UNION_CALLS], target

        # wasi-p2: a checked union has no WIT form, the function is not exported and says why
        code, _, err = cli("call", "wirecheck.pick", "--args", "[21]", "--target=wasi-p2", check=False)
        assert code == 2 and "not exported by the wasi-p2 component" in err, err
        plan = json.loads((project / ".mochi" / "wasi-p2" / "wirecheck" / "plan.json").read_text())
        why = "wirecheck_pick: return: checked union int | string has no WIT form yet"
        assert {(s["reason"], s["detail"]) for s in plan["skips"]} == {("SkipTargetUnrepresentable", why)}
