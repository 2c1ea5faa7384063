"""The interface model, its section codec, the ABI lowering and a wasm reader.

This package imports nothing else of wasmbridge: every host and generator
builds on it.
"""

from __future__ import annotations

from .binary import BinaryFormatError, WasmModule, parse
from .check import validate
from .layout import (
    Layout,
    callback_args_layout,
    enum_tag_size,
    field_offsets,
    is_compound,
    is_list,
    layout,
    option_payload_offset,
)
from .names import python_param_names
from .section import SECTION_NAME, SectionFormatError, SectionVersionError, decode, encode
from .types import (
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

__all__ = [
    "SECTION_NAME",
    "BinaryFormatError",
    "Case",
    "ClassDef",
    "EnumDef",
    "Field",
    "Function",
    "Interface",
    "Kind",
    "Layout",
    "Method",
    "Param",
    "Receiver",
    "RecordDef",
    "SectionFormatError",
    "SectionVersionError",
    "Type",
    "WasmModule",
    "callback_args_layout",
    "decode",
    "encode",
    "enum_tag_size",
    "field_offsets",
    "is_compound",
    "is_list",
    "layout",
    "option_payload_offset",
    "parse",
    "python_param_names",
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
