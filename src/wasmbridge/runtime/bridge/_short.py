"""Arguments as error messages show them: short, whatever their size."""

from __future__ import annotations

import reprlib
from typing import Any

from ...interface.types import shown


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxstring = 24
        self.maxother = 24
        self.maxlist = self.maxtuple = 4

    def repr_bytes(self, value: bytes, level: int) -> str:
        return _short_buffer(value)

    def repr_bytearray(self, value: bytearray, level: int) -> str:
        return _short_buffer(value)

    def repr_memoryview(self, value: memoryview, level: int) -> str:
        return f"<memoryview {value.nbytes:,} bytes>"

    def repr_ndarray(self, value: Any, level: int) -> str:
        return f"<ndarray {value.dtype} {value.shape}>"


def _short_buffer(value: bytes | bytearray) -> str:
    # By size only, as the JS glue shows a Uint8Array: bytes are often keys or secrets,
    # and error messages end up in logs.
    return f"<{type(value).__name__} {len(value):,} bytes>"


_SHORT = _ShortRepr()


def describe_call(name: str, args: tuple[Any, ...]) -> str:
    """``f(1, 'x')`` as error messages show a call: every argument cut short."""
    return f"`{shown(name)}({', '.join(_SHORT.repr(a) for a in args)})`"
