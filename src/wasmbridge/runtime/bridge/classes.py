"""Classes a module exports, as Python classes of one instance, and its named types.

``m.Counter`` is a class of the instance ``m``: ``m.Counter("c", 5)`` calls
the guest's ``new``, static methods are static methods, methods are
methods. Each object holds a handle (docs/abi-compound.md); the guest
trusts handles, so the host guarantees them on every call, with a few
attribute reads in the generated call code (calls.py):

* the object is of this instance's class (another instance's, or another
  class's, object is a ``HandleError`` naming both),
* it was not closed, nor moved into a call that took it by value,
* a call that borrows it marks it busy, so closing it, or moving it into
  another call, from a host function that call runs, is a ``HandleError``.

``close()`` (or the end of a ``with`` block) runs the guest's ``Drop`` at
once. An object the garbage collector finds open only queues its handle:
the queue is drained by the next call into a class method or constructor
of the instance, or the next close(), so the collector, which may run in
the middle of a guest call or on another thread, never enters the guest.

``InstanceTypes`` is what an instance's callers ask about the new types
(call_source.py's recipes): how to lower a record or handle, and how to lift
a result, with this instance's memory and class wrappers.
"""

from __future__ import annotations

import dataclasses
import itertools
import struct
import threading
import warnings
from collections.abc import Callable
from typing import Any

from ...errors import HandleError, ModuleError, ProtocolError, ReturnedError, WasmbridgeError
from ...interface import abi
from ...interface.layout import callback_args_layout, field_offsets
from ...interface.names import python_method_names
from ...interface.plan import Lifting, ResultPlan, plan_call
from ...interface.types import ClassDef, Kind, Method, Receiver, Type, shown, shown_type
from . import calls, values
from .class_types import ClassBase, module_class
from .marshal import Marshal
from .records import TypeSpace, class_name, module_name, type_space
from .values import LiftError

_ATTRIBUTE = "_wb_instance_types"
_LOCK = threading.Lock()
_NUMBERS = itertools.count(1)


def instance_types(live: Any) -> InstanceTypes | None:
    """The InstanceTypes of a live instance (made on first use), None without an interface."""
    found = live.__dict__.get(_ATTRIBUTE)
    if found is None:
        if live.interface is None:
            return None
        with _LOCK:
            found = live.__dict__.get(_ATTRIBUTE)
            if found is None:
                found = InstanceTypes(live)
                setattr(live, _ATTRIBUTE, found)
    return found  # type: ignore[no-any-return]


def lookup(live: Any, name: str) -> type | None:
    """``m.Point``, ``m.Shape``, ``m.Counter``: a type the module defines, or None."""
    types = instance_types(live)
    return None if types is None else types.lookup(name)


_SET_HANDLE = ClassBase.__dict__["_wb_h"].__set__
_SET_BUSY = ClassBase.__dict__["_wb_busy"].__set__
_SET_GONE = ClassBase.__dict__["_wb_gone"].__set__


class _LazyMethod:
    """A method generated on first use, then stored on the class in its place."""

    def __init__(self, attr: str, build: Callable[[], Callable[..., Any]], static: bool) -> None:
        self.attr = attr
        self.build = build
        self.static = static

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        assert owner is not None or obj is not None
        cls = owner if owner is not None else type(obj)
        function = self.build()
        stored: Any = staticmethod(function) if self.static else function
        setattr(cls, self.attr, stored)
        return stored.__get__(obj, cls)


@dataclasses.dataclass
class HandleParam:
    """What the call code needs to check one class-typed parameter."""

    cls: type
    wrong: Callable[[Any], Exception]  # not this instance's object of this class
    gone: Callable[[Any], Exception]  # closed or moved
    spend: Callable[[Any], None] | None  # moves it into the call (by-value parameters)


class InstanceTypes:
    """The named types of one live instance: shared record classes and enums,
    this instance's class wrappers, and the codecs calls use."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.name: str = live.name
        self.interface = live.interface
        self.types: TypeSpace = type_space(live.interface, live.name)
        self.number = next(_NUMBERS)
        self.queue: list[tuple[Callable[[int], Any], int]] = []
        # Callbacks of the calls running now, by the id the guest calls them with.
        self.callbacks: dict[int, Callback] = {}
        self._last_callback = 0
        self._wrappers: dict[str, type] = {}
        self._found: dict[str, type] = {}  # records and enums looked up so far
        self._lock = threading.RLock()

    @property
    def marshal(self) -> Marshal:
        marshal: Marshal | None = self.live.marshal
        if marshal is None:
            raise ModuleError(
                f"{self.name} exports no memory or allocator for its records and lists",
                hint="rebuild it with `wasmbridge build`",
            )
        return marshal

    def lookup(self, name: str) -> type | None:
        found = self._found.get(name)
        if found is not None:
            return found
        found = self.types.get(name)
        if found is not None:
            self._found[name] = found
            return found
        if isinstance(self.interface.type_def(name), ClassDef):
            if self.live.closed and name not in self._wrappers:
                raise self.live.closed_error()
            return self.wrapper(name)
        return None

    def names(self) -> list[str]:
        return [*self.types.names(), *(c.name for c in self.interface.classes)]

    def describe(self) -> str:
        return f"{self.name} instance #{self.number}"

    # -- class wrappers ---------------------------------------------------------------

    def wrapper(self, name: str) -> type:
        found = self._wrappers.get(name)
        if found is None:
            with self._lock:
                found = self._wrappers.get(name)
                if found is None:
                    definition = self.interface.type_def(name)
                    assert isinstance(definition, ClassDef)
                    found = self._wrappers[name] = self._make_wrapper(definition)
        return found

    def _make_wrapper(self, definition: ClassDef) -> type:
        title = class_name(definition.name)
        drop = self._drop_call(definition.destructor)
        namespace: dict[str, Any] = {
            "__slots__": (),
            "__module__": module_name(self.name),
            "__qualname__": title,
            "__doc__": definition.doc or None,
            "_wb_types": self,
            "_wb_def": definition,
            "_wb_drop": staticmethod(drop),
        }
        constructor: list[Callable[..., Any]] = []
        attrs = python_method_names([m.member for m in definition.methods])
        for method, attr in zip(definition.methods, attrs, strict=True):
            static = method.receiver in (Receiver.STATIC, Receiver.CONSTRUCTOR)
            build = _once(self._method_builder(definition, method, attr))
            namespace[attr] = _LazyMethod(attr, build, static)
            if method.receiver is Receiver.CONSTRUCTOR and not constructor:
                constructor.append(build)
        namespace["__new__"] = _constructor(title, self.name, constructor)
        base = module_class(self.interface, self.name, definition.name)
        assert base is not None
        return type(title, (base,), namespace)

    def _method_builder(
        self, definition: ClassDef, method: Method, attr: str
    ) -> Callable[[], Callable[..., Any]]:
        def build() -> Callable[..., Any]:
            function = method.function
            if self.live.closed:
                raise self.live.closed_error(function.name)
            site = self.live._site(function.name)
            template = self.live.caller_template(
                function.name, site.shape, lambda: plan_call(function, self.interface, method)
            )
            callable_ = calls.bind(template, site)
            callable_.__name__ = attr
            callable_.__qualname__ = f"{class_name(definition.name)}.{attr}"
            return callable_

        return build

    def _drop_call(self, export: str) -> Callable[[int], Any]:
        """The destructor, called under the token close() or drain() holds."""
        internal = self.live._internal(export, 1)
        live = self.live

        def drop(handle: int) -> Any:
            guard = live.guard
            if guard is not None:
                guard.arm()
            return internal(handle)

        return drop

    def wrap_handle(self, name: str) -> Callable[[int], Any]:
        """Makes the object of class ``name`` that a guest handle stands for."""
        cls = self.wrapper(name)
        new = object.__new__

        def wrap(handle: int) -> Any:
            if not handle:
                raise LiftError(f"the {cls.__name__} handle is 0, which is never an object")
            obj: Any = new(cls)
            _SET_HANDLE(obj, handle)
            _SET_BUSY(obj, 0)
            return obj

        return wrap

    # -- closing and the finalizer queue -------------------------------------------------

    def close_object(self, obj: ClassBase) -> None:
        live = self.live
        if live.closed:
            _spent(obj, "closed")
            return
        try:
            token = live.acquire()
        except ModuleError:  # the instance closed while we waited: the store freed it
            _spent(obj, "closed")
            return
        try:
            handle = getattr(obj, "_wb_h", 0)
            if not handle:
                return
            title = type(obj).__name__
            if obj._wb_busy:
                raise HandleError(
                    f"{title}.close(): the {title} is in use by a call that is still running "
                    "(a host function it called tried to close it)",
                    hint="close it after that call returns",
                )
            _spent(obj, "closed")
            obj._wb_drop(handle)
        finally:
            live.release(token)
        if self.queue:
            self.drain()

    def drain(self) -> None:
        """Run the destructors the garbage collector queued (under the call token)."""
        live = self.live
        if live.closed or live.callback_thread == threading.get_ident():
            return  # gone with the store, or inside a call: the next outer call drains
        try:
            token = live.acquire()
        except ModuleError:
            return
        try:
            queue = self.queue
            while queue:
                try:
                    drop, handle = queue.pop()
                except IndexError:
                    break
                try:
                    drop(handle)
                except WasmbridgeError as exc:
                    warnings.warn(
                        f"{self.name}: dropping an object the garbage collector collected "
                        f"failed: {exc}",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        finally:
            live.release(token)

    # -- what the call code generator needs ------------------------------------------------

    def handle_param(self, t: Type, func: str, param: str) -> HandleParam:
        cls = self.wrapper(t.name)
        title = cls.__name__
        prefix = f"{shown(func)}() argument '{shown(param)}'"
        mine = self.describe()

        def wrong(value: Any) -> Exception:
            if not isinstance(value, ClassBase):
                return TypeError(
                    f"{prefix}: expected a {title} of {self.name}, got {type(value).__name__}"
                )
            other = value._wb_types.describe()
            if type(value).__name__ == title and value._wb_types is not self:
                return HandleError(
                    f"{prefix}: this {title} belongs to {other}, not to {mine} (the one called)",
                    hint="pass an object only to calls of the instance that made it",
                )
            return HandleError(
                f"{prefix}: expected a {title} of {mine}, got a {type(value).__name__} of {other}",
                hint="pass an object of the class the function takes",
            )

        def gone(value: Any) -> Exception:
            how = getattr(value, "_wb_gone", "closed")
            return HandleError(
                f"{prefix}: {title} was {how}",
                hint="an object is usable until close() or until a call takes it by value; "
                "make a new one",
            )

        def spend(value: Any, borrowed: tuple[Any, ...] = ()) -> None:
            if value._wb_busy or any(value is other for other in borrowed):
                raise HandleError(
                    f"{prefix}: this {title} is in use by a running call (a borrow of it), "
                    f"so `{shown(func)}` cannot take it",
                    hint="pass a different object, or call after the other call returns",
                )
            _spent(value, f"moved into `{shown(func)}`")

        by_value = t.kind is Kind.NAMED
        return HandleParam(cls, wrong, gone, spend if by_value else None)

    def bad_result(self, func: str, t: Type) -> Callable[[LiftError], Exception]:
        what = f"{self.name}: `{shown(func)}` returned a malformed `{shown_type(t)}`"

        def bad(exc: LiftError) -> Exception:
            return ProtocolError(
                f"{what}: {exc.describe('result')}",
                hint="this is a bug in the guest module or a mismatched interface",
            )

        return bad

    def char_result(self, func: str) -> Callable[[int], str]:
        bad = self.bad_result(func, Type(Kind.CHAR))
        convert = values.char_from

        def lift(code: int) -> str:
            try:
                return convert(code)
            except LiftError as exc:
                raise bad(exc) from None

        return lift

    def slot_lifter(
        self, plan: ResultPlan, func: str, whole: Type | None = None
    ) -> Callable[[int], Any]:
        """Reads the return-area slot ``plan`` lifts (docs/abi-compound.md); errors name
        the ``whole`` result type it is part of."""
        marshal = self.marshal
        bad = self.bad_result(func, whole or plan.type)
        lifting = plan.lifting
        if lifting is Lifting.OPTION:
            assert plan.inner is not None
            inner = self.slot_lifter(plan.inner, func, whole or plan.type)
            return marshal.option_lifter(inner, bad)
        if lifting is Lifting.CHAR:
            return marshal.u32_lifter(values.char_from, bad)
        if lifting is Lifting.HANDLE:
            return marshal.u32_lifter(self.wrap_handle(plan.type.name), bad)
        if lifting is Lifting.ENUM:
            codec = self.types.codec(plan.type)
            assert isinstance(codec, values.Enum)
            return marshal.u32_lifter(codec.member, bad)
        if lifting is Lifting.ENCODED:
            return marshal.value_lifter(self.types.codec(plan.type), bad)
        return lambda at: marshal.lift(plan, at)

    def result_error(
        self, plan: ResultPlan, func: str, describe: Callable[[tuple[Any, ...]], str]
    ) -> Callable[[int, int, tuple[Any, ...]], Exception]:
        """The error of a ``Result<T, E>`` (0x1b) whose tag at ``at`` is not 0."""
        marshal = self.marshal
        bad = self.bad_result(func, plan.type)
        value_lift: Callable[[int], Any] | None = None
        if plan.error_values:
            value_lift = marshal.value_lifter(self.types.named(plan.error), bad)

        def error(at: int, tag: int, args: tuple[Any, ...]) -> Exception:
            call = f"{describe(args)} in {self.name}"
            if tag == abi.RESULT_ERR:
                message = marshal.lift_text(at + 8, func)
                return ReturnedError(f"{call} returned an error: {message}", error=message)
            if tag == abi.RESULT_ERR_VALUE and value_lift is not None:
                value = value_lift(at + 8)
                text = repr(value)
                return ReturnedError(f"{call} returned an error: {text}", error=text, value=value)
            return bad(LiftError(f"a result tag is {tag}, not 0, 1 or 2"))

        return error

    def callback_registrar(self, t: Type, func: str, param: str) -> Callable[[Any], int]:
        """Registers a callable passed for a callback parameter; returns its id for the call
        (``unregister`` ends it when the call returns)."""
        spec = self._callback_spec(t)
        prefix = f"{shown(func)}() argument '{shown(param)}'"
        label = f"the callback `{shown(param)}` of `{shown(func)}`"
        callbacks = self.callbacks

        def register(value: Any) -> int:
            if not callable(value):
                raise TypeError(f"{prefix}: expected a callable, got {type(value).__name__}")
            self._last_callback = callback_id = self._last_callback % 0x7FFF_FFFF + 1
            callbacks[callback_id] = Callback(value, spec, label, self)
            return callback_id

        return register

    def unregister(self, callback_id: int) -> None:
        self.callbacks.pop(callback_id, None)

    def _callback_spec(self, t: Type) -> CallbackSpec:
        args: values.Tuple | None = None
        if t.items:
            offsets = field_offsets(t.items, self.interface)
            shape = callback_args_layout(t, self.interface)
            items = [(self.types.codec(i), o) for i, o in zip(t.items, offsets, strict=True)]
            args = values.Tuple(items, shape.size, shape.align)
        assert t.inner is not None
        result = None if t.inner.kind is Kind.UNIT else self.types.codec(t.inner)
        return CallbackSpec(t, args, result)


@dataclasses.dataclass(frozen=True)
class CallbackSpec:
    """How a callback's arguments and result cross (docs/abi-compound.md, "Callbacks")."""

    type: Type
    args: values.Tuple | None  # None: it takes no arguments
    result: values.Codec | None  # None: unit


@dataclasses.dataclass(frozen=True)
class Callback:
    """A callable passed to one running call, run when the guest calls its id."""

    function: Callable[..., Any]
    spec: CallbackSpec
    label: str  # "the callback `f` of `progress`"
    types: InstanceTypes

    def run(self, memory: Any, args: int, args_len: int, ret: int) -> None:
        """Decode the arguments lent at ``args``, call, and hand the encoded result over."""
        spec = self.spec
        arguments: tuple[Any, ...] = ()
        if spec.args is not None:
            if args + args_len > memory.size:
                memory.check(args, args_len, f"the arguments of {self.label}")
            try:
                arguments = values.decode(spec.args, memory.view[args : args + args_len])
            except LiftError as exc:
                raise ProtocolError(
                    f"{self.types.name} passed {self.label} malformed arguments: "
                    f"{exc.describe('args')}",
                    hint="this is a bug in the guest module or a mismatched interface",
                ) from None
        if spec.result is not None:
            memory.check(ret, _U32X2.size, f"the result slot of {self.label}")
        result = self.function(*arguments)
        if spec.result is None:
            return
        try:
            data = values.encode(spec.result, result)
        except values.LowerError as exc:
            raise exc.build(f"{self.label} returned {result!r:.60}", "result") from None
        marshal = self.types.marshal
        ptr = marshal.place_owned(data, abi.CALLBACK_RESULT_ALIGN)
        memory.write(ret, memoryview(_U32X2.pack(ptr, len(data))))


_U32X2 = struct.Struct("<II")


def _spent(obj: Any, how: str) -> None:
    _SET_HANDLE(obj, 0)
    _SET_GONE(obj, how)


def _once(build: Callable[[], Callable[..., Any]]) -> Callable[[], Callable[..., Any]]:
    built: list[Callable[..., Any]] = []
    lock = threading.Lock()

    def get() -> Callable[..., Any]:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    return get


def _constructor(
    title: str, module: str, constructor: list[Callable[[], Callable[..., Any]]]
) -> staticmethod[..., Any]:
    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        if not constructor:
            raise TypeError(
                f"{title} of {module} has no constructor (a `new` returning Self); "
                "use its static methods, or the functions that return one"
            )
        return constructor[0]()(*args, **kwargs)

    return staticmethod(__new__)
