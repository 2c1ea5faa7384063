"""Moving interface values between Python and guest memory (docs/abi.md).

``Marshal`` holds one instance's memory, arena and allocator; the call
code generated in calls.py binds its methods once per function, so no
per-call lookup or planning happens. Buffers cross with one memcpy.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import MemoryLimitExceeded, ProtocolError
from ...interface.plan import SCALAR_FACTS, Lifting, Lowering, ParamPlan, ResultPlan, ScalarFacts
from ...interface.types import SEQUENCES, TEXT, Kind, Type, shown
from . import values
from .compiled_codec import compiled_codec
from .memory import Arena, GuestMemory
from .values import Codec, LiftError, LowerError

# Buffer formats accepted for each element kind: same kind and item size. 'l'/'L'
# are 8 bytes on LP64 platforms (numpy's int64 on Linux).
_LONG = struct.calcsize("l")


def _formats(facts: ScalarFacts) -> frozenset[str]:
    if facts.is_float or facts.range is None:
        return frozenset({facts.code})
    long = "l" if facts.is_signed else "L"
    return frozenset({facts.code, long} if facts.size == _LONG else {facts.code})


FORMATS = {kind: _formats(facts) for kind, facts in SCALAR_FACTS.items()}


def python_name(t: Type) -> str:
    """How a type is described to a Python caller, e.g. ``int (i32)``."""
    facts = SCALAR_FACTS.get(t.kind)
    if facts is not None:
        shown = facts.python_type
        return shown if shown == facts.name else f"{shown} ({facts.name})"
    if t.kind in TEXT:
        return "str"
    if t.kind is Kind.OPTION and t.inner is not None:
        return f"{python_name(t.inner)} or None"
    if t.kind not in SEQUENCES or t.inner is None:
        return t.rust()
    element = t.inner.kind.name.lower()
    mutable = t.kind is Kind.MUT_SLICE
    if t.inner.kind is Kind.U8:
        if mutable:
            return "a writable bytes-like object (bytearray, memoryview, numpy array)"
        return "a bytes-like object"
    return f"a writable buffer of {element}" if mutable else f"a buffer or sequence of {element}"


def type_name(value: object) -> str:
    return type(value).__name__


def arg_error(func: str, param: str, t: Type, value: object, detail: str = "") -> TypeError:
    """The TypeError for a wrong argument, naming function, parameter and type."""
    extra = f" ({detail})" if detail else ""
    return TypeError(
        f"{func}() argument '{param}': expected {python_name(t)}, got {type_name(value)}{extra}"
    )


def check_scalar(func: str, param: str, t: Type, value: object) -> Exception | None:
    """The error a number or bool argument deserves, or None when it is acceptable."""
    facts = SCALAR_FACTS[t.kind]
    if facts.range is None and not facts.is_float:  # bool
        return None if isinstance(value, bool) else arg_error(func, param, t, value)
    if facts.is_float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                struct.pack(facts.struct_code, value)
            except OverflowError:
                return OverflowError(
                    f"{func}() argument '{param}': {value!r} is out of range for {facts.name}"
                )
            return None
        return arg_error(func, param, t, value)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        return arg_error(func, param, t, value)
    number = value.__index__()
    low, high = facts.range or (0, 0)
    if not low <= number <= high:
        return OverflowError(
            f"{func}() argument '{param}': {number} is out of range for "
            f"{facts.name} ({low}..{high})"
        )
    return None


@dataclass(frozen=True)
class ParamInfo:
    """What lowering needs to know about one parameter (and to word its errors).

    ``owned``, ``align``, ``element`` and ``mutable`` come from the call plan
    (``ParamInfo.of``): the guest takes the buffer, its alignment, the facts of
    a typed buffer's element, and whether it is copied back.
    """

    func: str
    name: str
    type: Type
    owned: bool = False
    align: int = 1
    element: ScalarFacts | None = None
    mutable: bool = False

    @classmethod
    def of(cls, func: str, plan: ParamPlan) -> ParamInfo:
        return cls(
            func,
            shown(plan.param.name),
            plan.type,
            plan.owned,
            plan.align,
            plan.facts if plan.lowering in _TYPED_BUFFERS else None,
            plan.lowering is Lowering.MUT_ELEMENTS,
        )


_TYPED_BUFFERS = frozenset({Lowering.BYTES, Lowering.ELEMENTS, Lowering.MUT_ELEMENTS})


Bytes = bytes | bytearray | memoryview


class Marshal:
    """Lowering and lifting for one instance; methods are bound into call code.

    The lowering methods return ``(ptr, len)`` ready for the wasm call; the
    lifting methods take the return area's address. Borrowed data goes into
    the arena when it fits (one memcpy, no call into the guest).
    """

    def __init__(
        self,
        memory: GuestMemory,
        alloc: Callable[[int, int], int],
        free: Callable[[int, int, int], None],
        name: str,
    ) -> None:
        self.memory = memory
        self.alloc = alloc
        self.free = free
        self.name = name
        self.arena = Arena(alloc, free, memory, name)
        self.pending_frees: list[tuple[int, int, int]] = []

    # -- lowering: Python -> guest ------------------------------------------------

    def lower_text(self, value: object, info: ParamInfo) -> tuple[int, int]:
        """``&str`` / ``String`` parameters."""
        data = self.encode_text(value, info)
        n = len(data)
        return self._place(data, n, 1, info.owned), n

    def lower_bytes(self, value: object, info: ParamInfo) -> tuple[int, int]:
        """``&[u8]`` / ``Vec<u8>`` parameters: any bytes-like object."""
        cls = value.__class__
        if cls is bytes or cls is bytearray:
            data: Bytes = value  # type: ignore[assignment]
            n = len(data)
        else:
            data = self.elements(value, info)
            n = data.nbytes
        return self._place(data, n, 1, info.owned), n

    def lower_elements(self, value: object, info: ParamInfo) -> tuple[int, int]:
        """``&[T]`` / ``Vec<T>`` of wider numbers: a matching buffer or a sequence."""
        data = self.elements(value, info)
        n = data.nbytes
        return self._place(data, n, info.align, info.owned), n // info.align

    def lower_mut(self, value: object, info: ParamInfo) -> tuple[int, int, memoryview]:
        """``&mut [T]``: also returns the caller's view, to copy the result back."""
        data = self.elements(value, info)
        n = data.nbytes
        return self._place(data, n, info.align, False), n // info.align, data

    def encode_text(self, value: object, info: ParamInfo) -> bytes:
        if value.__class__ is not str:
            if not isinstance(value, str):
                raise arg_error(info.func, info.name, info.type, value)
            value = str(value)
        try:
            return value.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{info.func}() argument '{info.name}': text is not encodable as UTF-8 "
                f"({exc.reason} at index {exc.start})"
            ) from None

    def elements(self, value: object, info: ParamInfo) -> memoryview:
        """A C-contiguous byte view of a slice/vec argument (no copy for buffers)."""
        t = info.type
        element = info.element
        assert element is not None
        try:
            view = memoryview(value)  # type: ignore[arg-type]
        except TypeError:
            view = self._from_sequence(value, info)
        else:
            # A u8 buffer takes any bytes-like object; wider elements need their own format.
            if (
                element.kind is not Kind.U8
                and view.format.lstrip("@=<") not in FORMATS[element.kind]
            ):
                raise arg_error(info.func, info.name, t, value, f"buffer of format '{view.format}'")
            if info.mutable and view.readonly:
                raise arg_error(info.func, info.name, t, value, "read-only")
        if not view.c_contiguous:
            if info.mutable:
                raise arg_error(info.func, info.name, t, value, "not contiguous")
            view = memoryview(view.tobytes())
        return view.cast("B") if view.format != "B" or view.ndim != 1 else view

    def _from_sequence(self, value: object, info: ParamInfo) -> memoryview:
        t = info.type
        element = info.element
        assert element is not None
        if info.mutable or isinstance(value, str) or not hasattr(value, "__iter__"):
            raise arg_error(info.func, info.name, t, value)
        try:
            return memoryview(array.array(element.code, value))
        except (TypeError, OverflowError) as exc:
            raise type(exc)(f"{info.func}() argument '{info.name}': {exc}") from None

    def _place(self, data: Bytes, n: int, align: int, owned: bool) -> int:
        """Copy ``n`` bytes into guest memory; returns the address."""
        if not n:
            return align
        if not owned:
            arena = self.arena
            top = (arena.top + align - 1) & -align
            if top + n <= arena.end:  # the common case: no call into the guest
                arena.top = top + n
                self.memory.view[top : top + n] = data
                return top
            ptr = arena.take(n, align)
            if not ptr:
                ptr = self._alloc_or_raise(n, align)
                self.pending_frees.append((ptr, n, align))
        else:
            ptr = self._alloc_or_raise(n, align)
        self.memory.check(ptr, n)
        self.memory.view[ptr : ptr + n] = data
        return ptr

    def place_owned(self, data: Bytes, align: int) -> int:
        """Copy ``data`` into a fresh allocation the guest will own and free."""
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        return self._place(data, n, align, True)

    def _alloc_or_raise(self, nbytes: int, align: int) -> int:
        ptr = self.alloc(nbytes, align)
        if not ptr:
            raise MemoryLimitExceeded(
                f"{self.name}: the guest could not allocate {nbytes:,} bytes for an argument",
                hint="raise the memory limit (Limits(memory_mb=...)) or pass a smaller buffer",
            )
        return ptr

    def free_pending(self, mark: int) -> None:
        pending = self.pending_frees
        while len(pending) > mark:
            ptr, nbytes, align = pending.pop()
            self.free(ptr, nbytes, align)

    def copy_back(self, target: memoryview, ptr: int) -> None:
        """Write a ``&mut`` buffer's guest copy back into the caller's buffer."""
        nbytes = target.nbytes
        if nbytes:
            self.memory.check(ptr, nbytes)
            target[:] = self.memory.view[ptr : ptr + nbytes]

    def value_lowerer(self, codec: Codec, info: ParamInfo) -> Callable[[Any], int]:
        """A compound parameter (record, tuple, list): its encoded buffer's address.

        The buffer is borrowed: it lives in the arena (or a pending
        allocation) for the call only. A record of numbers is packed straight
        into the arena with one struct call.
        """
        encode = values.encode
        place = self._place
        prefix = f"{info.func}() argument '{info.name}'"
        compiled = compiled_codec(codec)
        encode_compiled = compiled.encode if compiled is not None else _not_compiled

        def general(value: Any) -> int:
            data = encode_compiled(value)
            if data is None:
                try:
                    data = encode(codec, value)
                except LowerError as exc:
                    raise exc.build(prefix, info.name) from None
            return place(data, len(data), 8, False)

        packer = codec.struct if isinstance(codec, values.Record) else None
        if packer is None or not isinstance(codec, values.Record):
            return general
        cls, get_values, pack_into, size = codec.cls, codec.values, packer.pack_into, codec.size
        arena, memory = self.arena, self.memory

        def flat(value: Any) -> int:
            if value.__class__ is cls:
                top = (arena.top + 7) & -8
                if top + size <= arena.end:
                    pack_into(memory.view, top, *get_values(value))
                    arena.top = top + size
                    return top
            return general(value)

        return flat

    @staticmethod
    def index_lowerer(codec: values.Enum, info: ParamInfo) -> Callable[[Any], int]:
        """An enum parameter: its case index."""
        position = codec.position
        prefix = f"{info.func}() argument '{info.name}'"

        def lower(value: Any) -> int:
            try:
                return position(value)
            except LowerError as exc:
                raise exc.build(prefix, info.name) from None

        return lower

    @staticmethod
    def char_lowerer(info: ParamInfo) -> Callable[[Any], int]:
        """A ``char`` parameter: its scalar value."""
        prefix = f"{info.func}() argument '{info.name}'"
        code = values.char_code

        def lower(value: Any) -> int:
            try:
                return code(value)
            except LowerError as exc:
                raise exc.build(prefix, info.name) from None

        return lower

    # -- lifting: guest -> Python -------------------------------------------------

    def value_lifter(
        self, codec: Codec, bad: Callable[[LiftError], Exception]
    ) -> Callable[[int], Any]:
        """An encoded result whose ``ptr, len`` is at ``at``: its value.

        ``bad`` makes the ProtocolError for a buffer that breaks the ABI
        (it names the function). The buffer stays the guest's (abi.md,
        "Owned results"): nothing is freed.
        """
        memory = self.memory
        decode = values.decode
        flat = codec.struct if isinstance(codec, (values.Record, values.Tuple)) else None
        size = codec.size
        compiled = compiled_codec(codec)
        decode_compiled = compiled.decode if compiled is not None else _not_compiled

        def lift(at: int) -> Any:
            ptr, n = _U32X2.unpack_from(memory.view, at)
            if ptr + n > memory.size:
                try:
                    memory.check(ptr, n)
                except ProtocolError:
                    raise bad(
                        LiftError(
                            f"its buffer (bytes {ptr:,}..{ptr + n:,}) lies outside the guest's "
                            f"{memory.size:,}-byte memory"
                        )
                    ) from None
            buffer = memory.view[ptr : ptr + n]
            value = decode_compiled(buffer)
            if value is not None:
                return value
            try:  # not decoded in C: the Python codec decodes it, or says what is wrong
                return decode(codec, buffer)
            except LiftError as exc:
                raise bad(exc) from None

        if flat is None or not isinstance(codec, values.Record):
            return lift
        make, unpack_from = codec.make, flat.unpack_from

        def lift_record(at: int) -> Any:
            ptr, n = _U32X2.unpack_from(memory.view, at)
            if n >= size and ptr + n <= memory.size:
                return make(unpack_from(memory.view, ptr))
            return lift(at)

        return lift_record

    def u32_lifter(
        self, convert: Callable[[int], Any], bad: Callable[[LiftError], Exception]
    ) -> Callable[[int], Any]:
        """A ``u32`` slot (an enum index, a char, a handle) at ``at``, converted."""
        memory = self.memory

        def lift(at: int) -> Any:
            try:
                return convert(_U32.unpack_from(memory.view, at)[0])
            except LiftError as exc:
                raise bad(exc) from None

        return lift

    def option_lifter(
        self, inner: Callable[[int], Any], bad: Callable[[LiftError], Exception]
    ) -> Callable[[int], Any]:
        """``Option<T>`` in a return area: the tag at ``at``, T's slot at ``at + 8``."""
        memory = self.memory

        def lift(at: int) -> Any:
            tag = _U32.unpack_from(memory.view, at)[0]
            if tag == 0:
                return None
            if tag != 1:
                raise bad(LiftError(f"an option tag is {tag}, not 0 or 1"))
            return inner(at + 8)

        return lift

    def lift_bytes(self, at: int, func: str = "", itemsize: int = 1) -> bytes:
        """The bytes of a buffer result whose (ptr, len) is at ``at`` in the arena;
        ``func`` names the function in errors."""
        memory = self.memory
        ptr, n = _U32X2.unpack_from(memory.view, at)
        if not n:
            return b""
        n *= itemsize
        if ptr + n > memory.size:
            memory.check(ptr, n, f"the result of `{func}`" if func else "a result")
        return memory.view[ptr : ptr + n].tobytes()

    def lift_text(self, at: int, func: str = "") -> str:
        """A ``String`` / ``&'static str`` result whose (ptr, len) is at ``at``."""
        data = self.lift_bytes(at, func)
        try:
            return data.decode()
        except UnicodeDecodeError:
            return decode_text(data, self.name)

    def lift(self, plan: ResultPlan, at: int, func: str = "") -> Any:
        """Read a return-area slot lifted as ``plan`` says (numbers, text, bytes,
        typed buffers and options of them) at address ``at``; ``func`` names the
        function in errors."""
        lifting = plan.lifting
        facts = plan.facts
        self.memory.check(at, 8)
        if lifting is Lifting.SCALAR:
            assert facts is not None
            value = self._scalar(facts, at)
            if facts.kind is Kind.BOOL:  # in a slot, 0 or 1
                raw = _U32.unpack_from(self.memory.view, at)[0]
                if raw > 1:
                    raise self._malformed(func, plan.type, f"a bool is {raw}, not 0 or 1")
            return value
        if lifting is Lifting.TEXT:
            return self.lift_text(at, func)
        if lifting is Lifting.BYTES:
            return self.lift_bytes(at, func)
        if lifting is Lifting.ELEMENTS:
            assert facts is not None
            out = array.array(facts.code)
            out.frombytes(self.lift_bytes(at, func, facts.size))
            return out
        if lifting is Lifting.OPTION:
            assert plan.inner is not None
            tag = _U32.unpack_from(self.memory.view, at)[0]
            if tag > 1:
                raise self._malformed(func, plan.type, f"an option tag is {tag:,}, not 0 or 1")
            return None if tag == 0 else self.lift(plan.inner, at + 8, func)
        raise AssertionError(f"{plan.type} is lifted by the caller")  # results: see calls.py

    def _malformed(self, func: str, t: Type, problem: str) -> ProtocolError:
        who = f"{self.name}: `{shown(func)}`" if func else self.name
        return ProtocolError(
            f"{who} returned a malformed `{t}`: {problem}",
            hint="this is a bug in the guest module or a mismatched interface",
        )

    def _scalar(self, facts: ScalarFacts, at: int) -> Any:
        view = self.memory.view
        if facts.valtype != "i32":
            return struct.unpack_from(facts.struct_code, view, at)[0]
        value = _I32.unpack_from(view, at)[0]
        return value != 0 if facts.range is None else narrow(facts, value)


_U32X2 = struct.Struct("<II")


def _not_compiled(value: Any) -> None:
    """Stands in for a compiled codec's encode or decode where there is none."""
    return None


_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")


def narrow(facts: ScalarFacts, value: int) -> int:
    """Reinterpret an i32 carrier as the integer kind of ``facts`` (narrower or unsigned)."""
    if facts.range is None or facts.valtype != "i32":
        return value
    bits = 8 * facts.size
    if facts.is_signed:
        sign = 1 << (bits - 1)
        return ((value & ((1 << bits) - 1)) ^ sign) - sign
    return value & ((1 << bits) - 1)


def decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"{name} returned text that is not UTF-8 (byte {exc.start})",
            hint="this is a bug in the guest module",
        ) from None
