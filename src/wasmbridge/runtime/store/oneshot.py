"""One call in a fresh instance, made, called and deleted by the compiled call path.

Serving runs every request in an instance no other request touches. Made the
general way (a ``LiveInstance``, its callers bound, the call, ``close()``),
that costs several hundred microseconds of Python per request. For an export
that takes one compound value (a record, tuple or list) and returns one, of a
module that needs nothing from the host, ``OneShot`` does it all in C
(``_native.OneShot``): a store with the limits' caps and deadline, an instance
of the pre-linked module, the encoded argument placed with the guest's
allocator, the call, the result decoded, the store deleted. Where the argument
and result types have a compiled codec (bridge/compiled_codec.py: integers,
strings, lists, tuples and records), encoding and decoding happen in that same
C call too; otherwise, and for any value that codec does not take, Python
encodes the argument and decodes the result with the codecs every other call
uses. Python code run right after a guest call runs on cold caches, so this
matters more than the codecs' own cost suggests.

A module qualifies when it imports nothing but the SDK's panic hook (so a call
can do nothing but compute its answer: running it again gives the same one),
has no reactor initializer, no WASI and no fuel limit. Whatever is not a clean
answer comes back as ``None`` (the caller runs the call the general way, which
reports the trap, the panic or the memory limit with its whole message), except
the time limit, raised here as the general path raises it, since running again
would take as long once more.

Ctrl-C does not stop a one-shot call: it takes effect when the call ends, by
the time limit at the latest (serving runs calls on worker threads, where
SIGINT never lands).

    shot = OneShot.make(module, "handle", limits)   # None: does not qualify
    result = shot(request) if shot else None         # None: call it the general way
    result = shot.call_fields(fields)                # the same, the request made of fields
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from ...errors import OutputLimitExceeded
from ...interface import abi
from ..bridge import native
from ..bridge._short import describe_call
from ..bridge.compiled_codec import compiled_codec
from ..bridge.records import type_space
from ..bridge.values import Codec, LiftError, LowerError, Record, Tuple, decode, encode
from ..sandbox import traps
from ..sandbox.guard import check_thread_stack
from ..sandbox.ticker import get_ticker
from ..sandbox.traps import LimitHit

if TYPE_CHECKING:
    from ..module import Module
    from ..sandbox.limits import Limits
    from .live import ModuleParts

__all__ = ["OneShot"]

# _native.OneShot.run's and .call's codes besides the result itself.
_TRAP, _TIMEOUT, _BROKEN, _UNENCODED, _UNDECODED, _TOO_LARGE = 1, 2, 3, 4, 5, 6
_CAP_ORDER = ("memory_size", "table_elements", "instances", "tables", "memories")
_checked = threading.local()  # the wasm stack sizes this thread was checked to hold


class OneShot:
    """``shot(value)``: the export's result for ``value`` from a fresh instance, or None."""

    def __init__(self, parts: ModuleParts, export: str, limits: Limits | None, native_shot: Any,
                 arg: Codec, result: Codec, wasm_stack: int,
                 max_result_bytes: int | None = None) -> None:  # fmt: skip
        self._parts = parts
        self._max_result = max_result_bytes
        self._export = export
        self._limits = limits
        self._shot = native_shot
        self._arg = arg
        self._result = result
        self._wasm_stack = wasm_stack
        self._timeout = limits.timeout_s if limits is not None else None
        self._ticker = get_ticker()
        # Both compiled, or neither: a call then encodes and decodes in C.
        compiled = compiled_codec(arg), compiled_codec(result)
        self._compiled = compiled if None not in compiled else None

    @classmethod
    def make(
        cls,
        module: Module,
        export: str,
        limits: Limits | None,
        max_result_bytes: int | None = None,
    ) -> OneShot | None:
        """The one-shot caller of ``export``, or None when the module or export does not
        qualify (see the module's docstring) or the compiled call path is not there.

        ``max_result_bytes``: a larger encoded result is neither copied out nor decoded
        (OutputLimitExceeded), so a guest cannot make the host build its whole memory
        into Python objects."""
        found = module.one_shot_parts(limits)
        oneshot_type = getattr(native.NATIVE, "OneShot", None)
        if found is None or oneshot_type is None:
            return None
        parts, settings, linked = found
        if limits is not None and limits.fuel is not None:
            return None
        if parts.interface is None or parts.exports.reactor_init is not None:
            return None
        panic_hook = (abi.HOST_MODULE, abi.PANIC_IMPORT)
        if any((i.module, i.name) != panic_hook for i in parts.wasm.imports):
            return None
        planned = parts.exports.functions.get(export)
        if planned is None or not parts.exports.has_allocator:
            return None
        function = planned.function
        if len(function.params) != 1:
            return None
        space = type_space(parts.interface, parts.name)
        codecs = space.codec(function.params[0].type), space.codec(function.result)
        if not all(_crosses_as_buffer(codec) for codec in codecs):
            return None
        wasm_type = parts.wasm.export_type(export)
        if wasm_type is None or list(wasm_type.params) != ["i32", "i32"] or wasm_type.results:
            return None
        caps = parts.store_caps(limits) if limits is not None else {}
        shot = oneshot_type(
            engine=linked.engine_at,
            pre=linked.pre_at,
            caps=tuple(int(caps.get(name, -1)) for name in _CAP_ORDER),
            epoch=settings.epoch,
            handler=export,
            alloc=abi.ALLOC_EXPORT,
            keep=linked,
            max_result=-1 if max_result_bytes is None else max_result_bytes,
        )
        return cls(parts, export, limits, shot, *codecs, settings.max_wasm_stack, max_result_bytes)

    def argument(self, *fields: Any) -> Any:
        """The argument record (or tuple) of ``fields``, unchecked: the call checks every
        field as it encodes them, so checking them here too would only cost time."""
        return self._arg.make(fields) if isinstance(self._arg, Record) else fields

    def __call__(self, value: Any, timeout: float | None = None) -> Any:
        """The result, or None: the call did not end cleanly (run it the general way).

        ``timeout``: seconds instead of the limits' (which must have one), to try a
        call briefly before running it where it may take its whole time.
        """
        return self._call(value, False, timeout)

    def call_fields(self, fields: tuple[Any, ...], timeout: float | None = None) -> Any:
        """As calling it with ``self.argument(*fields)``, without making the record
        when the compiled codec encodes the fields as they are."""
        return self._call(fields, True, timeout)

    def _call(self, value: Any, fields: bool, timeout: float | None) -> Any:
        if getattr(_checked, "stack", 0) < self._wasm_stack:
            check_thread_stack(self._parts.name, self._wasm_stack)
            _checked.stack = self._wasm_stack
        deadline = float("inf")
        if self._timeout is not None:
            deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
            self._ticker.keep_busy(deadline)
        answer = _UNENCODED
        if self._compiled is not None:
            answer = self._shot.call(*self._compiled, value, deadline, fields)
            if answer.__class__ is not int:
                return answer
        if answer == _UNENCODED:
            if fields:
                value, fields = self.argument(*value), False
            try:
                request = encode(self._arg, value)
            except LowerError:
                return None  # the general path says what is wrong with it
            answer = self._shot.run(request, deadline)
            if answer.__class__ is bytes:
                try:
                    return decode(self._result, answer)
                except LiftError:
                    return None
        if answer == _TIMEOUT:
            raise self._time_limit(self.argument(*value) if fields else value)
        if answer == _TOO_LARGE:
            raise OutputLimitExceeded(
                f"{self._parts.name}.{self._export}() returned a result of more than "
                f"{self._max_result:,} bytes (encoded)",
                hint="return less",
            )
        return None  # a trap, a broken ABI, a result the codecs refuse

    def _time_limit(self, value: Any) -> BaseException:
        context = traps.FailureContext(self._parts.name, self._parts.wasm, self._limits)
        call = describe_call(self._export, (value,))
        return traps.limit_error(context, call, LimitHit("time"))


def _crosses_as_buffer(codec: Codec) -> bool:
    """Whether values of this codec cross as one encoded buffer: records and tuples
    (docs/abi-compound.md)."""
    return isinstance(codec, (Record, Tuple))
