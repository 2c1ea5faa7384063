"""Linear memory seen from the host: bounds-checked views and a scratch arena.

The engine never moves a memory (see engine/settings.py, MEMORY_MAY_MOVE), so the base
address is fixed; only the size grows. ``view`` covers the size last seen
and is refreshed whenever an access reaches past it, so a guest's
``memory.grow`` is picked up lazily, and no pointer a guest hands back is
ever followed outside its memory.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ...errors import MemoryLimitExceeded, ProtocolError
from .. import _capi
from .native import ArenaPositions

_U32X2 = struct.Struct("<II")


class GuestMemory:
    """Bounds-checked access to one instance's exported memory."""

    def __init__(self, raw: _capi.Memory, owner: object, name: str) -> None:
        self._raw: _capi.Memory | None = raw
        self._owner: object = owner  # keeps the store alive while views exist
        self._name = name
        self.base = raw.base()
        self.size = 0
        self.view = memoryview(b"")
        self.refresh()

    @classmethod
    def fixed(cls, base: int, size: int, owner: object, name: str) -> GuestMemory:
        """A view of a memory known only by address (inside a host call)."""
        memory = cls.__new__(cls)
        memory._raw = None
        memory._owner = owner
        memory._name = name
        memory.base = base
        memory.size = size
        memory.view = _capi.view_at(base, size, owner) if size else memoryview(b"")
        return memory

    @property
    def raw(self) -> _capi.Memory | None:
        """The wasmtime memory (None for a memory known only by address, or released)."""
        return self._raw

    def refresh(self) -> None:
        """Pick up growth; the base address never changes."""
        if self._raw is None:
            return
        size = self._raw.size()
        if size != self.size or not self.view:
            self.size = size
            self.view = _capi.view_at(self.base, size, self._owner) if size else memoryview(b"")

    def release(self) -> None:
        """Forget the memory (its instance is closing): every later access fails its check.

        The shared view is released too when nothing was made from it; views
        made from it keep the memory mapped (their owner is the store) until
        they are dropped, so none can reach freed memory.
        """
        self._raw = None
        self._owner = None
        self.size = 0
        view, self.view = self.view, memoryview(b"")
        try:
            view.release()
        except BufferError:
            pass  # something exports it (numpy): it keeps the store alive instead

    def check(self, ptr: int, nbytes: int, what: str = "a buffer it gave") -> None:
        """Raise unless ``[ptr, ptr + nbytes)`` lies inside the memory; ``what`` names
        the buffer in the error (``the result of `f```)."""
        end = ptr + nbytes
        if end > self.size or ptr < 0:
            self.refresh()
            if end > self.size or ptr < 0:
                raise ProtocolError(
                    f"{self._name}: {what}: bytes {ptr:,}..{end:,} are outside its "
                    f"{self.size:,}-byte memory",
                    hint="this is a bug in the guest module or a mismatched interface",
                )

    def read(self, ptr: int, nbytes: int) -> bytes:
        self.check(ptr, nbytes)
        return self.view[ptr : ptr + nbytes].tobytes()

    def write(self, ptr: int, data: memoryview) -> None:
        """Copy a byte-format view into memory (one memcpy)."""
        nbytes = data.nbytes
        self.check(ptr, nbytes)
        self.view[ptr : ptr + nbytes] = data

    def pair(self, ptr: int) -> tuple[int, int]:
        """Two little-endian u32 at ``ptr`` (a (pointer, length) in a return area)."""
        self.check(ptr, 8)
        return _U32X2.unpack_from(self.view, ptr)


Alloc = Callable[[int, int], int]
Free = Callable[[int, int, int], None]


class Arena(ArenaPositions):
    """Scratch space in guest memory for borrowed arguments and the return area.

    A call records ``top`` on entry and restores it on exit (stack
    discipline), so a nested call from inside a host import uses the space
    above its caller's. The space comes from the guest's ``__wb_alloc``
    on the first call that needs it (``open()``; ``start`` is 0 until then,
    so making an instance never calls into the guest) and is regrown (up to ``MAX_SIZE``) only when
    no call holds any of it and no host import is running (``busy``);
    larger buffers get their own allocation for the call.
    """

    INITIAL_SIZE = 64 * 1024
    MAX_SIZE = 4 * 1024 * 1024
    RETAREA = 32  # bytes reserved at the start for the return area

    def __init__(self, alloc: Alloc, free: Free, memory: GuestMemory, name: str) -> None:
        self._alloc = alloc
        self._free = free
        self._memory = memory
        self._name = name
        self.start = 0
        self.end = 0
        self.top = 0
        self.busy = 0  # host imports running: an outer call may hold the return area

    def open(self) -> None:
        """Allocate the space (callers check ``start`` first: 0 until this runs)."""
        if not self.start:
            self._grow(self.INITIAL_SIZE)

    def take(self, nbytes: int, align: int) -> int:
        """Space for ``nbytes`` until the current call restores ``top``, or 0."""
        self.open()
        top = (self.top + align - 1) & ~(align - 1)
        if top + nbytes <= self.end:
            self.top = top + nbytes
            return top
        idle = not self.busy and self.top == self.start + self.RETAREA
        if idle and nbytes + align <= self.MAX_SIZE - self.RETAREA:
            self._grow(max(nbytes + align + self.RETAREA, 2 * (self.end - self.start)))
            return self.take(nbytes, align)
        return 0

    def _grow(self, size: int) -> None:
        size = min(max(size, self.INITIAL_SIZE), self.MAX_SIZE)
        if self.start:
            self._free(self.start, self.end - self.start, 8)
            self.start = self.end = self.top = 0
        ptr = self._alloc(size, 8)
        if not ptr:
            raise MemoryLimitExceeded(
                f"{self._name}: the guest could not allocate {size:,} bytes of scratch memory",
                hint="raise the memory limit (Limits(memory_mb=...)) or pass smaller buffers",
            )
        # Allocating may have grown the memory: make the view cover the arena, so
        # writes into it need no bounds check afterwards. Checked before it is used
        # (the compiled call path copies into [start, end) unchecked): a guest
        # allocator handing out space outside its memory leaves the arena closed.
        self._memory.check(ptr, size, "the scratch space its allocator gave")
        self.start = ptr
        self.end = ptr + size
        self.top = ptr + self.RETAREA
