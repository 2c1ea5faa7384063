"""The interface model, its section codec, the ABI lowering and a wasm reader.

This package imports nothing else of wasmbridge: every host and generator
builds on it.
"""

from __future__ import annotations

from .binary import BinaryFormatError, WasmModule, parse
from .check import validate
from .section import SECTION_NAME, SectionFormatError, SectionVersionError, decode
from .types import Function, Interface, Kind, Param, Type

__all__ = [
    "SECTION_NAME",
    "BinaryFormatError",
    "Function",
    "Interface",
    "Kind",
    "Param",
    "SectionFormatError",
    "SectionVersionError",
    "Type",
    "WasmModule",
    "decode",
    "parse",
    "read_interface",
    "validate",
]


def read_interface(module: WasmModule) -> Interface | None:
    """The interface a parsed module carries, or None when it has no section.

    Raises SectionFormatError (or SectionVersionError) when the section is
    present but unreadable.
    """
    payload = module.custom_section(SECTION_NAME)
    return None if payload is None else decode(payload)
