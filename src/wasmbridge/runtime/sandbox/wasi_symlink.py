"""WASI ``path_symlink`` that cannot leave a way out of a grant behind.

A guest may create symlinks in a read-write directory. wasmtime refuses
absolute targets but creates any relative one, ``../../etc/passwd``
included: harmless to the guest (its own path lookups never leave the
grant), dangerous to the host or anyone else who later reads the output
directory and follows the link.

So ``path_symlink`` is linked over wasmtime's: a target that is absolute
or has a ``..`` component is refused with EPERM (the errno wasmtime gives
for absolute targets); anything else goes to wasmtime's own implementation,
unchanged. Only *downward* links are kept because whether a ``..`` stays
inside depends on where the link really lands, and symlinks in the
link's own path (``lnk/link`` with ``lnk -> .``) move it: a target
made only of downward steps from a directory inside the grant stays inside,
whatever those steps resolve through.

wasmtime's implementation reads the guest's strings through the calling
instance's ``memory`` export, and a host call made from the host has no
calling instance. So the call is forwarded through a four-line wasm
trampoline that imports wasmtime's ``path_symlink`` and the guest's own
memory and re-exports that memory: no copy, no extra memory for
``Limits`` to count, and exactly wasmtime's behaviour (errnos, read-only
grants, paths outside the grant) for every link that is allowed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import wasmtime

from ...interface.binary import FuncType
from .. import _capi
from .traps import FailureContext

SYMLINK_TYPE = FuncType(("i32",) * 5, ("i32",))
EPERM = 63  # WASI errno values
ENOTSUP = 58
EFAULT = 21
_SLOT = _capi.VALRAW_SIZE

_TRAMPOLINE = """(module
  (import "wasi" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "guest" "memory" (memory 0))
  (export "memory" (memory 0))
  (func (export "symlink") (param i32 i32 i32 i32 i32) (result i32)
    (call $symlink (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4))))"""
_compiled: dict[int, wasmtime.Module] = {}  # id(engine) -> trampoline; engines live forever

# (module, name, wasm type, raw callback), as WasiSession.override defines them.
Define = Callable[[str, str, FuncType, _capi.HostCallback], None]


def escapes(target: bytes) -> bool:
    """Whether a symlink to ``target`` might point outside the directory it is made in."""
    return target.startswith(b"/") or b".." in target.split(b"/")


class SymlinkGuard:
    """``path_symlink`` for one store: escaping targets refused, the rest forwarded."""

    def __init__(
        self, store: wasmtime.Store, linker: wasmtime.Linker, failure: FailureContext
    ) -> None:
        self._store = store
        self._linker = linker
        self._failure = failure
        self._originals: dict[str, wasmtime.Func] = {}
        self._trampolines: dict[str, wasmtime.Func] = {}

    def override(
        self, modules: tuple[str, ...], imported: set[tuple[str, str]], define: Define
    ) -> None:
        """Link the guarded ``path_symlink`` for each WASI module the guest imports it from.

        Called after ``linker.define_wasi()`` and before ours shadows wasmtime's.
        """
        for module in modules:
            if (module, "path_symlink") not in imported:
                continue
            try:
                original = self._linker.get(self._store, module, "path_symlink")
            except wasmtime.WasmtimeError:  # not a module wasmtime's WASI defines
                continue
            if isinstance(original, wasmtime.Func):
                self._originals[module] = original
                define(module, "path_symlink", SYMLINK_TYPE, self._callback(module))

    def _callback(self, module: str) -> _capi.HostCallback:
        def path_symlink(env: int, caller: int, values: int, count: int) -> int:
            args = struct.unpack_from("<5I", _strided(_capi.read_raw(values, _SLOT * 5)))
            try:
                errno = self._symlink(module, caller, args)
            except BaseException as exc:  # noqa: BLE001 - Ctrl-C here: re-raised by the call
                self._failure.host_exception = exc
                self._failure.host_import = f"{module}.path_symlink"
                return _capi.new_trap("wasi path_symlink raised")
            _capi.write_raw(values, struct.pack("<i", errno))
            return 0

        return path_symlink

    def _symlink(self, module: str, caller: int, args: tuple[int, ...]) -> int:
        target_ptr, target_len = args[0], args[1]
        found = _capi.caller_memory(caller)
        if found is None or target_ptr + target_len > found[1]:
            return EFAULT
        if escapes(_capi.read_raw(found[0] + target_ptr, target_len)):
            return EPERM
        forward = self._trampolines.get(module) or self._trampoline(module, caller)
        if forward is None:
            return ENOTSUP
        result = forward(self._store, *args)
        return result if isinstance(result, int) else ENOTSUP

    def _trampoline(self, module: str, caller: int) -> wasmtime.Func | None:
        """wasmtime's ``path_symlink``, callable with the guest's memory as the caller's."""
        memory = _capi.caller_memory_extern(caller)
        if memory is None:
            return None
        engine = self._store.engine
        compiled = _compiled.get(id(engine))
        if compiled is None:
            compiled = _compiled[id(engine)] = wasmtime.Module(engine, _TRAMPOLINE)
        try:
            instance = wasmtime.Instance(self._store, compiled, [self._originals[module], memory])
        except wasmtime.WasmtimeError:  # a memory it cannot import (memory64, shared)
            return None
        func = instance.exports(self._store)["symlink"]
        assert isinstance(func, wasmtime.Func)
        self._trampolines[module] = func
        return func


def _strided(raw: bytes) -> bytes:
    """The low 4 bytes of each 16-byte ``wasmtime_val_raw_t`` slot, packed."""
    return b"".join(raw[i : i + 4] for i in range(0, len(raw), _SLOT))
