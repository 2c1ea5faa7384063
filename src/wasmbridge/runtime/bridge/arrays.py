"""Arrays that live in a module's linear memory: the zero-copy path.

``Instance.array("f32", n)`` allocates ``n`` elements with the guest's own
allocator. Fill it through ``.view`` (a typed memoryview) or ``.numpy()``
(a numpy array over the same bytes), pass it to any export taking
``&[f32]`` or ``&mut [f32]``, and the call hands the guest its address
directly: no copy in, no copy out. Linear memory never moves (the engine
is configured so), so views stay valid when the guest grows its memory;
``.view`` re-checks the bounds each time it is taken.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

from ...interface.plan import SCALAR_FACTS, ScalarFacts
from ...interface.types import NUMBERS, Kind
from .marshal import Marshal
from .memory import GuestMemory

_FACTS = {kind: facts for kind, facts in SCALAR_FACTS.items() if kind in NUMBERS}
KINDS_BY_NAME = {facts.name: kind for kind, facts in _FACTS.items()}


def _numpy_name(facts: ScalarFacts) -> str:
    """numpy's name of the dtype of ``facts``' kind: ``int8``, ``uint32``, ``float64``."""
    family = "float" if facts.is_float else "int" if facts.is_signed else "uint"
    return f"{family}{8 * facts.size}"


_NUMPY_NAMES = {_numpy_name(facts): kind for kind, facts in _FACTS.items()}


class ArrayHost(Protocol):
    """The instance an array lives in (live.LiveInstance)."""

    name: str
    closed: bool
    marshal: Marshal | None
    memory: GuestMemory | None

    def acquire(self) -> object | None: ...

    def release(self, token: object | None) -> None: ...


def element_kind(dtype: object) -> Kind:
    """Accept 'f32', 'float32', numpy dtypes and scalar types."""
    name = str(getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or dtype).lower()
    kind = KINDS_BY_NAME.get(name) or _NUMPY_NAMES.get(name)
    if kind is None:
        known = ", ".join(KINDS_BY_NAME)
        raise ValueError(f"unknown element type {dtype!r}; use one of {known} (or a numpy dtype)")
    return kind


class GuestArray:
    """A typed array allocated in guest memory; free it with ``free()`` or ``with``."""

    def __init__(self, instance: ArrayHost, kind: Kind, count: int) -> None:
        if count < 0:
            raise ValueError(f"array length must be >= 0, got {count}")
        marshal = instance.marshal
        if marshal is None or instance.memory is None:
            raise ValueError(f"{instance.name} exports no allocator; arrays need one")
        self.kind = kind
        self.count = count
        self.itemsize = _FACTS[kind].size
        self.nbytes = count * self.itemsize
        self._instance: ArrayHost | None = instance
        self._free = marshal.free
        if self.nbytes:
            # The allocator runs guest code: take the call token like any call.
            token = instance.acquire()
            try:
                self.address = marshal._alloc_or_raise(self.nbytes, self.itemsize)
            finally:
                instance.release(token)
        else:
            self.address = self.itemsize
        self._memory: Any = instance.memory

    @property
    def view(self) -> memoryview:
        """A typed, writable memoryview of the elements (no copy)."""
        memory = self._memory
        if memory is None:
            raise ValueError("this GuestArray was freed")
        if self._instance is not None and self._instance.closed:
            raise ValueError(
                f"this GuestArray's instance of {self._instance.name} was closed; "
                "its memory is gone"
            )
        if not self.nbytes:
            view = memoryview(bytearray())
        else:
            memory.check(self.address, self.nbytes)
            view = memory.view[self.address : self.address + self.nbytes]
        typed: memoryview = view.cast(_FACTS[self.kind].code)  # type: ignore[call-overload]
        return typed

    def numpy(self) -> Any:
        """A numpy array sharing the guest's bytes (requires numpy)."""
        import numpy

        return numpy.frombuffer(self.view, dtype=numpy.dtype(_FACTS[self.kind].code))

    def free(self) -> None:
        """Return the memory to the guest; the array (and its views) must not be used after."""
        instance, memory = self._instance, self._memory
        self._memory = None
        self._instance = None
        if memory is not None and instance is not None and self.nbytes and not instance.closed:
            token = instance.acquire()
            try:
                self._free(self.address, self.nbytes, self.itemsize)
            finally:
                instance.release(token)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> Any:
        return self.view[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self.view[index] = value

    def __iter__(self) -> Any:
        return iter(self.view)

    def __enter__(self) -> GuestArray:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.free()

    def __repr__(self) -> str:
        state = "freed" if self._memory is None else f"at 0x{self.address:x}"
        return f"<GuestArray {self.kind.name.lower()}[{self.count}] {state}>"
