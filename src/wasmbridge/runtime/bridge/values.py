"""Encoded values: records, tuples, lists, enums and char (docs/abi-compound.md).

A compound value crosses the bridge as one buffer: its canonical layout at
offset 0, then the out-of-line bytes of its strings and lists. One
``Codec`` per type, built once per module, moves values both ways:

* ``put(out, at, value)`` writes the fixed part at ``at`` of a bytearray
  and appends out-of-line data (depth first, each piece aligned);
* ``get(buf, at)`` reads a value back, checking every offset against the
  buffer, text for UTF-8, bools, chars, enum indexes and option tags;
* ``check(value)`` validates and normalises a Python value (records check
  their fields with it when they are constructed).

Records and tuples of numbers only are one ``struct`` each, lists of them
one ``array`` or ``iter_unpack``, lists of strings one header array and one
``bytes.join``: the common shapes never loop in Python per field.

Errors carry a path (``[3].x``) while they unwind; the caller turns a
``LowerError`` into the TypeError/ValueError naming function and parameter,
and a ``LiftError`` into a ProtocolError naming the function.
"""

from __future__ import annotations

import array
import enum
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from itertools import accumulate
from operator import add
from typing import Any, Optional

from ...interface.plan import SCALAR_FACTS
from ...interface.types import Kind

Buffer = bytes | bytearray | memoryview

_LITTLE = sys.byteorder == "little"
_U32X2 = struct.Struct("<II")
_U32 = struct.Struct("<I")
_MAX_BUFFER = 0xFFFFFFFF  # offsets are u32

# The bytes the strings and lists of the buffer being decoded may still claim.
# A writer places each piece once, so a well-formed buffer's pieces claim at
# most its size; a hostile one pointing many lists at the same bytes would
# otherwise decode to far more memory than it holds (docs/abi-compound.md).
_budget = threading.local()


def _claim(nbytes: int) -> None:
    left: int = _budget.left - nbytes
    if left < 0:
        raise LiftError(
            f"its strings and lists claim more than the {_budget.size:,} bytes of the buffer: "
            "their pieces overlap"
        )
    _budget.left = left


_SURROGATES = range(0xD800, 0xE000)


class LowerError(Exception):
    """A Python value that cannot cross; ``path`` says where inside the argument."""

    def __init__(self, message: str, error: type[Exception] = TypeError) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.path = ""

    def within(self, segment: str) -> LowerError:
        self.path = segment + self.path
        return self

    def build(self, prefix: str, root: str) -> Exception:
        """The user-facing exception: ``f() argument 'a' at a[2].x: ...``."""
        where = f" at {root}{self.path}" if self.path else ""
        return self.error(f"{prefix}{where}: {self.message}")


class LiftError(Exception):
    """A guest buffer that breaks the ABI; ``path`` says where inside the value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = ""

    def within(self, segment: str) -> LiftError:
        self.path = segment + self.path
        return self

    def describe(self, root: str) -> str:
        return f"{root}{self.path}: {self.message}" if self.path else self.message


def type_name(value: object) -> str:
    return type(value).__name__


class Codec:
    """Moves values of one type in and out of encoded buffers (see module docstring)."""

    size: int = 0
    align: int = 1
    # struct codes of the fixed part when the Python values are exactly what
    # struct packs and unpacks (numbers): such codecs nest into one Struct.
    flat: str | None = None
    annotation: Any = object
    description: str = "a value"

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def put(self, out: bytearray, at: int, value: Any) -> None:
        raise NotImplementedError

    def get(self, buf: Buffer, at: int) -> Any:
        raise NotImplementedError

    def expected(self, value: object, detail: str = "") -> LowerError:
        extra = f" ({detail})" if detail else ""
        return LowerError(f"expected {self.description}, got {type_name(value)}{extra}")


class Number(Codec):
    """An integer or float of one wasm width."""

    def __init__(self, kind: Kind) -> None:
        facts = SCALAR_FACTS[kind]
        self.kind = kind
        self.code = facts.code
        self.struct = struct.Struct(facts.struct_code)
        self.size = self.align = self.struct.size
        self.flat = self.code
        self.is_float = facts.is_float
        self.is_f32 = facts.is_float and facts.size == 4
        self.annotation = float if self.is_float else int
        self.description = f"{facts.python_type} ({facts.name})"
        self.low, self.high = facts.range or (0, 0)
        self.name = facts.name

    def check(self, value: Any) -> Any:
        cls = value.__class__
        if self.is_float:
            if cls is float and not self.is_f32:
                return value
            if cls is bool or not isinstance(value, (int, float)):
                raise self.expected(value)
            number = float(value)
            if self.is_f32:
                try:
                    self.struct.pack(number)
                except OverflowError:
                    raise LowerError(f"{value!r} is out of range for f32", OverflowError) from None
            return number
        if cls is not int:
            if cls is bool or not hasattr(value, "__index__"):
                raise self.expected(value)
            try:
                value = value.__index__()
            except TypeError:  # e.g. a numpy array of more than one item
                raise self.expected(value) from None
        if not self.low <= value <= self.high:
            raise LowerError(
                f"{value} is out of range for {self.name} ({self.low}..{self.high})",
                OverflowError,
            )
        return value

    def put(self, out: bytearray, at: int, value: Any) -> None:
        if value.__class__ is bool:
            raise self.expected(value)
        try:
            self.struct.pack_into(out, at, value)
        except (struct.error, OverflowError, TypeError):
            self.check(value)  # raises the precise error
            raise self.expected(value) from None

    def get(self, buf: Buffer, at: int) -> Any:
        return self.struct.unpack_from(buf, at)[0]


class Bool(Codec):
    size = align = 1
    annotation = bool
    description = "bool"

    def check(self, value: Any) -> Any:
        if value.__class__ is not bool:
            raise self.expected(value)
        return value

    def put(self, out: bytearray, at: int, value: Any) -> None:
        out[at] = 1 if self.check(value) else 0

    def get(self, buf: Buffer, at: int) -> Any:
        byte = buf[at]
        if byte > 1:
            raise LiftError(f"a bool is {byte}, not 0 or 1")
        return byte == 1


def char_code(value: Any) -> int:
    """The scalar value of a one-character string; LowerError otherwise."""
    if value.__class__ is not str and not isinstance(value, str):
        raise LowerError(f"expected a one-character str (char), got {type_name(value)}")
    if len(value) != 1:
        raise LowerError(
            f"expected a one-character str (char), got a str of {len(value)} characters",
            ValueError,
        )
    code = ord(value)
    if code in _SURROGATES:
        raise LowerError(
            f"{value!r} is a lone surrogate, not a Unicode scalar value (char)", ValueError
        )
    return code


def char_from(code: int) -> str:
    """The character for a guest's scalar value; LiftError for surrogates and > U+10FFFF."""
    if code > 0x10FFFF or code < 0 or code in _SURROGATES:
        raise LiftError(f"char 0x{code & 0xFFFFFFFF:x} is not a Unicode scalar value")
    return chr(code)


class Char(Codec):
    size = align = 4
    annotation = str
    description = "a one-character str (char)"

    def check(self, value: Any) -> Any:
        char_code(value)
        return value

    def put(self, out: bytearray, at: int, value: Any) -> None:
        _U32.pack_into(out, at, char_code(value))

    def get(self, buf: Buffer, at: int) -> Any:
        return char_from(_U32.unpack_from(buf, at)[0])


def encode_text(value: Any) -> bytes:
    try:
        return str.encode(value)
    except TypeError:
        raise LowerError(f"expected str, got {type_name(value)}") from None
    except UnicodeEncodeError as exc:
        raise LowerError(
            f"text is not encodable as UTF-8 ({exc.reason} at index {exc.start})", ValueError
        ) from None


def decode_text(buf: Buffer, off: int, n: int) -> str:
    _check_text_end(buf, off, n)
    _claim(n)
    return _text_at(buf, off, n)


def _check_text_end(buf: Buffer, off: int, n: int) -> None:
    if off + n > len(buf):
        raise LiftError(f"text of {n:,} bytes at offset {off:,} ends outside the buffer")


def _text_at(buf: Buffer, off: int, n: int) -> str:
    _check_text_end(buf, off, n)
    try:
        return str(buf[off : off + n], "utf-8")
    except UnicodeDecodeError as exc:
        raise LiftError(f"text at offset {off:,} is not UTF-8 (byte {exc.start})") from None


class Text(Codec):
    size = 8
    align = 4
    annotation = str
    description = "str"

    def check(self, value: Any) -> Any:
        if value.__class__ is not str:
            if not isinstance(value, str):
                raise self.expected(value)
            return str(value)
        return value

    def put(self, out: bytearray, at: int, value: Any) -> None:
        data = encode_text(value)
        _U32X2.pack_into(out, at, len(out), len(data))
        out += data

    def get(self, buf: Buffer, at: int) -> Any:
        off, n = _U32X2.unpack_from(buf, at)
        return decode_text(buf, off, n)


class Enum(Codec):
    """A C-like enum: the case index crosses, the IntEnum member is the value."""

    def __init__(self, cls: type, members: list[Any], size: int) -> None:
        self.cls = cls
        self.members = members
        self.index = {m: i for i, m in enumerate(members)}  # an int finds its member too
        self.size = self.align = size
        self.struct = struct.Struct("<" + {1: "B", 2: "H", 4: "I"}[size])
        self.annotation = cls
        self.description = f"{cls.__name__} (a member or its int value)"

    def check(self, value: Any) -> Any:
        return self.members[self.position(value)]

    def position(self, value: Any) -> int:
        try:
            index = self.index.get(value)
        except TypeError:  # unhashable
            raise self.expected(value) from None
        cls = value.__class__
        if index is None or (cls is not self.cls and cls is not int):
            if cls is bool or not isinstance(value, int) or isinstance(value, enum.Enum):
                raise self.expected(value)
            values = ", ".join(str(int(m)) for m in self.members[:8])
            more = ", ..." if len(self.members) > 8 else ""
            raise LowerError(
                f"{value} is not a value of {self.cls.__name__} ({values}{more})", ValueError
            )
        return index

    def put(self, out: bytearray, at: int, value: Any) -> None:
        self.struct.pack_into(out, at, self.position(value))

    def get(self, buf: Buffer, at: int) -> Any:
        return self.member(self.struct.unpack_from(buf, at)[0])

    def member(self, index: int) -> Any:
        if index >= len(self.members):
            raise LiftError(
                f"enum {self.cls.__name__} index {index} names no case (it has {len(self.members)})"
            )
        return self.members[index]


class Option(Codec):
    """``Option<T>``: a tag byte, the payload at the payload offset."""

    def __init__(self, inner: Codec, payload: int, size: int, align: int) -> None:
        self.inner = inner
        self.payload = payload
        self.size = size
        self.align = align
        self.annotation = Optional[inner.annotation]  # noqa: UP045 - a runtime object
        self.description = f"{inner.description} or None"

    def check(self, value: Any) -> Any:
        return None if value is None else self.inner.check(value)

    def put(self, out: bytearray, at: int, value: Any) -> None:
        if value is not None:
            out[at] = 1
            self.inner.put(out, at + self.payload, value)

    def get(self, buf: Buffer, at: int) -> Any:
        tag = buf[at]
        if tag == 0:
            return None
        if tag != 1:
            raise LiftError(f"an option tag is {tag}, not 0 or 1")
        return self.inner.get(buf, at + self.payload)


def _flat_struct(parts: list[tuple[Codec, int]], size: int) -> struct.Struct | None:
    """One Struct for a record or tuple whose fields are all numbers, else None."""
    codes = []
    position = 0
    for codec, offset in parts:
        if codec.flat is None or codec.flat.__len__() != 1:
            return None
        if offset > position:
            codes.append(f"{offset - position}x")
        codes.append(codec.flat)
        position = offset + codec.size
    if size > position:
        codes.append(f"{size - position}x")
    return struct.Struct("<" + "".join(codes))


class RecordInfo:
    """What a record codec needs from its class (records.py makes both)."""

    def __init__(
        self,
        cls: type,
        attrs: tuple[str, ...],
        values: Callable[[Any], tuple[Any, ...]],
        make: Callable[[tuple[Any, ...]], Any],
    ) -> None:
        self.cls = cls
        self.attrs = attrs
        self.values = values
        self.make = make


class Record(Codec):
    """A record: its fields in order, each at its canonical offset."""

    def __init__(
        self,
        name: str,
        fields: list[tuple[str, Codec, int]],
        size: int,
        align: int,
    ) -> None:
        self.name = name
        self.fields = fields
        self.size = size
        self.align = align
        self.struct = _flat_struct([(c, o) for _, c, o in fields], size)
        self.flat = None
        self.description = name
        self.info: RecordInfo | None = None  # set by bind() once the class exists

    def bind(self, info: RecordInfo) -> None:
        self.info = info
        self.cls = info.cls
        self.values = info.values
        self.make = info.make
        self.annotation = info.cls
        keys = ", ".join(info.attrs[:6]) + (", ..." if len(info.attrs) > 6 else "")
        self.description = f"{self.name} (or a mapping with keys {keys})"

    def check(self, value: Any) -> Any:
        if value.__class__ is self.cls:
            return value
        if not isinstance(value, Mapping):
            raise self.expected(value)
        return self.from_mapping(value)

    def from_mapping(self, value: Mapping[Any, Any]) -> Any:
        assert self.info is not None
        attrs = self.info.attrs
        if len(value) != len(attrs) or any(a not in value for a in attrs):
            missing = [a for a in attrs if a not in value]
            extra = [repr(k) for k in value if k not in attrs]
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing[:4])}" if missing else "",
                    f"unknown {', '.join(extra[:4])}" if extra else "",
                )
                if part
            )
            raise LowerError(f"a mapping for {self.name} needs exactly its fields ({detail})")
        checked = []
        for (attr, codec, _), key in zip(self.fields, attrs, strict=True):
            try:
                checked.append(codec.check(value[key]))
            except LowerError as exc:
                raise exc.within(f".{attr}") from None
        return self.make(tuple(checked))

    def put(self, out: bytearray, at: int, value: Any) -> None:
        if value.__class__ is not self.cls:
            value = self.check(value)
        values = self.values(value)
        if self.struct is not None:
            try:
                self.struct.pack_into(out, at, *values)
                return
            except (struct.error, OverflowError, TypeError):
                pass  # a field changed behind the class's back: name it below
        for (attr, codec, offset), item in zip(self.fields, values, strict=True):
            try:
                codec.put(out, at + offset, item)
            except LowerError as exc:
                raise exc.within(f".{attr}") from None

    def get(self, buf: Buffer, at: int) -> Any:
        if self.struct is not None:
            return self.make(self.struct.unpack_from(buf, at))
        items = []
        for attr, codec, offset in self.fields:
            try:
                items.append(codec.get(buf, at + offset))
            except LiftError as exc:
                raise exc.within(f".{attr}") from None
        return self.make(tuple(items))


def _items(value: Any, what: str, allow: type | tuple[type, ...] = ()) -> Any:
    """A list or tuple of the items of ``value``; LowerError for non-iterables (and for
    text and buffers unless ``allow`` names them: a str is a list of char, bytes of u8)."""
    cls = value.__class__
    if cls is list or cls is tuple:
        return value
    text = isinstance(value, (str, bytes, bytearray, memoryview))
    if (text and not isinstance(value, allow)) or isinstance(value, Mapping):
        raise LowerError(f"expected {what}, got {type_name(value)}")
    try:
        return list(value)
    except TypeError:
        raise LowerError(f"expected {what}, got {type_name(value)}") from None
    except (ValueError, NotImplementedError) as exc:  # e.g. a released or 2-D memoryview
        raise LowerError(f"expected {what}, got {type_name(value)} ({exc})") from None


class Tuple(Codec):
    def __init__(self, items: list[tuple[Codec, int]], size: int, align: int) -> None:
        self.items = items
        self.size = size
        self.align = align
        self.struct = _flat_struct(items, size)
        self.annotation = tuple.__class_getitem__(tuple(c.annotation for c, _ in items))
        self.description = f"a tuple of {len(items)}"

    def check(self, value: Any) -> Any:
        values = self._sequence(value)
        checked = []
        for index, ((codec, _), item) in enumerate(zip(self.items, values, strict=True)):
            try:
                checked.append(codec.check(item))
            except LowerError as exc:
                raise exc.within(f"[{index}]") from None
        return tuple(checked)

    def _sequence(self, value: Any) -> Any:
        values = _items(value, f"a sequence of {len(self.items)} items")
        if len(values) != len(self.items):
            raise LowerError(
                f"expected a sequence of {len(self.items)} items, got {len(values)}", ValueError
            )
        return values

    def put(self, out: bytearray, at: int, value: Any) -> None:
        values = self._sequence(value)
        if self.struct is not None:
            if not any(item.__class__ is bool for item in values):
                try:
                    self.struct.pack_into(out, at, *values)
                    return
                except (struct.error, OverflowError, TypeError):
                    pass
        for index, ((codec, offset), item) in enumerate(zip(self.items, values, strict=True)):
            try:
                codec.put(out, at + offset, item)
            except LowerError as exc:
                raise exc.within(f"[{index}]") from None

    def get(self, buf: Buffer, at: int) -> Any:
        if self.struct is not None:
            return self.struct.unpack_from(buf, at)
        items = []
        for index, (codec, offset) in enumerate(self.items):
            try:
                items.append(codec.get(buf, at + offset))
            except LiftError as exc:
                raise exc.within(f"[{index}]") from None
        return tuple(items)


def _append(out: bytearray, nbytes: int, align: int) -> int:
    """Zeroed space for ``nbytes`` at the end of ``out``, aligned; its offset."""
    start = -(-len(out) // align) * align
    out.extend(bytes(start - len(out) + nbytes))
    return start


def _u32_array(data: Buffer) -> array.array[int]:
    words = array.array("I")
    words.frombytes(data)
    if not _LITTLE:
        words.byteswap()
    return words


class List(Codec):
    """``list<T>``: ``offset, count`` in the fixed part, the elements out of line."""

    size = 8
    align = 4

    def __init__(self, element: Codec) -> None:
        self.element = element
        self.annotation = list.__class_getitem__(element.annotation)
        self.description = f"a list of {element.description}"
        self.allow: tuple[type, ...] = (str,) if isinstance(element, Char) else ()
        if isinstance(element, Number):
            self.allow = (bytes, bytearray, memoryview)
        self.what = f"an iterable of {element.description}"
        self.number = element if isinstance(element, Number) else None
        # list<u8> is ``bytes`` in Python, as a u8 slice or Vec is at the top level.
        self.bytes_in = self.number is not None and self.number.code == "B"
        if self.bytes_in:
            self.annotation = bytes
            self.description = "bytes (a list of u8)"
        self.text = isinstance(element, Text)
        self.records = element if isinstance(element, Record) and element.struct else None
        self.tuples = element if isinstance(element, Tuple) and element.struct else None

    def check(self, value: Any) -> Any:
        if self.bytes_in:
            raw = self._raw_bytes(value)
            if raw is not None:
                return raw
        checked = []
        for index, item in enumerate(_items(value, self.what, self.allow)):
            try:
                checked.append(self.element.check(item))
            except LowerError as exc:
                raise exc.within(f"[{index}]") from None
        return bytes(checked) if self.bytes_in else checked

    # -- put ------------------------------------------------------------------

    def put(self, out: bytearray, at: int, value: Any) -> None:
        raw = self._raw_bytes(value) if self.bytes_in else None
        if raw is not None:
            # list<u8> from a buffer: its bytes themselves (a list of ints costs ~20x more)
            start = _append(out, 0, 1)
            out += raw
            _U32X2.pack_into(out, at, start, len(raw))
            return
        items = _items(value, self.what, self.allow)
        n = len(items)
        element = self.element
        if self.text:
            _U32X2.pack_into(out, at, *self._put_texts(out, items))
            return
        if self.number is not None:
            data = self._numbers(items)
            start = _append(out, 0, element.align)
            out += data
            _U32X2.pack_into(out, at, start, n)
            return
        size = element.size
        start = _append(out, n * size, element.align)
        _U32X2.pack_into(out, at, start, n)
        if self.records is not None and self._put_records(out, start, items):
            return
        for index, item in enumerate(items):
            try:
                element.put(out, start + index * size, item)
            except LowerError as exc:
                raise exc.within(f"[{index}]") from None

    def _raw_bytes(self, value: Any) -> bytes | None:
        """A buffer's raw bytes, as a top-level ``&[u8]`` takes them (numpy arrays and
        ``array.array`` included); None for anything else (a list or tuple of ints)."""
        cls = value.__class__
        if cls is bytes:
            return value  # type: ignore[no-any-return]
        if cls is list or cls is tuple or cls is str:
            return None
        try:
            with memoryview(value) as view:
                return view.tobytes()
        except TypeError:
            return None  # not a buffer
        except ValueError as exc:  # a released memoryview
            raise LowerError(f"expected {self.what}, got {type_name(value)} ({exc})") from None

    def _numbers(self, items: Any) -> bytes:
        number = self.number
        assert number is not None
        if items.__class__ is array.array and items.typecode == number.code:
            data = items.tobytes()
        else:
            try:
                if bool in set(map(type, items)):  # array.array takes them; a number is no bool
                    raise TypeError
                data = array.array(number.code, items).tobytes()
            except (TypeError, OverflowError):
                for index, item in enumerate(items):
                    try:
                        number.check(item)
                    except LowerError as exc:
                        raise exc.within(f"[{index}]") from None
                raise self.expected(items) from None
        if not _LITTLE:
            swapped = array.array(number.code)
            swapped.frombytes(data)
            swapped.byteswap()
            data = swapped.tobytes()
        return data

    def _put_texts(self, out: bytearray, items: Any) -> tuple[int, int]:
        n = len(items)
        start = _append(out, 0, 4)
        if not n:
            return start, 0
        try:
            joined = "".join(items)
        except TypeError:
            joined = ""
        if joined and joined.isascii():
            # One encode for all: an ASCII string's length is its byte length.
            lengths = list(map(len, items))
            data = joined.encode()
        else:
            try:
                datas = list(map(str.encode, items))
            except (TypeError, UnicodeEncodeError):
                for index, item in enumerate(items):
                    try:
                        encode_text(item)
                    except LowerError as exc:
                        raise exc.within(f"[{index}]") from None
                raise
            lengths = list(map(len, datas))
            data = b"".join(datas)
        header = array.array("I", bytes(8 * n))
        header[0::2] = array.array("I", accumulate(lengths[:-1], initial=start + 8 * n))
        header[1::2] = array.array("I", lengths)
        if not _LITTLE:
            header.byteswap()
        out += header.tobytes()
        out += data
        return start, n

    def _put_records(self, out: bytearray, start: int, items: Any) -> bool:
        """Records of numbers: one struct per element, no per-field work. False when
        an item is not an instance of the record class (the general path handles it)."""
        record = self.records
        assert record is not None and record.struct is not None
        cls = record.cls
        if not all(item.__class__ is cls for item in items):
            return False
        pack = record.struct.pack_into
        values = record.values
        size = record.size
        try:
            for index, item in enumerate(items):
                pack(out, start + index * size, *values(item))
        except (struct.error, OverflowError, TypeError):
            return False
        return True

    # -- get ------------------------------------------------------------------

    def get(self, buf: Buffer, at: int) -> Any:
        off, n = _U32X2.unpack_from(buf, at)
        element = self.element
        end = off + n * element.size
        if end > len(buf):
            raise LiftError(
                f"a list of {n:,} elements ({element.size} bytes each) at offset {off:,} "
                f"ends outside the {len(buf):,}-byte buffer"
            )
        _claim(end - off)
        if self.text:
            return _get_texts(buf, off, n)
        if self.bytes_in:
            return bytes(buf[off:end])
        if self.number is not None:
            numbers = array.array(self.number.code)
            numbers.frombytes(buf[off:end])
            if not _LITTLE:
                numbers.byteswap()
            return numbers.tolist()
        if self.records is not None and self.records.struct is not None:
            make = self.records.make
            return [make(t) for t in self.records.struct.iter_unpack(buf[off:end])]
        if self.tuples is not None and self.tuples.struct is not None:
            return list(self.tuples.struct.iter_unpack(buf[off:end]))
        size = element.size
        items = []
        for index in range(n):
            try:
                items.append(element.get(buf, off + index * size))
            except LiftError as exc:
                raise exc.within(f"[{index}]") from None
        return items


def _get_texts(buf: Buffer, off: int, n: int) -> list[str]:
    """``n`` strings whose ``offset, length`` pairs start at ``off``."""
    if not n:
        return []
    header = _u32_array(buf[off : off + 8 * n])
    offsets = header[0::2]
    lengths = header[1::2]
    # The largest offset plus the largest length bounds every end: one pass each,
    # and the exact ends only when that bound is outside the buffer.
    high = max(offsets) + max(lengths)
    if high > len(buf):
        ends = list(map(add, offsets, lengths))
        high = max(ends)
        if high > len(buf):
            index = next(i for i, end in enumerate(ends) if end > len(buf))
            raise LiftError(
                f"text of {lengths[index]:,} bytes at offset {offsets[index]:,} ends outside "
                "the buffer"
            ).within(f"[{index}]")
    _claim(sum(lengths))
    # Slices of one copy, at the offsets as they are: no per-string arithmetic.
    # Latin-1 maps byte i to character i, so ASCII text slices out unchanged.
    whole = bytes(buf[:high])
    spans = map(slice, offsets, map(add, offsets, lengths))
    if whole[min(offsets) : high].isascii():
        return list(map(whole.decode("latin-1").__getitem__, spans))
    try:
        return list(map(bytes.decode, map(whole.__getitem__, spans)))
    except UnicodeDecodeError:
        for index, (o, length) in enumerate(zip(offsets, lengths, strict=True)):
            try:
                _text_at(buf, o, length)
            except LiftError as exc:
                raise exc.within(f"[{index}]") from None
        raise


# -- whole buffers ---------------------------------------------------------------


def encode(codec: Codec, value: Any) -> bytearray:
    """The encoded buffer of ``value`` (LowerError when it cannot cross)."""
    out = bytearray(codec.size)
    codec.put(out, 0, value)
    if len(out) > _MAX_BUFFER:
        raise LowerError(f"the encoded value takes {len(out):,} bytes, over 4 GiB", ValueError)
    return out


def decode(codec: Codec, buf: Buffer) -> Any:
    """The value an encoded buffer holds (LiftError when it breaks the ABI)."""
    if len(buf) < codec.size:
        raise LiftError(
            f"the buffer has {len(buf):,} bytes, fewer than the {codec.size:,} of its fixed part"
        )
    _budget.left = _budget.size = len(buf)
    try:
        return codec.get(buf, 0)
    except struct.error as exc:  # a bound the checks above did not cover
        raise LiftError(f"unreadable buffer ({exc})") from None


def annotations_of(codecs: Iterable[Codec]) -> list[Any]:
    return [c.annotation for c in codecs]
