"""Record classes and IntEnums for the types a module defines.

``m.Point`` is a frozen, slotted class built with ``type()``: positional and
keyword construction (checked, so a wrong field names record and field),
``==``, ``hash``, ``repr`` ``Point(x=1.0, y=2.0)``, ``__match_args__``, and
enough of the dataclass protocol for ``dataclasses.fields``, ``asdict``,
``replace`` and ``is_dataclass``. ``m.Shape`` is an ``IntEnum`` whose values
are the Rust discriminants.

Names come from the module, so they are data here: the small generated
functions (``__init__`` and the lifting constructor) use invented names
only, and the field names reach them through the code object's parameter
names, as calls.py does for exports. A field whose name would shadow what
the class needs (any ``__dunder__``) is reached as ``name_`` instead, an
enum case Python's enum machinery refuses (``_sunder_``, ``mro``, ``name``)
as ``name_`` too (interface/names.py: the stub spells them the same).

Classes belong to the interface (its memo), so every instance of a compiled
module, and every load of the same bytes, shares them: ``inst1.Point is
inst2.Point``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import keyword
import operator
import reprlib
import threading
from collections.abc import Callable, Sequence
from types import CodeType
from typing import Any

from ...interface.layout import enum_tag_size, field_offsets, layout, option_payload_offset
from ...interface.names import python_case_names, python_field_names
from ...interface.types import NUMBERS, TEXT, EnumDef, Interface, Kind, RecordDef, Type, shown
from . import values
from .values import Codec, LowerError, RecordInfo

GENERATED_FILENAME = "<wasmbridge record>"
_MEMO_KEY = "python-types"
_LOCK = threading.Lock()


# -- names ------------------------------------------------------------------------


def class_name(name: str) -> str:
    """A name ``type()`` accepts (no NUL), escaped when unprintable."""
    return shown(name, 200) if not name.isprintable() or "\0" in name else name


# -- enums ------------------------------------------------------------------------


def enum_class(definition: EnumDef, module: str) -> tuple[type[enum.IntEnum], list[Any]]:
    """The IntEnum of an enum definition and its members in case order."""
    names = python_case_names([c.name for c in definition.cases])
    discriminants = [c.value for c in definition.cases]
    title = class_name(definition.name)
    try:
        cls, members = _int_enum(title, names, discriminants, module)
    except (ValueError, TypeError, KeyError):
        # Whatever this Python's enum machinery refuses beyond python_case_names' rules.
        cls, members = _int_enum(
            title, [f"case{i}" for i in range(len(names))], discriminants, module
        )
    if len(set(members)) != len(members):
        raise ValueError(f"enum `{shown(definition.name)}` has two cases with one value")
    cls.__doc__ = definition.doc or None
    return cls, members


def _int_enum(
    title: str, names: list[str], discriminants: list[int], module: str
) -> tuple[type[enum.IntEnum], list[Any]]:
    members = list(zip(names, discriminants, strict=True))
    cls = enum.IntEnum(title, members, module=module, qualname=title)  # type: ignore[misc]
    return cls, [cls[name] for name in names]


# -- records ----------------------------------------------------------------------


class RecordBase(tuple):  # type: ignore[type-arg]
    """Base of every record class: a tuple of its field values underneath (so a record
    crosses with one ``struct`` call each way), frozen, equal only to records of its
    class, unordered: the behaviour of a frozen dataclass."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        return NotImplemented if not isinstance(other, tuple) else False

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __lt__(self, other: object) -> bool:
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, tuple(self))


@functools.lru_cache(maxsize=256)
def _compiled(count: int) -> CodeType:
    params = "".join(f", p{i}" for i in range(count))
    checked = "".join(f"_wb_c{i}(p{i}), " for i in range(count))
    source = f"def _wb_new(_wb_cls{params}):\n    return _wb_tuple(_wb_cls, ({checked}))\n"
    return compile(source, GENERATED_FILENAME, "exec")


def _checker(codec: Codec, record: str, attr: str) -> Callable[[Any], Any]:
    check = codec.check
    prefix = f"{shown(record)}() argument '{shown(attr)}'"

    def run(value: Any) -> Any:
        try:
            return check(value)
        except LowerError as exc:
            raise exc.build(prefix, shown(attr)) from None

    return run


def _field(index: int, doc: str) -> Any:
    """Reads one field: the C accessor namedtuple uses, or a property where there is none."""
    try:
        from _collections import _tuplegetter  # type: ignore[import-not-found]

        return _tuplegetter(index, doc)
    except ImportError:  # pragma: no cover - other Pythons
        return property(operator.itemgetter(index), doc=doc)


def _identity(obj: Any) -> tuple[Any, ...]:
    return obj  # type: ignore[no-any-return]


def record_class(
    definition: RecordDef, codecs: Sequence[Codec], module: str
) -> tuple[type, RecordInfo]:
    """The frozen class of a record definition whose fields cross with ``codecs``."""
    attrs = python_field_names([f.name for f in definition.fields])
    title = class_name(definition.name)
    cls = type(title, (RecordBase,), {"__slots__": (), "__module__": module})
    cls.__qualname__ = title
    cls.__doc__ = definition.doc or None
    namespace: dict[str, Any] = {
        "_wb_tuple": tuple.__new__,
        **{
            f"_wb_c{i}": _checker(c, definition.name, a)
            for i, (c, a) in enumerate(zip(codecs, attrs, strict=True))
        },
    }
    exec(_compiled(len(attrs)), namespace)  # noqa: S102 - invented names only, see docstring
    receiver = "cls"
    while receiver in attrs:
        receiver += "_"
    new = namespace["_wb_new"]
    new.__code__ = new.__code__.replace(co_varnames=(receiver, *attrs))
    new.__qualname__ = f"{title}.__new__"
    make: Callable[[tuple[Any, ...]], Any] = functools.partial(tuple.__new__, cls)
    annotations = {a: c.annotation for a, c in zip(attrs, codecs, strict=True)}
    _install(cls, title, attrs, new, annotations)
    return cls, RecordInfo(cls, tuple(attrs), _identity, make)


def _install(
    cls: type,
    title: str,
    attrs: list[str],
    new: Callable[..., Any],
    annotations: dict[str, Any],
) -> None:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown_values = ", ".join(f"{shown(a)}={v!r}" for a, v in zip(attrs, self, strict=True))
        return f"{title}({shown_values})"

    fields = {}
    for attr, annotation in annotations.items():
        item = dataclasses.field()
        item.name = attr
        item.type = annotation
        item._field_type = getattr(dataclasses, "_FIELD")  # noqa: B009 - what fields() filters on
        fields[attr] = item
    spellable = all(a.isidentifier() and not keyword.iskeyword(a) for a in attrs)
    kind = (
        inspect.Parameter.POSITIONAL_OR_KEYWORD if spellable else inspect.Parameter.POSITIONAL_ONLY
    )
    parameters = [
        inspect.Parameter(a if spellable else f"p{i}", kind, annotation=t)
        for i, (a, t) in enumerate(annotations.items())
    ]
    members: dict[str, Any] = {
        "__new__": staticmethod(new),
        "__repr__": __repr__,
        "__match_args__": tuple(attrs),
        "__annotations__": annotations,
        "__dataclass_fields__": fields,
        "__signature__": inspect.Signature(parameters, return_annotation=None),
    }
    params_type = getattr(dataclasses, "_DataclassParams", None)
    if params_type is not None:
        try:
            members["__dataclass_params__"] = params_type(True, True, True, False, False, True)
        except TypeError:
            pass
    for name, value in members.items():
        type.__setattr__(cls, name, value)
    for index, attr in enumerate(attrs):
        type.__setattr__(cls, attr, _field(index, f"Field {shown(attr)!r}"))


# -- the types of one interface -----------------------------------------------------


class TypeSpace:
    """Record classes, enums and codecs of one interface, built on first use."""

    def __init__(self, interface: Interface, module: str) -> None:
        self.interface = interface
        self.module = module
        self._codecs: dict[Type, Codec] = {}
        self._named: dict[str, Codec] = {}
        self._lock = threading.RLock()

    def get(self, name: str) -> type | None:
        """The record class or IntEnum named ``name``, or None."""
        found = self.interface.type_def(name)
        if not isinstance(found, (RecordDef, EnumDef)):
            return None
        codec = self.named(name)
        return codec.annotation  # type: ignore[no-any-return]

    def names(self) -> list[str]:
        defs: list[RecordDef | EnumDef] = [*self.interface.records, *self.interface.enums]
        return [d.name for d in defs]

    def named(self, name: str) -> Codec:
        codec = self._named.get(name)
        if codec is None:
            with self._lock:
                codec = self._named.get(name) or self._build_named(name)
        return codec

    def codec(self, t: Type) -> Codec:
        """The codec of a type inside an encoded value (or an enum or char anywhere)."""
        codec = self._codecs.get(t)
        if codec is None:
            with self._lock:
                codec = self._codecs.get(t) or self._build(t)
                self._codecs[t] = codec
        return codec

    def _build(self, t: Type) -> Codec:
        kind = t.kind
        if kind in NUMBERS:
            return values.Number(kind)
        if kind is Kind.BOOL:
            return values.Bool()
        if kind is Kind.CHAR:
            return values.Char()
        if kind in TEXT:
            return values.Text()
        if kind in (Kind.NAMED, Kind.BORROW):
            return self.named(t.name)
        shape = layout(t, self.interface)
        if kind is Kind.OPTION:
            assert t.inner is not None
            payload = option_payload_offset(t, self.interface)
            return values.Option(self.codec(t.inner), payload, shape.size, shape.align)
        if kind is Kind.TUPLE:
            offsets = field_offsets(t.items, self.interface)
            items = [(self.codec(item), off) for item, off in zip(t.items, offsets, strict=True)]
            return values.Tuple(items, shape.size, shape.align)
        if kind in (Kind.SLICE, Kind.VEC):
            assert t.inner is not None
            return values.List(self.codec(t.inner))
        raise ValueError(f"`{shown(str(t))}` has no encoded form")

    def _build_named(self, name: str) -> Codec:
        found = self.interface.type_def(name)
        codec: Codec
        if isinstance(found, EnumDef):
            cls, members = enum_class(found, self.module)
            codec = values.Enum(cls, members, enum_tag_size(len(found.cases)))
        elif isinstance(found, RecordDef):
            types = [f.type for f in found.fields]
            offsets = field_offsets(types, self.interface)
            shape = layout(Type(Kind.NAMED, name=name), self.interface)
            fields = [self.codec(t) for t in types]
            attrs = python_field_names([f.name for f in found.fields])
            record = values.Record(
                class_name(name),
                [(a, c, o) for a, c, o in zip(attrs, fields, offsets, strict=True)],
                shape.size,
                shape.align,
            )
            cls, info = record_class(found, fields, self.module)
            record.bind(info)
            codec = record
        else:
            raise ValueError(f"no record or enum named `{shown(name)}`")
        self._named[name] = codec
        return codec


def type_space(interface: Interface, label: str) -> TypeSpace:
    """The TypeSpace of ``interface``, shared by every module compiled from it."""
    found = interface.memo.get(_MEMO_KEY)
    if isinstance(found, TypeSpace):
        return found
    with _LOCK:
        found = interface.memo.get(_MEMO_KEY)
        if not isinstance(found, TypeSpace):
            found = interface.memo[_MEMO_KEY] = TypeSpace(interface, module_name(label))
    return found


def module_type(interface: Interface | None, label: str, name: str) -> type | None:
    """``module.Point``: a record or enum of a compiled module (shared by its instances)."""
    return None if interface is None else type_space(interface, label).get(name)


def module_name(label: str) -> str:
    """``geo`` for ``geo.wasm``: the ``__module__`` of the module's classes."""
    stem = label.rsplit("/", 1)[-1]
    stem = stem[:-5] if stem.endswith(".wasm") else stem
    return stem if stem.isidentifier() else "wasmbridge.exports"
