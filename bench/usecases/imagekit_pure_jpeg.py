"""A baseline JPEG encoder in plain Python (standard library only), for bench/usecases/imagekit.py.

The same choices as examples/imagekit/src/kernels/jpeg.rs (libjpeg's defaults): JFIF
YCbCr, 4:2:0 chroma subsampling (2x2 averages), the IJG (Annex K) quantisation tables
scaled by quality as libjpeg's ``jpeg_set_quality`` does, the standard Annex K Huffman
tables, byte stuffing; but a straightforward separable float DCT (an 8x8 cosine matrix
applied to rows, then columns) instead of the AAN one. Alpha is ignored.
"""

from __future__ import annotations

import math
import struct

# Zigzag position -> natural (row-major) index.
ZIGZAG = sorted(
    range(64),
    key=lambda i: (
        (i // 8 + i % 8),
        (i % 8) if (i // 8 + i % 8) % 2 == 0 else (i // 8),
    ),
)

LUMA_Q = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]  # fmt: skip
CHROMA_Q = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99]
CHROMA_Q += [24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32

DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
DC_VALUES = list(range(12))
AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D]
AC_LUMA_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
    "535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7"
    "c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
)
AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]
AC_CHROMA_VALUES = bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0"
    "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a828384858687"
    "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"
)
assert len(AC_LUMA_VALUES) == len(AC_CHROMA_VALUES) == 162

# COS[u][x] = c(u)/2 * cos((2x + 1) u pi / 16): the orthonormal 8-point DCT-II.
COS = [
    [(math.sqrt(0.5) if u == 0 else 1.0) / 2 * math.cos((2 * x + 1) * u * math.pi / 16)
     for x in range(8)]
    for u in range(8)
]  # fmt: skip


def scaled_table(base: list[int], quality: int) -> list[int]:
    """libjpeg's jpeg_set_quality: the table scaled, clamped to 1..255 (baseline)."""
    quality = min(max(quality, 1), 100)
    scale = 5000 // quality if quality < 50 else 200 - quality * 2
    return [min(max((q * scale + 50) // 100, 1), 255) for q in base]


def huffman(bits: list[int], values: bytes | list[int]) -> dict[int, tuple[int, int]]:
    """Symbol -> (code, length), the canonical codes of Annex C."""
    table, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            table[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return table


def planes(
    rgba: bytes, width: int, height: int
) -> tuple[list[float], list[float], list[float], int, int]:
    """Y (full size) and Cb, Cr (2x2 averages), level-shifted, edges replicated to whole MCUs."""
    pw, ph = (width + 15) // 16 * 16, (height + 15) // 16 * 16
    ys, cbs, crs = [0.0] * (pw * ph), [0.0] * (pw * ph), [0.0] * (pw * ph)
    for y in range(ph):
        row = min(y, height - 1) * width * 4
        o = y * pw
        for x in range(pw):
            i = row + min(x, width - 1) * 4
            r, g, b = rgba[i], rgba[i + 1], rgba[i + 2]
            ys[o + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128.0
            cbs[o + x] = -0.168736 * r - 0.331264 * g + 0.5 * b
            crs[o + x] = 0.5 * r - 0.418688 * g - 0.081312 * b
    cw, ch = pw // 2, ph // 2
    cb, cr = [0.0] * (cw * ch), [0.0] * (cw * ch)
    for y in range(ch):
        top, bottom = 2 * y * pw, (2 * y + 1) * pw
        for x in range(cw):
            a, b = top + 2 * x, bottom + 2 * x
            cb[y * cw + x] = (cbs[a] + cbs[a + 1] + cbs[b] + cbs[b + 1]) * 0.25
            cr[y * cw + x] = (crs[a] + crs[a + 1] + crs[b] + crs[b + 1]) * 0.25
    return ys, cb, cr, pw, cw


def fdct(block: list[float]) -> list[float]:
    """The 2-D DCT of an 8x8 block (row-major): rows, then columns."""
    tmp = [0.0] * 64
    for y in range(0, 64, 8):
        row = block[y : y + 8]
        for u in range(8):
            c = COS[u]
            tmp[y + u] = sum(c[x] * row[x] for x in range(8))
    out = [0.0] * 64
    for u in range(8):
        col = tmp[u::8]
        for v in range(8):
            c = COS[v]
            out[v * 8 + u] = sum(c[y] * col[y] for y in range(8))
    return out


class BitWriter:
    def __init__(self, out: bytearray) -> None:
        self.out, self.acc, self.count = out, 0, 0

    def write(self, code: int, length: int) -> None:
        self.acc = (self.acc << length) | code
        self.count += length
        while self.count >= 8:
            self.count -= 8
            byte = (self.acc >> self.count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing
        self.acc &= (1 << self.count) - 1

    def flush(self) -> None:
        if self.count:
            pad = 8 - self.count
            self.write((1 << pad) - 1, pad)  # pad with 1-bits


def encode_block(
    block: list[float],
    q: list[float],
    previous_dc: int,
    dc: dict[int, tuple[int, int]],
    ac: dict[int, tuple[int, int]],
    bits: BitWriter,
) -> int:
    """DCT, quantise, zigzag and Huffman-code one block; returns its DC value."""
    coeffs = fdct(block)
    zz = [round(coeffs[n] / q[n]) for n in ZIGZAG]
    diff = zz[0] - previous_dc
    size = abs(diff).bit_length()
    bits.write(*dc[size])
    if size:
        bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
    run = 0
    for k in range(1, 64):
        v = zz[k]
        if v == 0:
            run += 1
            continue
        while run > 15:
            bits.write(*ac[0xF0])  # ZRL: sixteen zeros
            run -= 16
        size = abs(v).bit_length()
        bits.write(*ac[(run << 4) | size])
        bits.write(v if v > 0 else v + (1 << size) - 1, size)
        run = 0
    if run:
        bits.write(*ac[0x00])  # EOB
    return zz[0]


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def encode_jpeg(rgba: bytes, width: int, height: int, quality: int) -> bytes:
    """The ``width`` x ``height`` RGBA image as a baseline JFIF file at ``quality``."""
    luma_q, chroma_q = scaled_table(LUMA_Q, quality), scaled_table(CHROMA_Q, quality)
    out = bytearray(b"\xff\xd8")
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = bytes([0]) + bytes(luma_q[n] for n in ZIGZAG)
    dqt += bytes([1]) + bytes(chroma_q[n] for n in ZIGZAG)
    out += segment(0xDB, dqt)
    sof = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    out += segment(0xC0, sof)
    dht = b""
    for cls, table_bits, values in (
        (0x00, DC_LUMA_BITS, DC_VALUES),
        (0x10, AC_LUMA_BITS, AC_LUMA_VALUES),
        (0x01, DC_CHROMA_BITS, DC_VALUES),
        (0x11, AC_CHROMA_BITS, AC_CHROMA_VALUES),
    ):
        dht += bytes([cls, *table_bits, *values])
    out += segment(0xC4, dht)
    out += segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]))

    dc_luma, ac_luma = huffman(DC_LUMA_BITS, DC_VALUES), huffman(AC_LUMA_BITS, AC_LUMA_VALUES)
    dc_chroma = huffman(DC_CHROMA_BITS, DC_VALUES)
    ac_chroma = huffman(AC_CHROMA_BITS, AC_CHROMA_VALUES)
    ys, cb, cr, pw, cw = planes(rgba, width, height)
    luma_div = [float(v) for v in luma_q]
    chroma_div = [float(v) for v in chroma_q]
    bits = BitWriter(out)
    previous = [0, 0, 0]

    def block_at(plane: list[float], stride: int, x0: int, y0: int) -> list[float]:
        block: list[float] = []
        for y in range(y0, y0 + 8):
            start = y * stride + x0
            block += plane[start : start + 8]
        return block

    for my in range(len(cb) // cw // 8):
        for mx in range(cw // 8):
            for by, bx in ((0, 0), (0, 1), (1, 0), (1, 1)):
                block = block_at(ys, pw, (mx * 2 + bx) * 8, (my * 2 + by) * 8)
                previous[0] = encode_block(block, luma_div, previous[0], dc_luma, ac_luma, bits)
            for c, plane in ((1, cb), (2, cr)):
                block = block_at(plane, cw, mx * 8, my * 8)
                previous[c] = encode_block(
                    block, chroma_div, previous[c], dc_chroma, ac_chroma, bits
                )
    bits.flush()
    out += b"\xff\xd9"
    return bytes(out)
