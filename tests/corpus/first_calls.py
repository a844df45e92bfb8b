"""The calls a user makes first, from each package's own documentation (its README, quickstart
or tutorial's first example), with the answer the documentation leads a user to expect.

Each row is called through ``wasmtool run`` with no line of configuration in ``mochi.toml``
beyond the dependency itself, natively and on every other target where the package installs
and the call's types cross (``targets``); the answers must be the same everywhere (a parity
row). ``{"$handle": N}`` is the N-th handle the package's alias returned (`wasmtool run`
numbers handles per alias).
``{"$url": "/path"}`` is replaced by the hermetic server's address.

Not here: calls that need an object a Mochi program cannot make (``attrs.asdict`` of an
attrs instance).

Wire forms follow the documented value encoding: ``bytes`` cross as a list of byte values,
``datetime`` as an ISO 8601 string.
"""

from __future__ import annotations

from dataclasses import dataclass

NATIVE = ("native",)
PYODIDE = ("native", "pyodide-314")
EVERYWHERE = ("native", "pyodide-314", "wasi-p2")


@dataclass(frozen=True)
class FirstCall:
    dist: str                    # the distribution named in mochi.toml
    call: str                    # what the user types: alias.item (dotted submodule path allowed)
    args: tuple[object, ...]
    expect: object               # the result as decoded from the wire
    targets: tuple[str, ...] = NATIVE
    kwargs: tuple[tuple[str, object], ...] = ()

    def line(self) -> dict[str, object]:
        out: dict[str, object] = {"call": self.call, "args": list(self.args)}
        if self.kwargs:
            out["kwargs"] = dict(self.kwargs)
        return out


FIRST_CALLS: tuple[FirstCall, ...] = (
    FirstCall("tomli", "tomli.loads", ('a = 1\n[t]\nb = ["x", "y"]\n',), {"a": 1, "t": {"b": ["x", "y"]}},
              PYODIDE),
    FirstCall("toml", "toml.loads", ('title = "TOML"\n[owner]\nname = "Tom"\n',),
              {"title": "TOML", "owner": {"name": "Tom"}}, PYODIDE),
    FirstCall("toml", "toml.dumps", ({"a": 1, "b": "x"},), 'a = 1\nb = "x"\n', PYODIDE),
    FirstCall("pyyaml", "yaml.safe_load", ("a: [1, 2]\nb: x\n",), {"a": [1, 2], "b": "x"}),
    # safe_dump's two @overload arms (with and without a stream) are bound apart
    FirstCall("pyyaml", "yaml.safe_dump_any", ({"a": [1, 2]},), "a:\n- 1\n- 2\n"),
    FirstCall("orjson", "orjson.dumps", ({"a": [1, 2]},), list(b'{"a":[1,2]}')),
    FirstCall("orjson", "orjson.loads", ('{"a": [1, 2]}',), {"a": [1, 2]}),
    FirstCall("click", "click.style", ("hi",), "hi\x1b[0m", PYODIDE),
    FirstCall("rich", "rich.markup.escape", ("[bold]not markup[/bold]",), "\\[bold]not markup\\[/bold]"),
    FirstCall("python-dateutil", "dateutil.parser.parse", ("2026-12-03T10:00:00+01:00",),
              "2026-12-03T10:00:00+01:00", EVERYWHERE),
    FirstCall("pydantic", "pydantic.alias_generators.to_camel", ("first_call_name",), "firstCallName", PYODIDE),
    FirstCall("requests", "requests.get", ({"$url": "/simple/"},), {"$handle": 1}),
    FirstCall("requests", "requests.Response.status_code", ({"$handle": 1},), 200),
    FirstCall("httpx", "httpx.get", ({"$url": "/simple/"},), {"$handle": 1}),
    FirstCall("httpx", "httpx.Response.is_success", ({"$handle": 1},), True),
    # msgpack's README, "Basic usage": packb then unpackb (typed by the msgpack-types stubs)
    FirstCall("msgpack", "msgpack.packb", ([1, 2, 3],), [147, 1, 2, 3], PYODIDE),
    FirstCall("msgpack", "msgpack.unpackb", ([147, 1, 2, 3],), [1, 2, 3], PYODIDE),
)
