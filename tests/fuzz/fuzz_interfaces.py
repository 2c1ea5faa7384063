"""Interfaces: well-placed ones, ones that lie within a lowering, raw record bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fuzz_support import COUNT, NAMES, ONE_IN_TEN, draw_leb, draw_name
from hypothesis import strategies as st

from wasmbridge.interface import abi
from wasmbridge.interface.types import (
    NUMBERS,
    Case,
    ClassDef,
    EnumDef,
    Field,
    Function,
    Interface,
    Kind,
    Method,
    Param,
    Receiver,
    RecordDef,
    Type,
)

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

TYPE_TAGS = tuple(range(0x00, 0x0C)) + tuple(range(0x10, 0x1D)) + (0x0C, 0x1D, 0x80, 0xFF)
# Tags followed by a count byte: a tuple's items, a callback's arguments (then its result).
_COUNTED_TAGS = (0x18, 0x1C)


_TAG = st.sampled_from(TYPE_TAGS)
_WRAPPER = st.sampled_from((0x15, 0x16, 0x12, 0x13, 0x1B))
_DEPTH = st.sampled_from((5, 8, 9, 100, 5000))
_ONE_IN_TWENTY = st.integers(0, 19)
_RECORD_KIND = st.sampled_from((1, 1, 2, 3, 4, 5, 6, 7, 0))
_VERSION = st.sampled_from((1, 1, 1, 1, 0, 2, 0xFF))
_BYTE = st.integers(0, 255)


# Type names the raw records define and use, so that references sometimes resolve.
_TYPE_NAMES = (b"\x01P", b"\x01E", b"\x01C", b"\x01Q")
_TYPE_NAME = st.sampled_from(_TYPE_NAMES)


def draw_type(draw: st.DrawFn) -> bytes:
    """A type's tags: any tag sequence, sometimes nested very deeply; tuples and
    callbacks get a count byte and named types a name (often one the section defines)."""
    if draw(_ONE_IN_TWENTY) == 0:
        return bytes([draw(_WRAPPER)]) * draw(_DEPTH) + b"\x06"
    out = bytearray()
    for _ in range(1 + draw(COUNT)):
        tag = draw(_TAG)
        out.append(tag)
        if tag in _COUNTED_TAGS:
            out.append(draw(COUNT) if draw(ONE_IN_TEN) else draw(_BYTE))
        elif tag in (0x19, 0x1A, 0x1B):
            out += draw(_TYPE_NAME) if draw(ONE_IN_TEN) else draw_name(draw)
    return bytes(out)


def _draw_params(draw: st.DrawFn) -> bytes:
    count = draw(COUNT)
    body = bytearray([count if draw(ONE_IN_TEN) else draw(_BYTE)])
    for _ in range(count):
        body += draw_name(draw) + draw_type(draw)
    return bytes(body) + draw_type(draw)


def _draw_enum(draw: st.DrawFn) -> bytes:
    count = draw(COUNT)
    body = bytearray(draw_leb(draw, count))
    for _ in range(count):
        body += draw_name(draw) + draw_leb(draw)
    return bytes(body)


def _draw_body(draw: st.DrawFn, kind: int) -> bytes:
    name = draw(_TYPE_NAME) if kind in (3, 4, 5, 6) and draw(ONE_IN_TEN) else draw_name(draw)
    if kind == 2:
        return draw_name(draw) + name + draw_name(draw) + _draw_params(draw)
    if kind == 4:
        return name + draw_name(draw) + _draw_enum(draw)
    if kind == 5:
        return name + draw_name(draw)
    if kind == 6:
        receiver = bytes([draw(st.integers(0, 5))])
        return (
            name
            + receiver
            + draw_name(draw)
            + draw_name(draw)
            + draw_name(draw)
            + (_draw_params(draw))
        )
    return name + draw_name(draw) + _draw_params(draw)  # export, record type, unknown


@st.composite
def raw_records(draw: st.DrawFn) -> bytes:
    """One record built field by field, with lying sizes and counts."""
    kind = draw(_RECORD_KIND)
    body = _draw_body(draw, kind)
    return bytes([draw(_VERSION), kind]) + draw_leb(draw, len(body)) + body


def raw_sections() -> st.SearchStrategy[bytes]:
    return st.lists(raw_records(), max_size=4).map(b"".join)


# -- interfaces with records, enums and classes (docs/abi-compound.md) ------------------------

_RECORDS = ("Point", "Pair", "Node")
_ENUMS = ("Shape",)
_CLASSES = ("Counter",)
# Mostly names the interface defines; sometimes one nobody defines.
_REF_NAMES = st.sampled_from((*_RECORDS, *_ENUMS, *_CLASSES, *_RECORDS, "Ghost"))
_LEAVES = st.one_of(
    st.sampled_from([Kind.BOOL, Kind.CHAR, Kind.STR, Kind.STRING, *ELEMENTS]).map(Type),
    _REF_NAMES.map(lambda name: Type(Kind.NAMED, name=name)),
)


def _made(build: Callable[[], Type]) -> Type | None:
    try:
        return build()
    except ValueError:  # a shape the type model refuses: drawn again
        return None


def _wrapped(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    kinds = st.sampled_from((Kind.VEC, Kind.SLICE, Kind.OPTION, Kind.MUT_SLICE))
    wrapped = st.builds(lambda k, t: _made(lambda: Type(k, t)), kinds, children)
    tupled = st.builds(
        lambda items: _made(lambda: Type(Kind.TUPLE, items=tuple(items))),
        st.lists(children, min_size=0, max_size=13),
    )
    return st.one_of(wrapped, tupled).filter(lambda t: t is not None)  # type: ignore[arg-type, return-value]


COMPOUND_TYPES: st.SearchStrategy[Type] = st.recursive(_LEAVES, _wrapped, max_leaves=6)


def _callback(args: list[Type], result: Type) -> Type | None:
    return _made(lambda: Type(Kind.CALLBACK, result, tuple(args)))


def _drawn(t: Type | None) -> Type:
    assert t is not None
    return t


def callbacks(types: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    """Callbacks taking and returning ``types``: those the type model refuses (a
    borrowed result, `&mut [T]` inside, 13 arguments) are drawn again; classes and
    undefined names among them are left for the rules to refuse."""
    return (
        st.builds(
            _callback,
            st.lists(types, max_size=3) | st.lists(types, min_size=12, max_size=13),
            st.just(Type(Kind.UNIT)) | types,
        )
        .filter(lambda t: t is not None)
        .map(_drawn)
    )


CALLBACKS = callbacks(COMPOUND_TYPES)
# Types a callback may take and return in VALUE_TYPES_INTERFACE: its record and enum,
# text, numbers and what wraps them.
VALUE_TYPES: st.SearchStrategy[Type] = st.recursive(
    st.one_of(
        st.sampled_from([Kind.BOOL, Kind.CHAR, Kind.STR, Kind.STRING, *ELEMENTS]).map(Type),
        st.sampled_from(("Point", "Shape")).map(lambda name: Type(Kind.NAMED, name=name)),
    ),
    _wrapped,
    max_leaves=4,
)
VALUE_TYPES_INTERFACE = Interface(
    1,
    records=(RecordDef("Point", (Field("x", Type(Kind.F64)), Field("y", Type(Kind.F64)))),),
    enums=(EnumDef("Shape", (Case("Circle", 0), Case("Square", 5))),),
)


def _result(t: Type, how: int, error: str) -> Type:
    if how == 1:
        return _made(lambda: Type(Kind.RESULT, t)) or t
    if how == 2:
        return _made(lambda: Type(Kind.RESULT_VALUE, t, name=error)) or t
    return t


_COMPOUND_RESULTS = st.builds(
    _result, COMPOUND_TYPES, st.integers(0, 2), st.sampled_from(("Shape", "Point", "E", "Counter"))
)
_COMPOUND_PARAMS = st.one_of(
    COMPOUND_TYPES,
    st.sampled_from(_CLASSES + _RECORDS).map(lambda n: Type(Kind.BORROW, name=n)),
    CALLBACKS,
)
# Mostly fields the rules may accept; sometimes a callback, which they refuse.
_FIELD_TYPES = st.one_of(COMPOUND_TYPES, COMPOUND_TYPES, COMPOUND_TYPES, CALLBACKS)


@st.composite
def _compound_function(draw: st.DrawFn, name: str) -> Function:
    params = draw(st.lists(st.tuples(NAMES, _COMPOUND_PARAMS), max_size=3))
    result = draw(st.one_of(st.just(Type(Kind.UNIT)), _COMPOUND_RESULTS))
    return Function(name, tuple(Param(n, t) for n, t in params), result, draw(DOCS))


@st.composite
def _class(draw: st.DrawFn, name: str) -> ClassDef:
    members = draw(st.lists(NAMES, max_size=3, unique=True))
    methods = []
    for member in members:
        receiver = draw(st.sampled_from(list(Receiver)))
        func = draw(_compound_function(f"{name}.{member}"))
        if receiver is Receiver.CONSTRUCTOR:
            func = Function(func.name, func.params, Type(Kind.NAMED, name=name), func.doc)
        methods.append(Method(member, receiver, func))
    return ClassDef(name, draw(DOCS), tuple(methods))


@st.composite
def compound_interfaces(draw: st.DrawFn) -> Interface:
    """Interfaces with records (sometimes recursive), enums, classes and functions using
    every new type, in places the rules allow and places they refuse."""
    records = tuple(
        RecordDef(
            name,
            tuple(
                Field(f, t)
                for f, t in draw(st.lists(st.tuples(NAMES, _FIELD_TYPES), min_size=1, max_size=3))
            ),
        )
        for name in draw(st.lists(st.sampled_from(_RECORDS), max_size=3, unique=True))
    )
    enums = tuple(
        EnumDef(name, tuple(Case(c, v) for c, v in draw(_CASES)))
        for name in draw(st.lists(st.sampled_from(_ENUMS), max_size=1))
    )
    classes = tuple(
        draw(_class(name)) for name in draw(st.lists(st.sampled_from(_CLASSES), max_size=1))
    )
    exports = tuple(draw(_compound_function(n)) for n in draw(st.lists(NAMES, max_size=3)))
    return Interface(1, exports, records=records, enums=enums, classes=classes)


_CASES = st.lists(
    st.tuples(NAMES, st.integers(-(2**63), 2**63 - 1) | st.integers(-2, 2)), min_size=1, max_size=4
)
