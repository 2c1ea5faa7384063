"""Names in generated JavaScript and TypeScript: identifiers, keys, typed arrays.

Export and parameter names come from the interface; these functions keep
them valid JavaScript (``new`` becomes ``new_``, ``random-bytes`` is
exported as ``"random-bytes"``) without colliding with the glue's own names.
"""

from __future__ import annotations

import json
import re

from ..interface.types import Kind

HOST_NAMESPACE = "env"  # imports from it are keyed by name alone, as in Python

TYPED_ARRAYS = {
    Kind.I8: "Int8Array",
    Kind.U8: "Uint8Array",
    Kind.I16: "Int16Array",
    Kind.U16: "Uint16Array",
    Kind.I32: "Int32Array",
    Kind.U32: "Uint32Array",
    Kind.I64: "BigInt64Array",
    Kind.U64: "BigUint64Array",
    Kind.F32: "Float32Array",
    Kind.F64: "Float64Array",
}

RESERVED = frozenset(
    "arguments await break case catch class const continue debugger default delete do else "
    "enum eval export extends false finally for function if implements import in instanceof "
    "interface let new null package private protected public return static super switch this "
    "throw true try typeof undefined var void while with yield NaN Infinity globalThis".split()
)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def import_key(module: str, name: str) -> str:
    """The key of a host function in ``init(input, { imports })``: ``name`` or ``module.name``."""
    return name if module == HOST_NAMESPACE else f"{module}.{name}"


def js_identifier(name: str, taken: set[str]) -> str:
    """A JavaScript name for ``name``, not reserved and not in ``taken`` (then taken)."""
    candidate = name if _IDENTIFIER.match(name) else re.sub(r"[^A-Za-z0-9_$]", "_", name)
    if not candidate or candidate[0].isdigit():
        candidate = "_" + candidate
    while candidate in RESERVED or candidate in taken:
        candidate += "_"
    taken.add(candidate)
    return candidate


def property_name(name: str) -> str:
    """``name`` as an object key: bare when it is an identifier, else quoted."""
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def member(obj: str, name: str) -> str:
    """``obj.name``, or ``obj["name"]`` when the name is not an identifier."""
    return f"{obj}.{name}" if _IDENTIFIER.match(name) else f"{obj}[{json.dumps(name)}]"


def export_specifier(local: str, name: str) -> str:
    """``local``, ``local as name`` or ``local as "na-me"`` in an export list."""
    if local == name:
        return local
    return f"{local} as {name if _IDENTIFIER.match(name) else json.dumps(name)}"


def js_string(text: str) -> str:
    """A JavaScript string literal (JSON's is one), non-ASCII kept readable."""
    return json.dumps(text, ensure_ascii=False)
