"""The classes a compiled module's classes derive from, shared by its instances.

``from geo import Counter`` (the stub's ``.py``) and ``wasmbridge.compile(path).Counter``
give the class every instance's ``m.Counter`` derives from: it serves
annotations and ``isinstance`` (an object of any instance's ``Counter`` is one)
but makes no objects, since an object lives in one instance: calling it, or
one of its static methods, raises a ``TypeError`` that says to go through a
loaded module (``load().Counter(...)``). Each instance's class (classes.py)
subclasses it with the methods bound to that instance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ...interface.names import PYTHON_CLASS_MEMBERS, python_method_names, python_special
from ...interface.types import ClassDef, Interface, Receiver
from .records import class_name, type_space

if TYPE_CHECKING:
    from .classes import InstanceTypes

_LOCK = threading.Lock()
_MEMO_KEY = "python-classes"


class ClassBase:
    """Base of every class wrapper: a handle, a busy count, and how the object ended."""

    __slots__ = ("_wb_h", "_wb_busy", "_wb_gone", "__weakref__")
    _wb_h: int  # the guest's handle; 0 once closed or moved
    _wb_busy: int  # calls running that borrow the object
    _wb_gone: str  # how it ended: "closed", "moved into `f`"
    # Set on each wrapper class.
    _wb_types: InstanceTypes
    _wb_def: ClassDef
    _wb_drop: Callable[[int], Any]

    def close(self) -> None:
        """Run the object's ``Drop`` in the guest now; later use raises ``HandleError``.

        Closing twice, or closing an object that was moved into a call, does nothing.
        """
        self._wb_types.close_object(self)

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        title = type(self).__name__
        handle = getattr(self, "_wb_h", 0)
        if handle:
            return f"<{title} of {self._wb_types.name}, handle 0x{handle:x}>"
        return f"<{title} ({getattr(self, '_wb_gone', 'closed')})>"

    def __del__(self) -> None:
        handle = getattr(self, "_wb_h", 0)
        if handle:
            # Never into the guest from here (see the module docstring).
            self._wb_types.queue.append((self._wb_drop, handle))


# What the wrapper has itself must be what interface/names.py reserves (the stub agrees).
assert {n for n in dir(ClassBase) if not python_special(n)} <= PYTHON_CLASS_MEMBERS


def module_class(interface: Interface | None, label: str, name: str) -> type | None:
    """``module.Counter``: the shared base of the class ``name`` of a module, or None."""
    definition = None if interface is None else interface.type_def(name)
    if interface is None or not isinstance(definition, ClassDef):
        return None
    memo = interface.memo.get(_MEMO_KEY)
    if not isinstance(memo, dict):
        with _LOCK:
            memo = interface.memo.setdefault(_MEMO_KEY, {})
    found: dict[str, type] = memo  # type: ignore[assignment]
    cls = found.get(name)
    if cls is None:
        with _LOCK:
            cls = found.get(name)
            if cls is None:
                module = type_space(interface, label).module
                cls = found[name] = _shared_class(definition, label, module)
    return cls


def _shared_class(definition: ClassDef, label: str, module: str) -> type:
    title = class_name(definition.name)
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": module,
        "__qualname__": title,
        "__doc__": definition.doc or None,
        "__new__": staticmethod(_refuse(title, label, "", module)),
    }
    attrs = python_method_names([m.member for m in definition.methods])
    for method, attr in zip(definition.methods, attrs, strict=True):
        if method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR):
            namespace[attr] = staticmethod(_refuse(title, label, f".{attr}", module))
        else:
            namespace[attr] = _forward(title, attr)
    return type(title, (ClassBase,), namespace)


def _forward(title: str, attr: str) -> Callable[..., Any]:
    """``Counter.incr(c, 2)``: the method of the instance's class of ``c``."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        own = type(self).__dict__.get(attr) if isinstance(self, ClassBase) else None
        if own is None or type(self).__name__ != title:
            raise TypeError(f"{title}.{attr}() takes a {title}, got {type(self).__name__}")
        return getattr(self, attr)(*args, **kwargs)

    method.__name__ = method.__qualname__ = attr
    return method


def _refuse(title: str, label: str, attr: str, module: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{title}{attr}() of {label} needs an instance: the class from the module "
            f"serves annotations and isinstance only; call it on a loaded module, "
            f"{module}.load().{title}{attr}(...) or m.{title}{attr}(...)"
        )

    return refuse
