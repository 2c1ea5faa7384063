"""Randomized differential tests over the diffcrate fixture (real crates).

One seed gives one reproducible sequence of calls (``generate``): exports in
random order, sizes drawn across the runtime's boundaries (0, 1, 4 KiB,
64 KiB ± 32, 1 MiB, a few MiB), valid and invalid inputs. ``run_sequence``
makes the calls on ONE instance, presenting each buffer in one of the forms
Python code passes (bytes, bytearray, memoryview slices, array.array, numpy),
and checks every result against an independent reference (zlib, base64,
hashlib, hmac, binascii, str methods, numpy). ``write_cases`` stores a
sequence for tests/node/differential.mjs, which checks it against Node's own
zlib, crypto and Buffer and reports each call's ``fingerprint`` so that both
hosts can be compared call by call.
"""

from __future__ import annotations

import array
import base64
import binascii
import hashlib
import hmac
import json
import operator
import random
import re
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, chain
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from wasmbridge.interface import Type
from wasmbridge.interface.types import Kind

KIB = 1024
MIB = 1024 * KIB
ARENA = 64 * KIB  # the scratch arena's first size: the boundary of the arena bug class
U64 = 1 << 64
TEXT = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    + "     ,.;-\t\n"
    + "éßΩσдж中文😀\u0301\u00a0\u3000ﬁ"
)  # every character has the same upper case and whitespace class in Python, Rust and JS
CODEPOINTS = np.array([ord(c) for c in TEXT], np.uint32)
SEPARATORS = (" ", "a", "é", "ab", "中", ",", "😀")
BAD_B64 = "!*-_.@ $"  # outside the standard alphabet (and not padding)
F64_SPECIALS = (0.0, -0.0, 5e-324, -2.2e-308, 1e300, -1e300, 1.5, float("inf"))


# -- cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One call: the export, its arguments as plain values, how hosts present buffers."""

    seed: int
    step: int
    op: str
    args: tuple[Any, ...]
    view: int

    def summary(self) -> str:
        return f"{self.op}({', '.join(_short(a) for a in self.args)}) view {self.view}"


def _short(value: Any) -> str:
    if isinstance(value, bytes):
        return f"bytes[{len(value)}]"
    if isinstance(value, str):
        return repr(value) if len(value) <= 12 else f"str[{len(value.encode())} B]"
    if isinstance(value, array.array):
        return f"array('{value.typecode}')[{len(value)}]"
    return repr(value)


class Draw:
    """Random inputs from one ``random.Random``; big inputs come out of a byte budget."""

    def __init__(self, rng: random.Random, big_budget: int) -> None:
        self.rng = rng
        self.budget = big_budget

    def size(self) -> int:
        r, rng = self.rng.random(), self.rng
        if r < 0.15:
            return rng.choice((0, 1, 2))
        if r < 0.40:
            return rng.randint(3, 600)
        if r < 0.55:
            return 4096 + rng.randint(-2, 2)
        if r < 0.82:
            return ARENA + rng.randint(-32, 32)
        if r < 0.96:
            return rng.randint(ARENA + 33, 400 * KIB)
        return self._big()

    def _big(self) -> int:
        size = MIB + self.rng.randint(-32, 32)
        if self.rng.random() < 0.3:
            size = self.rng.randint(2 * MIB, 4 * MIB)
        if size > self.budget:
            return self.rng.randint(ARENA + 33, 400 * KIB)
        self.budget -= size
        return size

    def small(self) -> int:
        return self.rng.choice((0, 1, 2, 31, 32, 33, 63, 64, 65, self.rng.randint(3, 300)))

    def data(self, n: int) -> bytes:
        """Random bytes, or compressible runs (for zlib), or text."""
        style = self.rng.random()
        if style < 0.5:
            return self.rng.randbytes(n)
        if style < 0.8:
            unit = self.rng.randbytes(self.rng.randint(1, 40))
            return (unit * (n // len(unit) + 1))[:n]
        return self.text(n).encode()

    def text(self, nbytes: int) -> str:
        """Text of exactly ``nbytes`` UTF-8 bytes (a random chunk, repeated)."""
        picks = np.frombuffer(self.rng.randbytes(min(max(nbytes, 1), 4096) * 2), np.uint16)
        chunk = CODEPOINTS[picks % len(CODEPOINTS)].tobytes().decode("utf-32-le")
        encoded = (chunk * (nbytes // len(chunk.encode()) + 1)).encode()[:nbytes]
        text = encoded.decode("utf-8", "ignore")
        return text + "a" * (nbytes - len(text.encode()))

    def numbers(self, typecode: str, nbytes: int) -> array.array[Any]:
        out = array.array(typecode)
        count = nbytes // out.itemsize
        if typecode != "d":
            out.frombytes(self.rng.randbytes(count * out.itemsize))
            return out
        gen = np.random.default_rng(self.rng.getrandbits(64))
        values = gen.uniform(-1e6, 1e6, count)
        for _ in range(min(count, 8)):
            values[self.rng.randrange(count)] = self.rng.choice(F64_SPECIALS)
        out.frombytes(values.tobytes())
        return out

    def int_of(self, bits: int, signed: bool) -> int:
        edge = self.rng.random() < 0.3
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if edge:
            return self.rng.choice((low, high, 0, 1, -1 if signed else 2))
        return self.rng.randint(low, high)


# -- generators: one per export, plain values only ------------------------------------


def _data(d: Draw) -> tuple[Any, ...]:
    return (d.data(d.size()),)


def _b64_decode(d: Draw) -> tuple[Any, ...]:
    text = base64.b64encode(d.data(d.size())).decode()
    if d.rng.random() < 0.7:
        return (text,)
    if d.rng.random() < 0.5 or not text:
        at = d.rng.randint(0, len(text))
        return (text[:at] + d.rng.choice(BAD_B64) + text[at:],)
    data = text.rstrip("=")
    return (data[: len(data) // 4 * 4] + "Q",)  # 1 more than a multiple of 4 data chars


def _zlib_decompress(d: Draw) -> tuple[Any, ...]:
    stream = zlib.compress(d.data(d.size()), d.rng.randint(0, 9))
    r = d.rng.random()
    if r < 0.6:
        return (stream,)
    if r < 0.75:
        return (stream[: d.rng.randrange(len(stream))],)  # truncated
    if r < 0.9:
        at = d.rng.randrange(len(stream))
        return (stream[:at] + bytes([stream[at] ^ (1 << d.rng.randrange(8))]) + stream[at + 1 :],)
    return (d.rng.randbytes(d.small()),)


def _hmac(d: Draw) -> tuple[Any, ...]:
    key = d.data(d.size() if d.rng.random() < 0.2 else d.small())
    return (key, d.data(d.size()))


def _maybe(d: Draw) -> tuple[Any, ...]:
    return (None,) if d.rng.random() < 0.25 else _data(d)


def _text(d: Draw) -> tuple[Any, ...]:
    return (d.text(d.size()),)


def _find(d: Draw) -> tuple[Any, ...]:
    text = d.text(d.size())
    if d.rng.random() < 0.6 and text:
        at = d.rng.randrange(len(text))
        return (text, text[at : at + d.rng.randint(0, 12)])
    return (text, d.text(d.rng.randint(0, 6)))


def _split(d: Draw) -> tuple[Any, ...]:
    return (d.text(d.size()), None if d.rng.random() < 0.3 else d.rng.choice(SEPARATORS))


def _repeat(d: Draw) -> tuple[Any, ...]:
    n = d.rng.randint(0, 5)
    return (d.text(d.size() // max(n, 1)), n)


def _greet(d: Draw) -> tuple[Any, ...]:
    return (None,) if d.rng.random() < 0.3 else (d.text(d.size()),)


def _utf8(d: Draw) -> tuple[Any, ...]:
    data = d.text(d.size()).encode()
    if data and d.rng.random() < 0.4:
        at = d.rng.randrange(len(data))
        data = data[:at] + bytes([d.rng.choice((0x80, 0xC0, 0xED, 0xF8, 0xFF))]) + data[at + 1 :]
    return (data,)


def _ascii(d: Draw) -> tuple[Any, ...]:
    text = d.text(d.size())
    return (text.encode("ascii", "ignore").decode() if d.rng.random() < 0.5 else text,)


def _parse_u64(d: Draw) -> tuple[Any, ...]:
    digits = str(d.rng.choice((0, U64 - 1, U64, d.rng.getrandbits(d.rng.randint(1, 70)))))
    r = d.rng.random()
    if r < 0.6:
        return (digits,)
    if r < 0.7:
        return ("+" + digits,)
    return (d.rng.choice(("", "+", "-1", " 1", "1 ", "1_0", "0x10", "١٢", "-0", digits + "a")),)


def _key_pair(d: Draw) -> tuple[Any, ...]:
    return (d.data(d.size()), d.data(d.size() if d.rng.random() < 0.2 else d.small()))


def _concat3(d: Draw) -> tuple[Any, ...]:
    return (d.data(d.size()), d.text(d.size()), d.data(d.size()))


def _take(d: Draw) -> tuple[Any, ...]:
    data = d.data(d.size())
    n = d.rng.choice((0, len(data), len(data) + 1, d.rng.randint(0, len(data) + 2)))
    return (data, n)


def _starts_with(d: Draw) -> tuple[Any, ...]:
    data = d.data(d.size())
    if d.rng.random() < 0.6:
        return (data, data[: d.rng.randint(0, len(data))])
    return (data, d.data(d.small()))


def _numbers(typecode: str) -> Callable[[Draw], tuple[Any, ...]]:
    return lambda d: (d.numbers(typecode, d.size()),)


def _two(first: str, second: str) -> Callable[[Draw], tuple[Any, ...]]:
    return lambda d: (d.numbers(first, d.size()), d.numbers(second, d.size()))


def _scale(d: Draw) -> tuple[Any, ...]:
    return (d.numbers("d", d.size()), d.rng.choice((0.0, -1.0, 0.1, 3.0, d.rng.uniform(-1e3, 1e3))))


def _range(d: Draw) -> tuple[Any, ...]:
    return (d.int_of(32, True), d.size() // 4)


def _mul_f32(d: Draw) -> tuple[Any, ...]:
    pick = (0.0, -0.0, 1.0, 3.4e38, 1e-45, 1.1754942e-38)
    return tuple(
        d.rng.choice(pick) if d.rng.random() < 0.3 else d.rng.uniform(-1e20, 1e20) for _ in "ab"
    )


def _mix_ints(d: Draw) -> tuple[Any, ...]:
    widths = [(bits, signed) for bits in (8, 16, 32, 64) for signed in (True, False)]
    return (*(d.int_of(bits, signed) for bits, signed in widths), d.rng.random() < 0.5)


def _int(bits: int, signed: bool) -> Callable[[Draw], tuple[Any, ...]]:
    return lambda d: (d.int_of(bits, signed),)


def _half(d: Draw) -> tuple[Any, ...]:
    return (None,) if d.rng.random() < 0.2 else (d.int_of(64, True),)


def _checked_div(d: Draw) -> tuple[Any, ...]:
    r = d.rng.random()
    if r < 0.15:
        return (d.int_of(32, True), 0)
    if r < 0.25:
        return (-(1 << 31), -1)
    return (d.int_of(32, True), d.int_of(32, True) or 7)


GENERATORS: dict[str, Callable[[Draw], tuple[Any, ...]]] = {
    "b64_encode": _data,
    "b64_decode": _b64_decode,
    "zlib_compress": lambda d: (d.data(d.size()), d.rng.randint(0, 10)),
    "zlib_decompress": _zlib_decompress,
    "sha256": _data,
    "hmac_sha256": _hmac,
    "crc32": _data,
    "adler32": _data,
    "maybe_crc32": _maybe,
    "upper": _text,
    "reverse_chars": _text,
    "find": _find,
    "split_count": _split,
    "repeat": _repeat,
    "greet": _greet,
    "utf8_chars": _utf8,
    "is_ascii": _ascii,
    "parse_u64": _parse_u64,
    "version": lambda d: (),
    "reverse_bytes": _data,
    "xor_with": _key_pair,
    "xor_into": _key_pair,
    "concat3": _concat3,
    "take": _take,
    "starts_with": _starts_with,
    "sum_i32": _numbers("i"),
    "sum_f64": _numbers("d"),
    "sum_bytes": _data,
    "sum_u32": _numbers("I"),
    "zip_add": _two("i", "I"),
    "dot": _two("d", "d"),
    "scale": _scale,
    "negate_i32": _numbers("i"),
    "sorted": _numbers("d"),
    "range_i32": _range,
    "words": _data,
    "mul_f32": _mul_f32,
    "mix_ints": _mix_ints,
    "wrap_i8": _int(64, True),
    "wrap_u8": _int(64, True),
    "wrap_i16": _int(64, True),
    "wrap_u16": _int(64, True),
    "wrap_i32": _int(64, True),
    "wrap_u32": _int(64, False),
    "half": _half,
    "checked_div": _checked_div,
}
OPS = sorted(GENERATORS)
VIEWS = 1 << 16  # each host presents a buffer in its form number `view % forms`


def generate(seed: int, steps: int, big_budget: int = 48 * MIB) -> Iterator[Case]:
    """The sequence of ``seed``: ``steps`` cases, the same on every run and host."""
    rng = random.Random(seed)
    draw = Draw(rng, big_budget)
    for step in range(steps):
        op = rng.choice(OPS)
        yield Case(seed, step, op, GENERATORS[op](draw), rng.randrange(VIEWS))


# -- references: what each call must return, computed without the module --------------


@dataclass(frozen=True)
class Err:
    """The call must raise ReturnedError; ``message`` None accepts any non-empty one."""

    message: str | None = None


@dataclass
class Expected:
    value: Any
    after: dict[int, Any] = field(default_factory=dict)  # &mut arguments after the call


def _f32(x: float) -> float:
    with np.errstate(over="ignore"):  # f32 overflow is inf, as in Rust
        return float(np.float32(x))


def _wrap(v: int, bits: int, signed: bool) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def _b64(text: str) -> Any:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return Err()


def _inflate(data: bytes) -> Any:
    try:
        inflate = zlib.decompressobj()
        out = inflate.decompress(data)
        return out if inflate.eof else Err()  # bytes after the stream are ignored
    except zlib.error:
        return Err()


def _find_ref(h: str, n: str) -> int | None:
    at = h.find(n)
    return None if at < 0 else at


def _utf8_ref(data: bytes) -> Any:
    try:
        return len(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Err("invalid utf-8")


def _parse_ref(s: str) -> Any:
    ok = re.fullmatch(r"\+?[0-9]+", s) is not None and int(s) < U64
    return int(s) if ok else Err("not a u64")


def _xor(data: bytes, key: bytes) -> bytes:
    if not key:
        return data
    a = np.frombuffer(data, np.uint8)
    return (a ^ np.resize(np.frombuffer(key, np.uint8), len(a))).tobytes()


def _xor_changed(data: bytes, key: bytes) -> int:
    if not key:
        return 0
    return int(np.count_nonzero(np.resize(np.frombuffer(key, np.uint8), len(data))))


def _fold(values: Iterator[float] | Any) -> float:
    return list(accumulate(chain([0.0], values), operator.add))[-1]


def _i64s(values: Any) -> array.array[int]:
    return array.array("q", np.asarray(values, np.int64).tobytes())


def _negate(v: array.array[int]) -> Expected:
    negated = np.negative(np.frombuffer(v, np.int32))
    return Expected(int(negated.sum(dtype=np.int64)), {0: array.array("i", negated.tobytes())})


def _zip_add(a: array.array[int], b: array.array[int]) -> array.array[int]:
    n = min(len(a), len(b))
    return _i64s(np.frombuffer(a, np.int32)[:n].astype(np.int64) + np.frombuffer(b, np.uint32)[:n])


def _scale_ref(v: array.array[float], factor: float) -> array.array[float]:
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, as in Rust
        return array.array("d", (np.frombuffer(v, np.float64) * _f32(factor)).tobytes())


def _range_ref(start: int, n: int) -> array.array[int]:
    values = (np.arange(n, dtype=np.int64) + start).astype(np.int32)
    return array.array("i", values.tobytes())


def _words(data: bytes) -> array.array[int]:
    out = array.array("I")
    out.frombytes(data[: len(data) // 4 * 4])
    return out


def _mix_ref(*args: Any) -> int:
    total = sum(args[:8]) % U64
    return (-total) % U64 if args[8] else total


def _checked_div_ref(a: int, b: int) -> Any:
    if b == 0:
        return Err("division by zero")
    if (a, b) == (-(1 << 31), -1):
        return Err("overflow")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


REFERENCES: dict[str, Callable[..., Any]] = {
    "b64_encode": lambda data: base64.b64encode(data).decode(),
    "b64_decode": _b64,
    "zlib_compress": lambda data, level: data,  # checked by inflating the result
    "zlib_decompress": _inflate,
    "sha256": _digest,
    "hmac_sha256": lambda key, msg: hmac.digest(key, msg, "sha256"),
    "crc32": binascii.crc32,
    "adler32": zlib.adler32,
    "maybe_crc32": lambda data: None if data is None else binascii.crc32(data),
    "upper": str.upper,
    "reverse_chars": lambda s: s[::-1],
    "find": _find_ref,
    "split_count": lambda s, sep: len(s.split(sep)),
    "repeat": lambda s, n: s * n,
    "greet": lambda name: "Hello!" if name is None else f"Hello, {name}!",
    "utf8_chars": _utf8_ref,
    "is_ascii": str.isascii,
    "parse_u64": _parse_ref,
    "version": lambda: "diffcrate 1",
    "reverse_bytes": lambda data: Expected(None, {0: data[::-1]}),
    "xor_with": _xor,
    "xor_into": lambda data, key: Expected(_xor_changed(data, key), {0: _xor(data, key)}),
    "concat3": lambda a, s, b: a + s.encode() + b,
    "take": lambda data, n: data[:n] if n <= len(data) else None,
    "starts_with": bytes.startswith,
    "sum_i32": sum,
    "sum_f64": _fold,
    "sum_bytes": sum,
    "sum_u32": sum,
    "zip_add": _zip_add,
    "dot": lambda a, b: _fold(map(operator.mul, a, b)),
    "scale": _scale_ref,
    "negate_i32": _negate,
    "sorted": lambda v: array.array("d", np.sort(np.frombuffer(v), kind="stable").tobytes()),
    "range_i32": _range_ref,
    "words": _words,
    "mul_f32": lambda a, b: _f32(_f32(a) * _f32(b)),
    "mix_ints": _mix_ref,
    "wrap_i8": lambda v: _wrap(v, 8, True),
    "wrap_u8": lambda v: _wrap(v, 8, False),
    "wrap_i16": lambda v: _wrap(v, 16, True),
    "wrap_u16": lambda v: _wrap(v, 16, False),
    "wrap_i32": lambda v: _wrap(v, 32, True),
    "wrap_u32": lambda v: _wrap(v, 32, False),
    "half": lambda v: None if v is None or v % 2 else v // 2,
    "checked_div": _checked_div_ref,
}


def expected(case: Case) -> Expected | Err:
    value = REFERENCES[case.op](*case.args)
    return value if isinstance(value, (Expected, Err)) else Expected(value)


# -- presenting arguments in the forms Python code passes ------------------------------

ELEMENTS = {Kind.U8: ("B", np.uint8), Kind.I32: ("i", np.int32), Kind.U32: ("I", np.uint32),
            Kind.F64: ("d", np.float64)}  # fmt: skip
LIST_LIMIT = 100_000  # longer numeric inputs are not offered as lists (slow to build)


@dataclass
class Held:
    """An argument as handed to the call, and how to read a ``&mut`` one back."""

    obj: Any
    read: Callable[[], Any] | None = None  # the content after the call
    intact: Callable[[], bool] = lambda: True  # the bytes around a slice were not touched


def _as_array(typecode: str, data: bytes) -> Any:
    out = array.array(typecode)
    if len(data) % out.itemsize:
        return bytes(data)  # no whole elements: plain bytes instead
    out.frombytes(data)
    return out


def _guarded(data: bytes, view: int, itemsize: int) -> tuple[bytes, int]:
    """``data`` between guard bytes, and the guard length."""
    pad = (view % 3 + 1) * itemsize
    return b"\xa5" * pad + data + b"\x5a" * pad, pad


def _np_slice(data: bytes, view: int, dtype: Any) -> Any:
    size = np.dtype(dtype).itemsize
    backing, pad = _guarded(data, view, size)
    return np.frombuffer(backing, dtype)[pad // size : (pad + len(data)) // size]


def _np_strided(data: bytes, dtype: Any) -> Any:
    values = np.frombuffer(data, dtype)
    spread = np.zeros(2 * len(values), dtype)
    spread[::2] = values
    return spread[::2]  # not contiguous: the runtime copies it


def _bytes_form(data: bytes, view: int) -> Any:
    forms: list[Callable[[], Any]] = [
        lambda: data,
        lambda: bytearray(data),
        lambda: memoryview(data),
        lambda: memoryview(_guarded(data, view, 1)[0])[view % 3 + 1 :][: len(data)],
        lambda: array.array("B", data),
        lambda: np.frombuffer(data, np.uint8),
        lambda: _np_slice(data, view, np.uint8),
        lambda: _np_strided(data, np.uint8),
        lambda: _as_array("I" if len(data) % 4 == 0 else "H", data),  # raw bytes of wider items
    ]
    return forms[view % len(forms)]()


def _numbers_form(data: bytes, view: int, typecode: str, dtype: Any) -> Any:
    forms: list[Callable[[], Any]] = [
        lambda: _as_array(typecode, data),
        lambda: np.frombuffer(data, dtype).tolist(),
        lambda: memoryview(_as_array(typecode, data)),
        lambda: np.frombuffer(data, dtype),
        lambda: _np_slice(data, view, dtype),
        lambda: _np_strided(data, dtype),
        lambda: memoryview(data).cast(typecode),
    ]
    form = view % len(forms)
    if form == 1 and len(data) > LIST_LIMIT:
        form = 0
    return forms[form]()


def _to_value(typecode: str, data: bytes) -> Any:
    return data if typecode == "B" else _as_array(typecode, data)


def _mutable(data: bytes, view: int, typecode: str, dtype: Any) -> Held:
    """A writable buffer; reading it back gives bytes or an array.array."""
    size = np.dtype(dtype).itemsize
    backing, pad = _guarded(data, view, size)
    form = view % 4
    if form == 0:
        native = bytearray(data) if typecode == "B" else _as_array(typecode, data)
        return Held(
            native,
            lambda: _to_value(typecode, native.tobytes() if typecode != "B" else bytes(native)),
        )
    if form == 1:
        copy = np.frombuffer(data, dtype).copy()
        return Held(copy, lambda: _to_value(typecode, copy.tobytes()))
    whole = bytearray(backing)
    if form == 2:
        numbers = np.frombuffer(whole, dtype)[pad // size : (pad + len(data)) // size]
        obj: Any = numbers
    else:
        obj = memoryview(whole)[pad : pad + len(data)]
        obj = obj if typecode == "B" else obj.cast(typecode)
    guards = backing[:pad], backing[-pad:]
    return Held(
        obj,
        lambda: _to_value(typecode, bytes(whole[pad : pad + len(data)])),
        lambda: (bytes(whole[:pad]), bytes(whole[-pad:])) == guards,
    )


def present(value: Any, t: Type, view: int) -> Held:
    """``value`` in one of the forms Python code passes for a parameter of type ``t``."""
    if t.kind is Kind.OPTION:
        assert t.inner is not None
        return Held(None) if value is None else present(value, t.inner, view)
    if t.kind not in (Kind.SLICE, Kind.VEC, Kind.MUT_SLICE):
        return Held(value)
    assert t.inner is not None
    typecode, dtype = ELEMENTS[t.inner.kind]
    raw = value if isinstance(value, bytes) else value.tobytes()
    if t.kind is Kind.MUT_SLICE:
        return _mutable(raw, view, typecode, dtype)
    if typecode == "B":
        return Held(_bytes_form(raw, view))
    return Held(_numbers_form(raw, view, typecode, dtype))


# -- one call, checked -----------------------------------------------------------------


@dataclass
class Actual:
    """What a call did: its value or ``Err`` message, and ``&mut`` arguments after it."""

    value: Any = None
    error: str | None = None
    after: dict[int, Any] = field(default_factory=dict)
    intact: bool = True


def call(module: Any, case: Case) -> Actual:
    """Make the call, the last few arguments by keyword when ``case.view`` says so."""
    import wasmbridge

    func = module.interface.export(case.op)
    held = [
        present(a, p.type, case.view + 7 * i)
        for i, (a, p) in enumerate(zip(case.args, func.params, strict=True))
    ]
    objs = [h.obj for h in held]
    positional = len(objs) - (case.view >> 8) % (len(objs) + 1)
    keywords = {
        p.name: obj for p, obj in zip(func.params[positional:], objs[positional:], strict=True)
    }
    actual = Actual()
    try:
        actual.value = module.exports[case.op](*objs[:positional], **keywords)
    except wasmbridge.ReturnedError as exc:
        actual.error = exc.error
    actual.after = {i: h.read() for i, h in enumerate(held) if h.read is not None}
    actual.intact = all(h.intact() for h in held)
    return actual


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type; floats bit for bit (any NaN equals any NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, array.array):
        if a.typecode != b.typecode or len(a) != len(b):
            return False
        if a.typecode != "d":
            return a == b
        x, y = np.frombuffer(a, np.float64), np.frombuffer(b, np.float64)
        both_nan = np.isnan(x) & np.isnan(y)
        return bool(np.all(both_nan | ((x == y) & (np.signbit(x) == np.signbit(y)))))
    return bool(a == b)


def _units(value: bytes | str | array.array[Any]) -> Any:
    if isinstance(value, str):
        return np.frombuffer(value.encode("utf-32-le"), np.uint32)
    if isinstance(value, bytes):
        return np.frombuffer(value, np.uint8)
    return np.frombuffer(value.tobytes(), f"u{value.itemsize}")


def describe(got: Any, want: Any) -> str:
    """How ``got`` differs from ``want``, briefly (bitwise, item by item)."""
    if not (isinstance(got, (bytes, str, array.array)) and type(got) is type(want)):
        return f"got {_short(got)}, expected {_short(want)}"
    n = min(len(got), len(want))
    differ = np.flatnonzero(_units(got)[:n] != _units(want)[:n])
    first = int(differ[0]) if len(differ) else n
    text = f"got {len(got)} items, expected {len(want)}; {len(differ)} differ, the first at {first}"
    if isinstance(got, bytes):
        text += f"; got {got.count(0)} zero bytes (expected {want.count(0)})"
    return text + f"; got {got[first : first + 8]!r}, expected {want[first : first + 8]!r}"


def check(case: Case, actual: Actual) -> str | None:
    """None when the call did what the reference says; else what went wrong."""
    want = expected(case)
    if isinstance(want, Err):
        if actual.error is None:
            return f"expected ReturnedError, got {_short(actual.value)}"
        if not actual.error or (want.message is not None and actual.error != want.message):
            return f"ReturnedError {actual.error!r}, expected {want.message or 'a message'!r}"
        return None
    if actual.error is not None:
        return f"unexpected ReturnedError {actual.error!r}"
    value = (
        _inflate(actual.value)
        if case.op == "zlib_compress" and isinstance(actual.value, bytes)
        else actual.value
    )
    if not same(value, want.value):
        return "result " + describe(value, want.value)
    for index, after in want.after.items():
        if not same(actual.after[index], after):
            return f"argument {index} after the call: " + describe(actual.after[index], after)
    return None if actual.intact else "bytes around a &mut slice were overwritten"


# -- what both hosts report per call ---------------------------------------------------

ARRAY_KINDS = {"i": "i32", "I": "u32", "l": "i64", "q": "i64", "d": "f64"}


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def canonical(value: Any) -> str:
    """A value in the form tests/node/differential.mjs gives the JS one."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if value != value else "f" + struct.pack("<d", value).hex()
    if isinstance(value, str):
        return "s" + _hash(value.encode())
    if isinstance(value, bytes):
        return "b" + _hash(value)
    if isinstance(value, array.array):
        data = value.tobytes()
        if value.typecode == "d":  # NaN bits differ between engines: one NaN
            floats = np.frombuffer(data, np.float64)
            data = np.where(np.isnan(floats), np.nan, floats).tobytes()
        return ARRAY_KINDS[value.typecode] + _hash(data)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def fingerprint(actual: Actual) -> str:
    head = f"err:{actual.error}" if actual.error is not None else canonical(actual.value)
    return head + "".join(f" after{i}:{canonical(v)}" for i, v in sorted(actual.after.items()))


# -- sequences -------------------------------------------------------------------------

BOUNDARIES: dict[str, Callable[[int], bool]] = {
    "0": lambda n: n == 0,
    "1": lambda n: n == 1,
    "4 KiB ± 2": lambda n: abs(n - 4096) <= 2,
    "64 KiB ± 32": lambda n: abs(n - ARENA) <= 32,
    "over 64 KiB": lambda n: ARENA + 32 < n < MIB - 32,
    "1 MiB ± 32": lambda n: abs(n - MIB) <= 32,
    "2-4 MiB": lambda n: 2 * MIB <= n,
}


def buffer_sizes(case: Case) -> list[int]:
    """Byte lengths of the buffer and text arguments."""
    sizes = []
    for arg in case.args:
        if isinstance(arg, str):
            sizes.append(len(arg.encode()))
        elif isinstance(arg, (bytes, array.array)):
            sizes.append(len(arg) * (1 if isinstance(arg, bytes) else arg.itemsize))
    return sizes


@dataclass
class Tally:
    """What a run covered."""

    calls: int = 0
    returned_errors: int = 0
    bytes_in: int = 0
    ops: set[str] = field(default_factory=set)
    erring_ops: set[str] = field(default_factory=set)  # returned Err at least once
    boundaries: set[str] = field(default_factory=set)

    def add(self, case: Case, actual: Actual) -> None:
        sizes = buffer_sizes(case)
        self.calls += 1
        self.returned_errors += actual.error is not None
        self.bytes_in += sum(sizes)
        self.ops.add(case.op)
        if actual.error is not None:
            self.erring_ops.add(case.op)
        self.boundaries.update(name for name, hit in BOUNDARIES.items() for n in sizes if hit(n))

    def merge(self, other: Tally) -> None:
        self.calls += other.calls
        self.returned_errors += other.returned_errors
        self.bytes_in += other.bytes_in
        self.ops |= other.ops
        self.erring_ops |= other.erring_ops
        self.boundaries |= other.boundaries


def failure(case: Case, problem: str, recent: deque[str]) -> str:
    earlier = "\n".join(f"    {line}" for line in recent) or "    (none)"
    return (
        f"differential failure at seed {case.seed}, step {case.step}: {case.summary()}\n"
        f"  {problem}\n"
        f"  replay: run_sequence(fresh_module, seed={case.seed}, steps={case.step + 1}) "
        f"(same big_budget)\n  the calls before it on this instance:\n{earlier}"
    )


def run_sequence(
    module: Any,
    seed: int,
    steps: int,
    *,
    big_budget: int = 48 * MIB,
    fingerprints: list[str] | None = None,
) -> Tally:
    """The ``seed`` sequence on ``module`` (one instance), each call checked; raises on the first difference."""
    tally = Tally()
    recent: deque[str] = deque(maxlen=6)
    for case in generate(seed, steps, big_budget):
        try:
            actual = call(module, case)
        except Exception as exc:
            raise AssertionError(
                failure(case, f"raised {type(exc).__name__}: {exc}", recent)
            ) from exc
        problem = check(case, actual)
        if problem is not None:
            raise AssertionError(failure(case, problem, recent))
        tally.add(case, actual)
        recent.append(f"step {case.step}: {case.summary()}")
        if fingerprints is not None:
            fingerprints.append(fingerprint(actual))
    return tally


# -- the same sequences for Node ---------------------------------------------------------


def _encode(value: Any, blob: BinaryIO) -> Any:
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, str):
        return {"text": _stored(value.encode(), blob)}
    if isinstance(value, bytes):
        return {"bytes": _stored(value, blob)}
    if isinstance(value, array.array):
        return {"array": ARRAY_KINDS[value.typecode], "at": _stored(value.tobytes(), blob)}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _stored(data: bytes, blob: BinaryIO) -> list[int]:
    offset = blob.tell()
    blob.write(data + bytes(-len(data) % 8))  # 8-byte aligned, for typed arrays
    return [offset, len(data)]


def write_cases(cases: Iterator[Case], directory: Path, name: str) -> int:
    """``NAME.json`` (the calls) and ``NAME.bin`` (their buffers) for differential.mjs."""
    index = []
    with (directory / f"{name}.bin").open("wb") as blob:
        for case in cases:
            args = [_encode(a, blob) for a in case.args]
            index.append(
                {
                    "seed": case.seed,
                    "step": case.step,
                    "op": case.op,
                    "args": args,
                    "view": case.view,
                }
            )
    (directory / f"{name}.json").write_text(json.dumps(index), encoding="utf-8")
    return len(index)
