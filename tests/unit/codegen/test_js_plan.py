"""The JS glue and .d.ts derive from the call plan and SCALAR_FACTS (interface/plan.py).

The expressions _js_scalars derives from each kind's facts are run in Node
against the ranges the facts state; the glue's return-area reads are the
plan's offsets; imports the host glue cannot lift are refused by their plan;
and no JS translator keeps a table of number kinds of its own.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from build_helpers import wasm_module
from wasmbridge.codegen import _js_scalars
from wasmbridge.codegen.dts import emit_dts
from wasmbridge.codegen.js import emit_js
from wasmbridge.errors import BuildFailed
from wasmbridge.interface import Function, Interface, Kind, Param, Type, parse
from wasmbridge.interface.plan import SCALAR_FACTS, Lifting, ScalarFacts, plan_call

CODEGEN = Path(__file__).parents[3] / "src" / "wasmbridge" / "codegen"
INTEGERS = [f for f in SCALAR_FACTS.values() if f.is_integer]


def _wrap(facts: ScalarFacts, value: int) -> int:
    """``value`` reduced to the kind's range modulo 2**bits, as wasm wraps integers."""
    assert facts.range is not None
    low, high = facts.range
    span = high - low + 1
    return (value - low) % span + low


def _samples(facts: ScalarFacts) -> list[int]:
    assert facts.range is not None
    low, high = facts.range
    return sorted({0, 1, -1, low, high, low - 1, high + 1, 2 * high + 7, -(2**31), 2**31 - 1})


def _js_value(facts: ScalarFacts, value: int) -> str:
    return f"{value}n" if facts.is_big else str(value)


def _run_node(lines: list[str]) -> list[str]:
    program = "const out = [];\n" + "\n".join(lines) + "\nconsole.log(JSON.stringify(out));"
    proc = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    values: list[str] = json.loads(proc.stdout)
    return values


def _pushed(expression: str) -> str:
    return f"out.push(String({expression}));"


@pytest.mark.node
def test_wrapped_integers_match_the_ranges_of_scalar_facts(node: None) -> None:
    cases = [
        (facts, value)
        for facts in INTEGERS
        for value in _samples(facts)
        # i32-carried kinds only ever see JS numbers of 32-bit range or less
        if facts.is_big or -(2**53) < value < 2**53
    ]
    lines = [
        _pushed(_js_scalars.wrapped(facts, f"({_js_value(facts, value)})"))
        for facts, value in cases
    ]
    got = _run_node(lines)
    expected = [str(_wrap(facts, value)) for facts, value in cases]
    assert got == expected


@pytest.mark.node
def test_results_from_the_wire_are_the_kinds_values(node: None) -> None:
    # What a wasm function hands JS: i32 results as signed numbers, i64 as signed BigInts.
    cases = []
    for facts in INTEGERS:
        for value in _samples(facts):
            carrier = _wrap(SCALAR_FACTS[Kind.I64 if facts.is_big else Kind.I32], value)
            cases.append((facts, carrier, _wrap(facts, value)))
    lines = [
        _pushed(_js_scalars.from_wire(facts, f"({_js_value(facts, carrier)})"))
        for facts, carrier, _ in cases
    ]
    assert _run_node(lines) == [str(value) for _, _, value in cases]
    assert _js_scalars.from_wire(SCALAR_FACTS[Kind.BOOL], "r") == "r !== 0"
    assert _js_scalars.from_wire(SCALAR_FACTS[Kind.F32], "r") == "r"


def test_the_glue_reads_results_at_the_plans_offsets() -> None:
    u32, text = Type(Kind.U32), Type(Kind.STRING)
    result = Type(Kind.RESULT, Type(Kind.OPTION, u32))
    func = Function("find", (Param("key", text),), result)
    interface = Interface(1, exports=(func,))
    plan = plan_call(func, interface)
    option = plan.result.inner
    assert plan.result.lifting is Lifting.RESULT and option is not None
    assert option.inner is not None
    glue = emit_js("m", "m.wasm", interface, parse(wasm_module([])), tool="0.0.0")
    assert f"returnArea = allocate({plan.retarea_size}, 8);" in glue
    assert 'resultTag(returnArea, "find() result", 1) === 1' in glue  # the result tag
    assert f"textAt(returnArea + {option.offset})" in glue  # the error message
    assert f'someAt(returnArea + {option.offset}, "find() result")' in glue  # the option tag
    assert f"getUint32(returnArea + {option.inner.offset}, true);" in glue  # the u32


@pytest.mark.parametrize(
    "param",
    [
        Type(Kind.CHAR),
        Type(Kind.OPTION, Type(Kind.CHAR)),
        Type(Kind.VEC, Type(Kind.STRING)),
        Type(Kind.TUPLE, items=(Type(Kind.U8),)),
    ],
    ids=str,
)
def test_imports_whose_plan_the_host_glue_cannot_follow_are_refused(param: Type) -> None:
    func = Function("log", (Param("x", param),), module="env")
    interface = Interface(1, imports=(func,))
    wasm = parse(wasm_module([]))
    for emit in (emit_js, emit_dts):
        with pytest.raises(BuildFailed, match=r"import `env\.log`: host functions written in JS"):
            emit("m", "m.wasm", interface, wasm)


def test_js_translators_keep_no_table_of_number_kinds() -> None:
    number = re.compile(r"\bKind\.(?:I8|U8|I16|U16|I32|U32|I64|U64|F32|F64)\b")
    translators = sorted(CODEGEN.glob("_js_*.py")) + [
        CODEGEN / name for name in ("js.py", "dts.py", "_ts_types.py", "_dts_types.py")
    ]
    found = {p.name: number.findall(p.read_text(encoding="utf-8")) for p in translators}
    assert {name: kinds for name, kinds in found.items() if kinds} == {}
