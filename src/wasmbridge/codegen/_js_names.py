"""Names in generated JavaScript and TypeScript: identifiers, keys, strings.

Export and parameter names come from the interface, so they may be any
identifier Rust allows (``new``, ``Object``, ``größe``) and, for modules
the SDK did not describe, any string at all. The glue declares each under
a local name of its own (``js_identifier``), never one the glue itself
uses (``identifiers`` reads those out of the glue's hand-written text), and
exports it under the module's name: ``export { Object_ as Object }``.
"""

from __future__ import annotations

import json
import re

HOST_NAMESPACE = "env"  # imports from it are keyed by name alone, as in Python

# Words no binding may take in a strict-mode ES module, plus the globals a
# binding would shadow for every reader of the file.
RESERVED = frozenset(
    "arguments await break case catch class const continue debugger default delete do else "
    "enum eval export extends false finally for function if implements import in instanceof "
    "interface let new null package private protected public return static super switch this "
    "throw true try typeof undefined var void while with yield NaN Infinity globalThis".split()
)
_ASCII_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def is_identifier(name: str) -> bool:
    """Whether ``name`` can be written bare as a JS (and TS) IdentifierName.

    Python's identifiers (Unicode XID) are a subset of JavaScript's.
    """
    return bool(_ASCII_IDENTIFIER.match(name)) or name.isidentifier()


def js_identifier(name: str, taken: set[str]) -> str:
    """A JavaScript binding for ``name``, not reserved and not in ``taken`` (then taken)."""
    candidate = name if is_identifier(name) else re.sub(r"[^A-Za-z0-9_$]", "_", name)
    if not candidate or candidate[0].isdigit():
        candidate = "_" + candidate
    while candidate in RESERVED or candidate in taken:
        candidate += "_"
    taken.add(candidate)
    return candidate


def property_name(name: str) -> str:
    """``name`` as a key in a TypeScript interface: bare when it is an identifier, else quoted."""
    return name if is_identifier(name) else json.dumps(name)


def literal_key(name: str) -> str:
    """``name`` as a key in a JS object literal.

    ``{ __proto__: x }`` would set the object's prototype instead of a
    property, so that one key is written computed: ``{ ["__proto__"]: x }``.
    """
    return f"[{json.dumps(name)}]" if name == "__proto__" else property_name(name)


def member(obj: str, name: str) -> str:
    """``obj.name``, or ``obj["name"]`` when the name is not an identifier."""
    return f"{obj}.{name}" if is_identifier(name) else f"{obj}[{js_string(name)}]"


def export_specifier(local: str, name: str) -> str:
    """``local``, ``local as name`` or ``local as "na-me"`` in an export list."""
    if local == name:
        return local
    return f"{local} as {name if is_identifier(name) else js_string(name)}"


def js_string(text: str) -> str:
    """A JavaScript string literal (JSON's is one), non-ASCII kept readable."""
    return json.dumps(text, ensure_ascii=False)


def import_key(module: str, name: str) -> str:
    """The key of a host function in ``init(input, { imports })``: ``name`` or ``module.name``."""
    return name if module == HOST_NAMESPACE else f"{module}.{name}"


# -- reading identifiers out of hand-written JS ------------------------------------------

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)
      | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
      | (?P<tick>`)
      | (?P<close>\})
      | (?P<open>\{)
      | (?P<number>\d[\w.]*)
      | (?P<dots>\.\.\.)
      | (?P<dot>\??\.)\s*(?:[A-Za-z_$][\w$]*)?
      | (?P<name>[A-Za-z_$][\w$]*)
      | .""",
    re.VERBOSE | re.DOTALL,
)
_TEMPLATE_TEXT = re.compile(r"(?:\\.|[^`\\$]|\$(?!\{))*", re.DOTALL)


def identifiers(js: str) -> set[str]:
    """The names a piece of JavaScript refers to or declares.

    Comments, string contents and property names after ``.`` are skipped;
    the expressions inside template literals are read. It over-reads
    (object keys count) but never under-reads, which is what keeping user
    names away from the glue's own needs.
    """
    found: set[str] = set()
    _scan(js, 0, found, in_template_expression=False)
    return found


def _scan(js: str, pos: int, found: set[str], *, in_template_expression: bool) -> int:
    """Reads from ``pos``; inside ``${...}`` stops after the closing brace."""
    depth = 0
    while pos < len(js):
        match = _TOKEN.match(js, pos)
        assert match is not None  # the last alternative matches any character
        pos = match.end()
        kind = match.lastgroup
        if kind == "name":
            found.add(match.group())
        elif kind == "tick":
            pos = _scan_template(js, pos, found)
        elif kind == "open":
            depth += 1
        elif kind == "close":
            if in_template_expression and depth == 0:
                return pos
            depth -= 1
    return pos


def _scan_template(js: str, pos: int, found: set[str]) -> int:
    """From just after an opening backtick to just after the closing one."""
    while pos < len(js):
        text = _TEMPLATE_TEXT.match(js, pos)
        assert text is not None
        pos = text.end()
        if js.startswith("${", pos):
            pos = _scan(js, pos + 2, found, in_template_expression=True)
        else:
            return pos + 1  # the closing backtick
    return pos
