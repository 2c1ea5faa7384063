"""Shrink a freshly compiled module: drop unused exports, then ``wasm-opt -Oz`` (or -O3).

rustc exports ``__data_end`` and ``__heap_base`` from every cdylib, and
``#[no_mangle]`` C routines such as ``memcpy``; no host needs them. The
allocator pair ``__wb_alloc``/``__wb_free`` is needed only when some call
moves data through memory, which the interface tells; once its exports are
gone, wasm-opt removes the allocator's code as well.

    data = strip_exports(data, interface)
    data = run_wasm_opt(Path("/usr/bin/wasm-opt"), data)  # the size profile: -Oz
    # the speed profile: level="-O3", features=wasm_opt_features(profile)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ..errors import BuildFailed
from ..interface import SECTION_NAME, Interface, parse
from ..interface.abi import (
    ALLOC_EXPORT,
    FREE_EXPORT,
    STACK_POINTER_EXPORT,
    is_owned,
    needs_memory,
)
from ..interface.binary import WasmModule, rewrite_exports
from ..interface.types import Function, Type
from .profile import Profile

ALWAYS_STRIPPED = frozenset({"__data_end", "__heap_base"})
CODE_SECTION_ID = 10
GLOBAL_SET = 0x24
# C memory routines a #![no_std] crate (or the SDK) defines #[no_mangle] end up
# exported from a cdylib; with an interface we know no host calls them.
LIBC_EXPORTS = frozenset({"memcpy", "memmove", "memset", "memcmp", "bcmp"})
ALLOCATOR_EXPORTS = frozenset({ALLOC_EXPORT, FREE_EXPORT})
# Tried when wasm-opt rejects a module with its default (MVP) features: what
# newer rustc versions emit by default, all supported by wasmtime and browsers.
FEATURE_FLAGS = (
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-reference-types",
    "--enable-simd",
)
WASM_OPT_TIMEOUT = 300.0


def allocator_needed(interface: Interface | None) -> bool:
    """Whether a host may call ``__wb_alloc``/``__wb_free`` on this module.

    Without an interface nothing is known, so the allocator stays.
    """
    if interface is None:
        return True
    methods = (m.function for c in interface.classes for m in c.methods)
    if any(needs_memory(f, interface) for f in (*interface.exports, *methods)):
        return True
    return any(_moves_owned_data(f) for f in interface.imports)


def _moves_owned_data(func: Function) -> bool:
    """An import that takes or returns String/Vec: the host frees or allocates it."""
    return any(_contains_owned(t) for t in (*(p.type for p in func.params), func.result))


def _contains_owned(t: Type) -> bool:
    if is_owned(t):
        return True
    return t.inner is not None and _contains_owned(t.inner)


def exports_to_strip(data: bytes, interface: Interface | None) -> set[str]:
    """The export names that ``strip_exports`` removes from ``data``."""
    strip = set(ALWAYS_STRIPPED)
    if interface is not None:
        strip |= LIBC_EXPORTS - {f.name for f in interface.exports}
    if not allocator_needed(interface):
        strip |= ALLOCATOR_EXPORTS
    module = parse(data)
    if not _stack_pointer_written(module, data):
        strip.add(STACK_POINTER_EXPORT)
    return {e.name for e in module.exports if e.name in strip}


def _stack_pointer_written(module: WasmModule, data: bytes) -> bool:
    """Whether any code may move the exported stack pointer (hosts restore it after a
    trap). Code that never does has no frames on the shadow stack, and the export
    (plus the global, which wasm-opt then drops) would only cost bytes. A byte
    search for ``global.set <index>`` can only err towards keeping the export."""
    export = next((e for e in module.exports if e.name == STACK_POINTER_EXPORT), None)
    code = next((sec for sec in module.sections if sec.id == CODE_SECTION_ID), None)
    if export is None or export.kind != "global" or code is None:
        return True
    return sets_global(data[code.offset : code.offset + code.size], export.index)


def sets_global(code: bytes, index: int) -> bool:
    """Whether ``code`` holds ``global.set index`` in any LEB128 spelling of the index
    (wasm-ld pads it to five bytes: ``24 80 80 80 80 00`` sets global 0)."""
    start = 0
    while (at := code.find(GLOBAL_SET, start)) >= 0:
        value, shift, pos = 0, 0, at + 1
        while pos < len(code) and shift < 35:
            byte = code[pos]
            value |= (byte & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
            if byte < 0x80:
                if value == index:
                    return True
                break
        start = at + 1
    return False


def strip_exports(data: bytes, interface: Interface | None) -> bytes:
    """``data`` without the exports no host needs."""
    strip = exports_to_strip(data, interface)
    if not strip:
        return data
    keep = {e.name for e in parse(data).exports} - strip
    return rewrite_exports(data, keep)


def wasm_opt_features(profile: Profile) -> tuple[str, ...]:
    """The features to enable on wasm-opt's first try: those rustc was told to use.

    The size profile's modules go in with wasm-opt's defaults, then
    FEATURE_FLAGS. The speed profile names what the crate was compiled with:
    mutable globals (the SDK's exported stack pointer) and simd128, so
    wasm-opt -O3 introduces no other feature.
    """
    if profile.name == "size":
        return ()
    return ("--enable-mutable-globals", *(("--enable-simd",) if profile.simd128 else ()))


def run_wasm_opt(
    wasm_opt: Path, data: bytes, *, level: str = "-Oz", features: tuple[str, ...] = ()
) -> bytes:
    """``wasm-opt -Oz`` (or ``level``) over ``data``; raises BuildFailed saying why it could not.

    ``features`` are enabled on the first try; when wasm-opt rejects the
    module with them, it runs again with every feature of FEATURE_FLAGS.
    The interface section must come out byte for byte: hosts read it.
    """
    with tempfile.TemporaryDirectory(prefix="wasmbridge-opt-") as tmp:
        source, target = Path(tmp) / "in.wasm", Path(tmp) / "out.wasm"
        source.write_bytes(data)
        base = [str(wasm_opt), level, str(source), "-o", str(target)]
        proc = _run([*base, *features])
        if proc.returncode != 0:
            proc = _run([*base, *FEATURE_FLAGS])
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise BuildFailed(f"wasm-opt failed: {first}", hint=_REPORT_HINT)
        optimized = target.read_bytes()
    if parse(optimized).custom_section(SECTION_NAME) != parse(data).custom_section(SECTION_NAME):
        raise BuildFailed("wasm-opt changed the wasmbridge interface section", hint=_REPORT_HINT)
    return optimized


_REPORT_HINT = "the unoptimized module was kept; please report this with the crate"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=WASM_OPT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 1, "", str(exc))
