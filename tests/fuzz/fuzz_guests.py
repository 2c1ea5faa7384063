"""SDK-shaped guests whose code is hostile, and Python arguments for interface types."""

from __future__ import annotations

import array
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from fuzz_interfaces import interfaces
from fuzz_support import ONE_IN_TEN, name_field, section
from hypothesis import strategies as st

from wasmbridge.interface import abi
from wasmbridge.interface.types import INT_RANGE, Function, Interface, Kind, Type

# -- SDK-shaped modules whose guest code is hostile ------------------------------------------

DATA_BASE = 1024  # guest data the hostile results point into
HEAP_BASE = 8192
WORD_VALUES = (
    0,
    1,
    2,
    7,
    DATA_BASE,
    DATA_BASE + 3,
    HEAP_BASE,
    65535,
    65536,
    2**16 * 16,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**63,
    2**64 - 1,
)


@dataclass
class Behaviour:
    """What one hostile export does: trap, or return these words/value."""

    trap: bool = False
    grow: int = 0  # pages to grow memory by first
    words: tuple[int, ...] = ()  # 64-bit words stored into the return area
    value: int = 0  # bit pattern of a scalar result
    calls: tuple[int, ...] = ()  # indexes of imports to call with garbage arguments
    args: tuple[int, ...] = (0,)  # the garbage, cycled over an import's parameters


RawImport = tuple[str, str, tuple[str, ...], tuple[str, ...]]  # module, name, params, results

WASI = "wasi_snapshot_preview1"
I32x = ("i32",)
# Imports the host provides itself, with their real types: guest code calls them
# with garbage pointers, sizes and file descriptors.
HOST_IMPORTS: tuple[RawImport, ...] = (
    ("wasmbridge", "panic", I32x * 6, ()),
    (WASI, "fd_write", I32x * 4, I32x),
    (WASI, "fd_read", I32x * 4, I32x),
    (WASI, "fd_close", I32x, I32x),
    (WASI, "fd_seek", ("i32", "i64", "i32", "i32"), I32x),
    (WASI, "fd_prestat_get", I32x * 2, I32x),
    (WASI, "proc_exit", I32x, ()),
    (WASI, "random_get", I32x * 2, I32x),
    (WASI, "clock_time_get", ("i32", "i64", "i32"), I32x),
    (WASI, "args_get", I32x * 2, I32x),
    (WASI, "args_sizes_get", I32x * 2, I32x),
    (WASI, "environ_get", I32x * 2, I32x),
    (WASI, "environ_sizes_get", I32x * 2, I32x),
    (WASI, "poll_oneoff", I32x * 4, I32x),
    (WASI, "sched_yield", (), I32x),
    (
        WASI,
        "path_open",
        ("i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"),
        I32x,
    ),
)
_NUMERIC = ("i32", "i64", "f32", "f64")
_ODD = ("v128", "funcref", "externref")


@st.composite
def host_imports(draw: st.DrawFn) -> tuple[RawImport, ...]:
    """Up to three host-provided imports, each with its real type or a random one."""
    picked = draw(st.lists(st.sampled_from(HOST_IMPORTS), max_size=3, unique=True))
    out = []
    for module, name, params, results in picked:
        if draw(ONE_IN_TEN) == 0:
            kinds = st.sampled_from(_NUMERIC + _ODD)
            params = tuple(draw(st.lists(kinds, max_size=3)))
            results = tuple(draw(st.lists(kinds, max_size=1)))
        out.append((module, name, params, results))
    return tuple(out)


@dataclass
class Guest:
    """An SDK-shaped module: what it describes, and how its code misbehaves."""

    interface: Interface
    exports: tuple[Behaviour, ...]
    allocator: int | None  # None: a bump allocator; else always return this pointer
    data: bytes
    extra_exports: tuple[str, ...] = field(default=())  # exported, not described
    host_imports: tuple[RawImport, ...] = field(default=())  # WASI, wasmbridge.panic

    def import_signatures(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(params, results) of every import, in index order: described ones first."""
        sigs = [abi.signature(f) for f in self.interface.imports]
        return [(s.params, s.results) for s in sigs] + [(p, r) for _, _, p, r in self.host_imports]


@st.composite
def behaviours(draw: st.DrawFn, imports: int) -> Behaviour:
    words = st.one_of(st.sampled_from(WORD_VALUES), st.integers(0, 2**64 - 1))
    return Behaviour(
        trap=draw(st.integers(0, 9)) == 0,
        grow=draw(st.sampled_from((0, 0, 0, 1, 300))),
        words=tuple(draw(st.lists(words, min_size=0, max_size=4))),
        value=draw(words),
        calls=tuple(draw(st.lists(st.integers(0, imports - 1), max_size=2))) if imports else (),
        args=tuple(draw(st.lists(words, min_size=1, max_size=4))),
    )


@st.composite
def guests(draw: st.DrawFn) -> Guest:
    interface = draw(interfaces(unique=True))
    raw = draw(host_imports())
    imports = len(interface.imports) + len(raw)
    return Guest(
        interface,
        tuple(draw(behaviours(imports)) for _ in interface.exports),
        draw(st.one_of(st.none(), st.none(), st.sampled_from((0, 1, 65532, 2**31, 2**32 - 8)))),
        draw(st.binary(max_size=64)) + draw(st.sampled_from((b"", b"\xff\xfe", "héllo".encode()))),
        tuple(
            draw(
                st.lists(
                    st.sampled_from(("_initialize", "len", "extra", "__wb_x")),
                    max_size=2,
                    unique=True,
                )
            )
        ),
        raw,
    )


def wat_string(raw: bytes) -> str:
    return '"' + "".join(f"\\{b:02x}" for b in raw) + '"'


_CONST = {
    "i32": lambda v: f"i32.const {v & 0xFFFFFFFF}",
    "i64": lambda v: f"i64.const {v & 0xFFFFFFFFFFFFFFFF}",
    "f32": lambda v: f"i32.const {v & 0xFFFFFFFF} f32.reinterpret_i32",
    "f64": lambda v: f"i64.const {v & 0xFFFFFFFFFFFFFFFF} f64.reinterpret_i64",
}

_ARG = {
    **_CONST,
    "v128": lambda v: f"v128.const i64x2 {v & 0xFFFFFFFFFFFFFFFF} 0",
    "funcref": lambda v: "ref.null func",
    "externref": lambda v: "ref.null extern",
}

_BUMP = """
  (func (export "__wb_alloc") (param $size i32) (param $align i32) (result i32) (local $p i32)
    local.get $size i32.const 0x1000000 i32.gt_u (if (then i32.const 0 return))
    global.get $top i32.const 7 i32.add i32.const -8 i32.and local.tee $p
    local.get $size i32.add global.set $top
    (block $done (loop $more
      global.get $top memory.size i32.const 16 i32.shl i32.le_u br_if $done
      i32.const 1 memory.grow i32.const -1 i32.eq (if (then i32.const 0 return))
      br $more))
    local.get $p)"""


def guest_wasm(guest: Guest) -> bytes:
    """Compile ``guest`` (with wat2wasm) and splice in its interface section."""
    import wasmtime

    from wasmbridge.interface.section import encode

    lines = ["(module"]
    names = [(f.module, f.name) for f in guest.interface.imports]
    names += [(module, name) for module, name, _, _ in guest.host_imports]
    for i, ((module, name), (params, results)) in enumerate(
        zip(names, guest.import_signatures(), strict=True)
    ):
        lines.append(
            f"  (import {wat_string(module.encode())} {wat_string(name.encode())} "
            f"(func $i{i} {_params(params)} {_results(results)}))"
        )
    lines += [
        '  (memory (export "memory") 1)',
        f"  (global $top (mut i32) (i32.const {HEAP_BASE}))",
        f"  (data (i32.const {DATA_BASE}) {wat_string(guest.data)})",
    ]
    if guest.allocator is None:
        lines.append(_BUMP)
    else:
        lines.append(
            '  (func (export "__wb_alloc") (param i32 i32) (result i32) '
            f"i32.const {guest.allocator & 0xFFFFFFFF})"
        )
    lines.append('  (func (export "__wb_free") (param i32 i32 i32))')
    for func, behaviour in zip(guest.interface.exports, guest.exports, strict=True):
        lines.append(_export_func(func, behaviour, guest.import_signatures()))
    described = {f.name for f in guest.interface.exports}
    for extra in guest.extra_exports:
        if extra in described:
            continue
        sig = "(param i32) (result i32) i32.const 7"
        lines.append(f"  (func (export {wat_string(extra.encode())}) {sig})")
    lines.append(")")
    core = wasmtime.wat2wasm("\n".join(lines))
    payload = name_field(b"wasmbridge") + encode(guest.interface)
    return bytes(core) + section(0, payload)


def _params(params: Sequence[str]) -> str:
    return f"(param {' '.join(params)})" if params else ""


def _results(results: Sequence[str]) -> str:
    return f"(result {' '.join(results)})" if results else ""


def _export_func(
    func: Function,
    b: Behaviour,
    imports: Sequence[tuple[tuple[str, ...], tuple[str, ...]]],
) -> str:
    sig = abi.signature(func)
    body: list[str] = []
    if b.grow:
        body.append(f"i32.const {b.grow} memory.grow drop")
    for index in b.calls:
        params, results = imports[index]
        args = " ".join(_ARG[v](b.args[n % len(b.args)]) for n, v in enumerate(params))
        body.append(f"{args} call $i{index}{' drop' * len(results)}")
    if b.trap:
        body.append("unreachable")
    elif abi.uses_retptr(func.result):
        for n, word in enumerate(b.words):
            body.append(
                f"local.get 0 i64.const {word & 0xFFFFFFFFFFFFFFFF} i64.store offset={8 * n}"
            )
    elif sig.results:
        body.append(_CONST[sig.results[0]](b.value))
    return (
        f"  (func (export {wat_string(func.name.encode())}) {_params(sig.params)} "
        f"{_results(sig.results)} {' '.join(body)})"
    )


# -- Python arguments for a type ---------------------------------------------------------------

_TYPECODES = {
    Kind.I8: "b",
    Kind.U8: "B",
    Kind.I16: "h",
    Kind.U16: "H",
    Kind.I32: "i",
    Kind.U32: "I",
    Kind.I64: "q",
    Kind.U64: "Q",
    Kind.F32: "f",
    Kind.F64: "d",
}


@functools.cache
def values(t: Type) -> st.SearchStrategy[object]:
    """Well-typed Python arguments for an interface parameter type."""
    if t.kind is Kind.BOOL:
        return st.booleans()
    if t.kind in INT_RANGE:
        lo, hi = INT_RANGE[t.kind]
        return st.one_of(st.integers(lo, hi), st.sampled_from((lo, hi, 0)))
    if t.kind in (Kind.F32, Kind.F64):
        return st.floats(width=32 if t.kind is Kind.F32 else 64)
    if t.kind in (Kind.STR, Kind.STRING):
        return st.text(st.characters(codec="utf-8"), max_size=20)
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return st.one_of(st.none(), values(t.inner))
    assert t.inner is not None
    element = values(t.inner)
    code = _TYPECODES[t.inner.kind]
    items = st.lists(element, max_size=8)
    if t.kind is Kind.MUT_SLICE:
        return items.map(lambda xs: array.array(code, xs))
    if t.inner.kind is Kind.U8:
        return st.one_of(st.binary(max_size=70), items.map(bytearray))
    return st.one_of(items.map(lambda xs: array.array(code, xs)), items)


# Arguments of the wrong type or range.
JUNK = (
    None,
    -1,
    2**70,
    -(2**70),
    1.5,
    float("nan"),
    "\ud800",
    "text",
    b"\xff",
    [],
    [2**70],
    object(),
    (1, 2),
    {"a": 1},
    True,
)
