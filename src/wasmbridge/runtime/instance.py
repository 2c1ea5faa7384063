"""``Instance``: one instantiated module, its exports as Python attributes.

An instance has its own linear memory, globals and tables, and its own
host functions (``imports=``). ``close()`` frees it at once (also at the
end of a ``with`` block); without it, the garbage collector does. Every
call after ``close()`` raises a ``ModuleError`` saying so.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import InterfaceError
from ..interface import Interface
from ._words import listing
from .bridge.arrays import GuestArray, element_kind
from .bridge.classes import lookup
from .store.live import LiveInstance

if TYPE_CHECKING:
    from .module import Module


class Instance:
    """A module instance: one attribute per export, each a typed Python callable.

    Exports whose names clash with the few attributes below are always
    reachable through ``exports``.

    >>> with module.instantiate() as m:
    ...     m.add(5, 7)
    12
    """

    def __init__(self, live: LiveInstance, module: Module) -> None:
        self._instance = live
        self._module = module
        self.exports: Mapping[str, Callable[..., Any]] = live.functions

    @property
    def module(self) -> Module:
        """The compiled module this is an instance of."""
        return self._module

    @property
    def name(self) -> str:
        return self._instance.name

    @property
    def interface(self) -> Interface | None:
        """The decoded interface section, or None for modules built without the SDK."""
        return self._instance.interface

    def array(self, dtype: object, length: int) -> GuestArray:
        """Allocate ``length`` elements in guest memory (zero-copy arguments)."""
        _require_open(self._instance)
        return GuestArray(self._instance, element_kind(dtype), length)

    def memory_view(self) -> memoryview:
        """A writable view of the whole linear memory as it is now."""
        _require_open(self._instance)
        memory = self._instance.memory
        if memory is None:
            raise AttributeError(f"{self.name} exports no memory")
        memory.refresh()
        return memory.view

    def prepare(self, *exports: str) -> None:
        """Do now what the first call of each of ``exports`` would do before running.

        Binds their callers, the memory, and the scratch space arguments are
        copied into (the guest's allocator runs once). A server that makes
        instances ahead of the requests they serve calls this, so a request
        pays only for its call. Unknown names raise ``AttributeError``.

        >>> instance.prepare("handle")
        """
        live = self._instance
        _require_open(live)
        for name in exports:
            if name not in self.exports:
                getattr(self, name)  # the error a call would raise: unknown or unsupported
        live.prepare(exports)

    def close(self) -> None:
        """Free this instance's store now; calls made afterwards raise ``ModuleError``.

        A call running on another thread finishes first. Closing twice is fine.
        """
        self._instance.close()
        for name in [n for n, v in vars(self).items() if callable(v)]:
            del self.__dict__[name]  # export callables cached by __getattr__

    def __enter__(self) -> Instance:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __getattr__(self, attr: str) -> Any:
        live = self.__dict__.get("_instance")
        exports = self.__dict__.get("exports")
        if exports is not None and attr in exports:
            function = self.__dict__[attr] = exports[attr]  # later lookups skip this method
            return function
        found = lookup(live, attr) if live is not None else None
        if found is not None:  # a record, enum or class the module defines (classes.py)
            return found
        if live is not None and attr in live.unsupported:
            raise InterfaceError(
                f"{self.name}: export `{attr}` cannot be called from Python: "
                f"{live.unsupported[attr]}",
                hint="wrap it in an export with supported types (docs/abi.md)",
            )
        names = list(exports or ())
        close = difflib.get_close_matches(attr, names, n=1)
        suggestion = f"; did you mean `{close[0]}`?" if close else ""
        raise AttributeError(
            f"{live.name if live is not None else 'module'} has no export "
            f"`{attr}`{suggestion} (exports: {listing(sorted(names), 10)})"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.exports))

    def __repr__(self) -> str:
        if self._instance.closed:
            return f"<wasmbridge.Instance {self.name} (closed)>"
        return f"<wasmbridge.Instance {self.name}: {', '.join(sorted(self.exports))}>"


def _require_open(live: LiveInstance) -> None:
    # A function, not a method: every attribute of Instance shadows an export name.
    if live.closed:
        raise live.closed_error()
