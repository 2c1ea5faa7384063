"""Interfaces: well-placed ones, ones that lie within a lowering, raw record bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fuzz_support import COUNT, NAMES, ONE_IN_TEN, draw_leb, draw_name
from hypothesis import strategies as st

from wasmbridge.interface import abi
from wasmbridge.interface.types import NUMBERS, Function, Interface, Kind, Param, Type

# -- interface types by place (docs/abi.md, "Interface types") ------------------------------

ELEMENTS = sorted(NUMBERS)
_elements = st.sampled_from(ELEMENTS).map(Type)


def _t(kind: Kind, inner: Type | None = None) -> Type:
    return Type(kind, inner)


def _sequences(kinds: Sequence[Kind]) -> st.SearchStrategy[Type]:
    return st.builds(_t, st.sampled_from(kinds), _elements)


_scalars = st.sampled_from([Kind.BOOL, *ELEMENTS]).map(Type)
_param_base = st.one_of(
    _scalars,
    st.sampled_from([Kind.STR, Kind.STRING]).map(Type),
    _sequences([Kind.SLICE, Kind.VEC, Kind.MUT_SLICE]),
)
PARAM_TYPES = st.one_of(_param_base, _param_base.map(lambda t: _t(Kind.OPTION, t)))
_export_base = st.one_of(
    _scalars, st.sampled_from([Kind.STR, Kind.STRING]).map(Type), _sequences([Kind.VEC])
)
_export_plain = st.one_of(
    st.just(Type(Kind.UNIT)), _export_base, _export_base.map(lambda t: _t(Kind.OPTION, t))
)
EXPORT_RESULTS = st.one_of(_export_plain, _export_plain.map(lambda t: _t(Kind.RESULT, t)))
_import_base = st.one_of(_scalars, st.just(Type(Kind.STRING)), _sequences([Kind.VEC]))
IMPORT_RESULTS = st.one_of(
    st.just(Type(Kind.UNIT)), _import_base, _import_base.map(lambda t: _t(Kind.OPTION, t))
)


_PARAMS = st.lists(st.tuples(NAMES, PARAM_TYPES), max_size=4)
DOCS = st.one_of(st.just(""), st.text(st.characters(codec="utf-8"), max_size=40))


def _all_types() -> tuple[list[Type], list[Type], list[Type]]:
    """Every parameter, export-result and import-result type the ABI has (a finite set)."""
    text = [Type(Kind.STR), Type(Kind.STRING)]
    scalars = [Type(k) for k in (Kind.BOOL, *ELEMENTS)]
    seqs = {k: [Type(k, Type(e)) for e in ELEMENTS] for k in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE)}
    params = scalars + text + seqs[Kind.SLICE] + seqs[Kind.VEC] + seqs[Kind.MUT_SLICE]
    params += [Type(Kind.OPTION, t) for t in params]
    plain = scalars + text + seqs[Kind.VEC]
    plain += [Type(Kind.OPTION, t) for t in plain]
    exports = [Type(Kind.UNIT), *plain]
    exports += [Type(Kind.RESULT, t) for t in exports]
    imported = [t for t in [Type(Kind.UNIT), *plain] if Type(Kind.STR) not in (t, t.inner)]
    return params, exports, imported


ALL_PARAMS, ALL_EXPORT_RESULTS, ALL_IMPORT_RESULTS = _all_types()


def _lowering_groups(types: list[Type], key: Callable[[Type], object]) -> dict[object, list[Type]]:
    groups: dict[object, list[Type]] = {}
    for t in types:
        groups.setdefault(key(t), []).append(t)
    return groups


def _result_key(t: Type) -> object:
    sig = abi.signature(Function("f", (), t))
    return (sig.params, sig.results)


_PARAM_GROUPS = _lowering_groups(ALL_PARAMS, abi.param_wire)
_EXPORT_GROUPS = _lowering_groups(ALL_EXPORT_RESULTS, _result_key)
_IMPORT_GROUPS = _lowering_groups(ALL_IMPORT_RESULTS, _result_key)


@st.composite
def same_lowering(draw: st.DrawFn, func: Function, imported: bool) -> Function:
    """``func`` described with other names and other types of the same wasm lowering:
    a lie no signature check can see (a `&str` read back as `Vec<u64>`, ...)."""
    results = _IMPORT_GROUPS if imported else _EXPORT_GROUPS
    params = tuple(
        Param(
            draw(st.one_of(st.just(p.name), NAMES)),
            draw(st.sampled_from(_PARAM_GROUPS[abi.param_wire(p.type)])),
        )
        for p in func.params
    )
    result = draw(st.sampled_from(results[_result_key(func.result)]))
    return Function(func.name, params, result, draw(DOCS), func.module)


def lying_interfaces(real: Interface) -> st.SearchStrategy[Interface]:
    exports = st.tuples(*(same_lowering(f, imported=False) for f in real.exports))
    imports = st.tuples(*(same_lowering(f, imported=True) for f in real.imports))
    return st.builds(lambda e, i: Interface(1, e, i), exports, imports)


def without_custom_section(data: bytes, name: str) -> bytes:
    """``data`` without its custom sections called ``name``."""
    from wasmbridge.interface import parse

    out = bytearray(data)
    for s in reversed(parse(data).sections):
        if s.id == 0 and s.name == name:
            del out[s.offset + s.size - s.total_size : s.offset + s.size]
    return bytes(out)


@st.composite
def functions(
    draw: st.DrawFn, *, imported: bool = False, name: st.SearchStrategy[str] | None = None
) -> Function:
    params = draw(_PARAMS)
    result = draw(IMPORT_RESULTS if imported else EXPORT_RESULTS)
    return Function(
        draw(name if name is not None else NAMES),
        tuple(Param(n, t) for n, t in params),
        result,
        doc=draw(DOCS),
        module=draw(NAMES) if imported else "",
    )


@st.composite
def interfaces(draw: st.DrawFn, max_exports: int = 4, unique: bool = False) -> Interface:
    exports = draw(
        st.lists(
            functions(), max_size=max_exports, unique_by=(lambda f: f.name) if unique else None
        )
    )
    imports = draw(
        st.lists(
            functions(imported=True),
            max_size=3,
            unique_by=(lambda f: (f.module, f.name)) if unique else None,
        )
    )
    return Interface(1, tuple(exports), tuple(imports))


# -- raw interface-section bytes --------------------------------------------------------------

TYPE_TAGS = tuple(range(0x00, 0x0C)) + tuple(range(0x10, 0x17)) + (0x0C, 0x17, 0x80, 0xFF)


_TAG = st.sampled_from(TYPE_TAGS)
_WRAPPER = st.sampled_from((0x15, 0x16, 0x12, 0x13))
_DEPTH = st.sampled_from((5, 8, 9, 100, 5000))
_ONE_IN_TWENTY = st.integers(0, 19)
_RECORD_KIND = st.sampled_from((1, 1, 2, 3, 0))
_VERSION = st.sampled_from((1, 1, 1, 1, 0, 2, 0xFF))
_BYTE = st.integers(0, 255)


def draw_type(draw: st.DrawFn) -> bytes:
    """A type's tags: any tag sequence, sometimes nested very deeply."""
    if draw(_ONE_IN_TWENTY) == 0:
        return bytes([draw(_WRAPPER)]) * draw(_DEPTH) + b"\x06"
    return bytes(draw(_TAG) for _ in range(1 + draw(COUNT)))


@st.composite
def raw_records(draw: st.DrawFn) -> bytes:
    """One record built field by field, with lying sizes and counts."""
    kind = draw(_RECORD_KIND)
    body = bytearray(draw_name(draw) if kind == 2 else b"")
    body += draw_name(draw) + draw_name(draw)
    count = draw(COUNT)
    body.append(count if draw(ONE_IN_TEN) else draw(_BYTE))
    for _ in range(count):
        body += draw_name(draw) + draw_type(draw)
    body += draw_type(draw)
    return bytes([draw(_VERSION), kind]) + draw_leb(draw, len(body)) + bytes(body)


def raw_sections() -> st.SearchStrategy[bytes]:
    return st.lists(raw_records(), max_size=4).map(b"".join)
