"""How a pulled component's call names an extern without a workspace: an item split into
overload arms (toml's ``loads``) is the arm of the outermost module taking that many arguments."""

from __future__ import annotations

from dataclasses import dataclass, field

from wasmtool.ops.oci_call import _method


@dataclass(frozen=True)
class _Fn:
    extern_name: str
    target: str
    params: tuple[str, ...]


@dataclass
class _Plan:
    fns: list[_Fn] = field(default_factory=list)

    def functions(self) -> list[tuple[None, _Fn]]:
        return [(None, f) for f in self.fns]


PLAN = _Plan([_Fn("toml_loads_string", "toml:loads", ("s",)),
              _Fn("toml_loads_string_class", "toml:loads", ("s", "_dict")),
              _Fn("toml_decoder_loads_string", "toml.decoder:loads", ("s",)),
              _Fn("toml_dumps", "toml:dumps", ("o",))])


def test_an_overloaded_item_is_the_outer_arm_its_arguments_fit() -> None:
    assert _method(PLAN, "toml", "loads", 1) == "toml_loads_string"
    assert _method(PLAN, "toml", "loads", 2) == "toml_loads_string_class"
    assert _method(PLAN, "toml", "dumps", 1) == "toml_dumps"            # alias_rest first
    assert _method(PLAN, "toml", "loads", 3) == "loads"                 # nothing fits: the runtime says so
    assert _method(PLAN, "toml", "loads") == "loads"
