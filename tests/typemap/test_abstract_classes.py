"""A class with an abstract member gets no constructor; a subclass that overrides every
abstract member with a concrete one does (sklearn's ``LinearRegression`` over the abstract
``LinearModel.fit``): the first definition of a name along the MRO decides."""

from __future__ import annotations

import textwrap

from wasmtool.stubs.pyi import parse_stub
from wasmtool.typemap.lower import map_module

STUB = """
from abc import ABC, abstractmethod

class Model(ABC):
    def __init__(self, rate: float) -> None: ...
    @abstractmethod
    def fit(self, x: list[float]) -> None: ...
    @property
    @abstractmethod
    def size(self) -> int: ...

class Half(Model):
    def fit(self, x: list[float]) -> None: ...

class Linear(Half):
    @property
    def size(self) -> int: ...

class Again(Linear):
    @abstractmethod
    def fit(self, x: list[float]) -> None: ...
"""


def test_only_classes_with_every_abstract_member_overridden_get_a_constructor() -> None:
    stub = parse_stub(textwrap.dedent(STUB), module="mini", file="mini/__init__.pyi", python_version=(3, 12))
    s = map_module([stub], dist="mini", version="1.0", alias="mp", import_names=["mini"], tier="py.typed")
    constructors = {f.extern_name for f in s.functions if f.kind == "constructor"}
    assert constructors == {"mp_Linear_new"}
    assert {"mp_Half_fit", "mp_Linear_fit", "mp_Linear_size"} <= {f.extern_name for f in s.functions}
