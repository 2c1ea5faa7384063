"""Wasm binaries built section by section, with attacker-chosen counts, sizes and names."""

from __future__ import annotations

from collections.abc import Callable

from fuzz_support import COUNT, NAMES, ONE_IN_TEN, draw_leb, draw_name, leb, mutations, section
from hypothesis import strategies as st

# -- the binary format ----------------------------------------------------------------------

HEADER = b"\0asm\x01\0\0\0"
VALTYPE_BYTES = (0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F, 0x69, 0x63, 0x64, 0x40, 0x00, 0xFF)


_VALTYPE = st.sampled_from(VALTYPE_BYTES)
_FORM = st.sampled_from((0x60, 0x60, 0x60, 0x5F, 0x4E, 0x00))
_LIMIT_FLAGS = st.sampled_from((0, 1, 0, 1, 3, 4, 5, 8, 0xFF))
_IMPORT_KIND = st.integers(0, 6)
_EXPORT_KIND = st.sampled_from((0, 0, 0, 1, 2, 3, 4, 5, 0x7F))
_BODY = st.sampled_from((b"\x00\x0b", b"\x00\x41\x00\x0b", b"\x01\x01\x7f\x0b", b""))
_SUBSECTION = st.sampled_from((0, 1, 1, 2, 9))
_BLOB = st.binary(max_size=12)
_SECTION_IDS = st.sampled_from((*range(13), 0, 1, 3, 7, 10, 13, 14, 0x7F, 0xFF))

Drawer = Callable[[st.DrawFn], bytes]


def draw_vector(draw: st.DrawFn, item: Drawer) -> bytes:
    """A vector whose count field may lie about its items."""
    items = [item(draw) for _ in range(draw(COUNT))]
    return draw_leb(draw, len(items)) + b"".join(items)


def draw_functype(draw: st.DrawFn) -> bytes:
    def valtype(d: st.DrawFn) -> bytes:
        return bytes([d(_VALTYPE)])

    return bytes([draw(_FORM)]) + draw_vector(draw, valtype) + draw_vector(draw, valtype)


def draw_limits(draw: st.DrawFn) -> bytes:
    flags = draw(_LIMIT_FLAGS)
    out = bytes([flags]) + draw_leb(draw)
    return out + draw_leb(draw) if flags & 1 else out


def draw_import(draw: st.DrawFn) -> bytes:
    kind = draw(_IMPORT_KIND)
    head = draw_name(draw) + draw_name(draw) + bytes([kind])
    if kind == 0:
        return head + draw_leb(draw)
    if kind == 1:
        return head + bytes([draw(_VALTYPE)]) + draw_limits(draw)
    if kind == 2:
        return head + draw_limits(draw)
    return head + draw(_BLOB)[:3]


def draw_export(draw: st.DrawFn) -> bytes:
    return draw_name(draw) + bytes([draw(_EXPORT_KIND)]) + draw_leb(draw)


def draw_body(draw: st.DrawFn) -> bytes:
    body = draw(_BODY)
    return draw_leb(draw, len(body)) + body


def draw_name_section(draw: st.DrawFn) -> bytes:
    sub = draw_vector(draw, lambda d: draw_leb(d) + draw_name(d))
    return leb(4) + b"name" + bytes([draw(_SUBSECTION)]) + draw_leb(draw, len(sub)) + sub


_PAYLOADS: dict[int, Drawer] = {
    1: lambda d: draw_vector(d, draw_functype),
    2: lambda d: draw_vector(d, draw_import),
    3: lambda d: draw_vector(d, draw_leb),
    4: lambda d: draw_vector(d, lambda d2: b"\x70" + draw_limits(d2)),
    5: lambda d: draw_vector(d, draw_limits),
    7: lambda d: draw_vector(d, draw_export),
    8: draw_leb,
    10: lambda d: draw_vector(d, draw_body),
    12: draw_leb,
}


def structured_modules(
    interface: st.SearchStrategy[bytes] | None = None,
) -> st.SearchStrategy[bytes]:
    """Modules built section by section: coherent ones (consistent counts and indexes,
    hostile names), the same with a few edits, and ones where every field may lie."""
    coherent = coherent_modules(interface)
    return st.one_of(
        coherent,
        coherent.flatmap(mutations),
        lying_modules(interface),
    )


_VALID_VALTYPES = st.sampled_from((0x7F, 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F))
_FEW = st.integers(0, 3)
_MAYBE = st.booleans()
_TRIVIAL_BODY = b"\x00\x0b"  # no locals, end


@st.composite
def coherent_modules(draw: st.DrawFn, interface: st.SearchStrategy[bytes] | None = None) -> bytes:
    """A well-formed module (counts and indexes agree) with hostile names."""
    out = bytearray(HEADER)

    def add(section_id: int, items: list[bytes]) -> None:
        out.extend(section(section_id, leb(len(items)) + b"".join(items)))

    def valtypes() -> bytes:
        picked = [draw(_VALID_VALTYPES) for _ in range(draw(_FEW))]
        return leb(len(picked)) + bytes(picked)

    ntypes = draw(_FEW)
    add(1, [b"\x60" + valtypes() + valtypes() for _ in range(ntypes)])
    imports = []
    for _ in range(draw(_FEW) if ntypes else 0):
        names_ = [draw(NAMES).encode() for _ in range(2)]
        imports.append(
            b"".join(leb(len(n)) + n for n in names_)
            + b"\x00"
            + leb(draw(st.integers(0, ntypes - 1)))
        )
    add(2, imports)
    nfuncs = draw(_FEW) if ntypes else 0
    add(3, [leb(draw(st.integers(0, ntypes - 1))) for _ in range(nfuncs)])
    if draw(_MAYBE):
        add(5, [b"\x00\x01"])
    total = len(imports) + nfuncs
    exports = []
    for _ in range(draw(_FEW) + 1 if total else 0):
        name = draw(NAMES).encode()
        exports.append(leb(len(name)) + name + b"\x00" + leb(draw(st.integers(0, total - 1))))
    add(7, exports)
    add(10, [leb(len(_TRIVIAL_BODY)) + _TRIVIAL_BODY for _ in range(nfuncs)])
    if total and draw(_MAYBE):
        entries = []
        for _ in range(draw(_FEW)):
            name = draw(NAMES).encode()
            entries.append(leb(draw(st.integers(0, total))) + leb(len(name)) + name)
        sub = leb(len(entries)) + b"".join(entries)
        out += section(0, leb(4) + b"name" + b"\x01" + leb(len(sub)) + sub)
    if interface is not None and draw(_MAYBE):
        out += section(0, leb(10) + b"wasmbridge" + draw(interface))
    return bytes(out)


@st.composite
def lying_modules(draw: st.DrawFn, interface: st.SearchStrategy[bytes] | None = None) -> bytes:
    """A module assembled section by section with attacker-chosen counts, sizes and names,
    sometimes truncated or with an unknown section id."""
    out = bytearray(HEADER)
    for _ in range(draw(st.integers(0, 8))):
        section_id = draw(_SECTION_IDS)
        if section_id == 0:
            choice = draw(st.integers(0, 2))
            if choice == 0:
                payload = draw_name_section(draw)
            elif choice == 1 and interface is not None:
                payload = leb(10) + b"wasmbridge" + draw(interface)
            else:
                payload = draw_name(draw) + draw(_BLOB)
        else:
            make = _PAYLOADS.get(section_id)
            payload = make(draw) if make is not None else draw(_BLOB)
        size = draw_leb(draw, len(payload)) if draw(ONE_IN_TEN) == 0 else leb(len(payload))
        out += bytes([section_id]) + size + payload
    if draw(ONE_IN_TEN) == 0:
        del out[draw(st.integers(0, len(out))) :]
    return bytes(out)
