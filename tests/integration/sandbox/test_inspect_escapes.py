"""`wasmbridge inspect` shows a crafted module's names without letting them drive the terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from build_helpers import CliResult
from wasmbridge.build.report import printable
from wasmbridge.interface import SECTION_NAME
from wasmbridge.interface.binary import uleb
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Function, Interface, Kind, Param, Type

# Each name carries what a hostile module would: clear the screen, set the window
# title, reverse the text after it (RLO), isolate it (LRI), a C1 control (NEL, CSI).
EXPORT = "add\x1b[2J\u202egnp.exe"
IMPORT_MODULE = "env\x1b]0;owned\x07"
IMPORT_NAME = "f\x85\u2066x"
CUSTOM = "note\x1b[31m\u200b"
PARAM = "a\u202e\x9b"
DOC = "Adds.\x1b[8m hidden\u2069"
HOSTILE = (EXPORT, IMPORT_MODULE, IMPORT_NAME, CUSTOM, PARAM, DOC)


def _wat_string(text: str) -> str:
    return "".join(f"\\{byte:02x}" for byte in text.encode())


def _custom(name: str, payload: bytes) -> bytes:
    raw = name.encode()
    body = uleb(len(raw)) + raw + payload
    return b"\0" + uleb(len(body)) + body


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    wasm = bytes(
        wasmtime.wat2wasm(
            f'(module (import "{_wat_string(IMPORT_MODULE)}" "{_wat_string(IMPORT_NAME)}" (func))'
            f' (func (export "{_wat_string(EXPORT)}") (param i32 i32) (result i32)'
            "  local.get 0 local.get 1 i32.add))"
        )
    )
    i32 = Type(Kind.I32)
    interface = Interface(1, (Function(EXPORT, (Param(PARAM, i32), Param("b", i32)), i32, DOC),))
    path = tmp_path / "crafted.wasm"
    path.write_bytes(wasm + _custom(SECTION_NAME, encode(interface)) + _custom(CUSTOM, b"x"))
    return path


def _unprintable(text: str) -> list[str]:
    return sorted({repr(ch) for line in text.splitlines() for ch in line if not ch.isprintable()})


def test_text_output_escapes_every_name_from_the_module(
    cli: Callable[..., CliResult], crafted: Path
) -> None:
    result = cli("inspect", str(crafted))
    assert result.code == 0, result.err
    assert _unprintable(result.out) == []
    for name in (EXPORT, f"{IMPORT_MODULE}.{IMPORT_NAME}", CUSTOM, PARAM, DOC):
        assert printable(name) in result.out
    assert "add\\x1b[2J\\u202egnp.exe" in result.out  # the shape a reader sees
    assert "env\\x1b]0;owned\\x07.f\\x85\\u2066x" in result.out


def test_json_output_is_printable_and_decodes_to_the_real_names(
    cli: Callable[..., CliResult], crafted: Path
) -> None:
    result = cli("inspect", "--json", str(crafted))
    assert result.code == 0, result.err
    assert _unprintable(result.out) == []
    data = json.loads(result.out)
    assert data["interface"]["exports"][0]["name"] == EXPORT
    assert data["interface"]["exports"][0]["params"][0]["name"] == PARAM
    assert data["interface"]["exports"][0]["doc"] == DOC
    assert [(i["module"], i["name"]) for i in data["wasm"]["imports"]] == [
        (IMPORT_MODULE, IMPORT_NAME)
    ]
    assert CUSTOM in [s["name"] for s in data["sizes"]["sections"]]


def test_errors_naming_a_crafted_file_are_escaped(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    broken = tmp_path / "evil\x1b[2J\u202e.wasm"  # names from an archive are untrusted too
    broken.write_bytes(b"\0asm\1\0\0\0\x63")  # a section id that does not exist
    result = cli("inspect", str(broken))
    assert result.code == 1
    assert _unprintable(result.err) == []
    assert "evil\\x1b[2J\\u202e.wasm" in result.err


def test_printable_escapes_controls_and_bidi_but_keeps_ordinary_text() -> None:
    assert printable("héllo wörld 名前 ✓") == "héllo wörld 名前 ✓"
    assert printable("\x00\x1b\x7f\x9b\t") == "\\x00\\x1b\\x7f\\x9b\\t"
    bidi = "".join(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
    assert printable(bidi) == "".join(f"\\u{c:04x}" for c in map(ord, bidi))
    assert printable("\u200b\u2028\U000e0041") == "\\u200b\\u2028\\U000e0041"
    assert all(printable(text).isprintable() for text in HOSTILE)
