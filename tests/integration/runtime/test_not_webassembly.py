"""A file that is not WebAssembly is named for what it probably is (interface/binary.py).

Each file is a real one of its kind, made here: the images and the PDF written from
their specifications (a 1x1 PNG, a 1x1 GIF, an 8x8 baseline JPEG), the archives by
gzip and zipfile, the native files' headers as compilers and linkers lay them out.
"""

from __future__ import annotations

import gzip
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

import wasmbridge

WASM = bytes.fromhex("0061736d01000000")  # an empty module


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit grey
    pixels = zlib.compress(b"\x00\x80")  # filter 0, one grey pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _gif() -> bytes:
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # 1x1, a global table of 2 colours
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    pixels = b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one block, end
    return b"GIF89a" + screen + b"\x00\x00\x00\xff\xff\xff" + image + pixels + b"\x3b"


def _jpeg() -> bytes:
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    one_code = bytes([1] + [0] * 15)  # one Huffman code, of length 1
    return (
        b"\xff\xd8"
        + segment(0xDB, b"\x00" + bytes([1] * 64))  # quantisation table 0
        + segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")  # 8x8, grey
        + segment(0xC4, b"\x00" + one_code + b"\x00")  # DC table: difference 0
        + segment(0xC4, b"\x10" + one_code + b"\x00")  # AC table: end of block
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC 0, end of block, padding ones
        + b"\xff\xd9"
    )


def _pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _zip(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _mach_o() -> bytes:
    """A 64-bit x86-64 Mach-O object's header (clang -target x86_64-apple-darwin -c)."""
    return struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 1, 0, 0, 0, 0)


def _coff_header(sections: int, optional: int, flags: int) -> bytes:
    return struct.pack("<HHIIIHH", 0x8664, sections, 0, 0, 0, optional, flags)


def _pe() -> bytes:
    """A 64-bit Windows program's headers: DOS stub, "PE\\0\\0", COFF, optional header."""
    dos = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40)
    optional = struct.pack("<H", 0x20B) + bytes(0xEE)  # PE32+, the rest left zero
    return dos + b"PE\0\0" + _coff_header(0, len(optional), 0x22) + optional


def _coff_object() -> bytes:
    """An x86-64 object file (clang -target x86_64-pc-windows-msvc -c): one .text section."""
    text = struct.pack("<8sIIIIIIHHI", b".text", 0, 0, 0, 0, 0, 0, 0, 0, 0x60500020)
    return _coff_header(1, 0, 0) + text


FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "logo.png": (_png, "a PNG image?"),
    "photo.jpg": (_jpeg, "a JPEG image?"),
    "anim.gif": (_gif, "a GIF image?"),
    "manual.pdf": (_pdf, "a PDF document?"),
    "module.wasm.gz": (lambda: gzip.compress(WASM), "a gzip file: gunzip it first?"),
    "bundle.zip": (lambda: _zip(("add.wasm", WASM)), "a zip archive?"),
    "lib.jar": (
        lambda: _zip(("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), ("A.class", b"")),
        "a Java archive (.jar)?",
    ),
    "add.dylib": (_mach_o, "a Mach-O file?"),
    "add.exe": (_pe, "a Windows executable or DLL (PE)?"),
    "add.com": (lambda: b"MZ" + bytes(62), "a DOS executable?"),
    "add.obj": (_coff_object, "a COFF object file (.obj)?"),
    "index.html": (lambda: b"\n<!DOCTYPE html><title>x</title>", "an HTML page?"),
}


@pytest.mark.parametrize("name", FILES)
def test_load_names_what_the_file_probably_is(tmp_path: Path, name: str) -> None:
    make, what = FILES[name]
    data = make()
    path = tmp_path / name
    path.write_bytes(data)
    start = " ".join(f"{byte:02x}" for byte in data[:4])
    with pytest.raises(
        wasmbridge.InvalidModule,
        match=rf"(?m)^{re.escape(f'{name} is not WebAssembly (starts {start}: {what})')}$",
    ):
        wasmbridge.load(path)


def test_unknown_bytes_get_no_guess(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(1, 64)))
    with pytest.raises(
        wasmbridge.InvalidModule,
        match=r"(?m)^noise\.bin is not WebAssembly \(starts 01 02 03 04\)$",
    ):
        wasmbridge.load(path)
