"""Class objects: handles checked on every call, close(), the finalizer queue.

The geo fixture's classes cover use after close or after a move, objects of
another instance or another class, and Drop run by close() or after garbage
collection. A hand-written guest (WAT below) adds what Rust code cannot
easily do: a method that calls a host function, so the host can try to
close or collect the object while its method runs (the guest traps on any
use after free or double free, so a host mistake cannot go unnoticed).
"""

from __future__ import annotations

import gc
import importlib.util
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wasmtime

import wasmbridge
from wasmbridge.codegen.python import emit_python
from wasmbridge.interface import (
    ClassDef,
    Function,
    Interface,
    Method,
    Param,
    Receiver,
    Type,
    parse,
)
from wasmbridge.interface.section import SECTION_NAME, VERSION, encode
from wasmbridge.interface.types import Kind

pytestmark = pytest.mark.toolchain
BuildFixture = Callable[..., Path]  # conftest's build_fixture


@pytest.fixture(scope="module")
def geo_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("geo")


# -- the geo fixture ----------------------------------------------------------------------


def test_use_after_close_or_move_names_what_happened(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    c, d = m.Counter("c", 1), m.Counter("d", 2)
    assert repr(c).startswith("<Counter of geo.wasm, handle 0x")
    assert c.merge(d) == 3
    assert repr(d) == "<Counter (moved into `Counter.merge`)>"
    with pytest.raises(wasmbridge.HandleError) as info:
        d.label()
    assert (
        str(info.value) == "Counter.label() argument 'self': Counter was moved into `Counter.merge`"
    )
    assert info.value.hint is not None and "make a new one" in info.value.hint
    with pytest.raises(wasmbridge.HandleError, match="argument 'other': Counter was moved"):
        c.absorb(d)
    d.close()  # nothing left to close: no error
    c.close()
    c.close()
    assert repr(c) == "<Counter (closed)>"
    with pytest.raises(
        wasmbridge.HandleError, match=r"^Counter.incr\(\) argument 'self': Counter was closed"
    ):
        c.incr(1)
    e = m.Counter("e", 3)
    assert e.finish() == "e=3"
    with pytest.raises(wasmbridge.HandleError, match="moved into `Counter.finish`"):
        e.finish()


def test_an_object_cannot_be_moved_into_its_own_method(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    c = m.Counter("c", 4)
    with pytest.raises(
        wasmbridge.HandleError,
        match=r"^Counter.merge\(\) argument 'other': this Counter is in use by a running call",
    ):
        c.merge(c)
    assert c.label() == "c"  # still usable: the refused call changed nothing
    # `absorb(&mut self, other: &Counter)`: the SDK itself refuses a mutable borrow
    # that aliases another one (the host cannot tell `&C` from `&mut C` parameters).
    with pytest.raises(wasmbridge.GuestPanic, match="one object passed twice"):
        c.absorb(c)
    assert c.incr(1) == 5


def test_objects_of_another_instance_or_class_are_refused(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    one, two = module.instantiate(), module.instantiate()
    mine, theirs = one.Counter("a", 1), two.Counter("b", 2)
    with pytest.raises(wasmbridge.HandleError) as info:
        mine.absorb(theirs)
    message = str(info.value)
    assert message.startswith("Counter.absorb() argument 'other': this Counter belongs to geo.wasm")
    assert "instance #" in message and "(the one called)" in message
    with pytest.raises(wasmbridge.HandleError, match="belongs to geo.wasm instance #"):
        one.Counter.incr(theirs, 1)
    token = one.Token(1)
    with pytest.raises(
        wasmbridge.HandleError, match=r"expected a Counter of geo.wasm instance #\d+, got a Token"
    ):
        mine.absorb(token)
    with pytest.raises(
        TypeError, match=r"^Counter.absorb\(\) argument 'other': expected a Counter"
    ):
        mine.absorb(5)
    assert mine.incr(0) == 1 and theirs.incr(0) == 2


def test_close_runs_drop_and_collected_objects_are_dropped_later(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    start = m.drops()
    with m.Token(1) as token:
        assert token.id() == 1
    assert m.drops() == start + 1
    lost = m.Token(2)
    del lost
    gc.collect()
    assert m.drops() == start + 1  # queued, not dropped from the garbage collector
    m.Token(3).close()  # a constructor drains the queue first
    assert m.drops() == start + 3
    for index in range(100):
        m.Token(index)  # each one collected at once
    assert m.Marker().ping() == 7  # a method call drains
    assert m.drops() == start + 3 + 100


def test_objects_outlive_nothing_once_their_instance_closes(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    c = m.Counter("c", 1)
    m.close()
    with pytest.raises(wasmbridge.ModuleError, match="this instance was closed"):
        c.incr(1)
    c.close()  # the store is gone, and the object with it
    assert repr(c) == "<Counter (closed)>"


def test_static_methods_constructors_and_docs(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    assert m.Counter.__doc__ == "A counter that lives in the guest."
    named = m.Counter.named("n")
    assert isinstance(named, m.Counter) and named.label() == "n"
    also = m.Counter.new("x", 2)
    assert also.incr(1) == 3
    assert m.Counter.from_point(m.Point(1.5, 2.5)).incr(0) == 4
    with pytest.raises(TypeError, match=r"^Counter.new\(\) missing 1 required positional"):
        m.Counter("x")
    with pytest.raises(AttributeError):
        named.n = 5  # type: ignore[attr-defined]


def test_the_compiled_modules_class_serves_isinstance_but_makes_no_objects(
    geo_wasm: Path,
) -> None:
    shared = wasmbridge.compile(geo_wasm).Counter
    m1, m2 = wasmbridge.load(geo_wasm), wasmbridge.load(geo_wasm)
    c1, c2 = m1.Counter("a", 1), m2.Counter.named("b")
    assert m1.Counter is not m2.Counter and issubclass(m1.Counter, shared)
    assert isinstance(c1, shared) and isinstance(c2, shared)
    assert not isinstance(m1.Point(1, 2), shared)
    assert shared.incr(c1, 2) == 3 and shared.label(c2) == "b"
    with pytest.raises(TypeError, match=r"^Counter.incr\(\) takes a Counter, got Point$"):
        shared.incr(m1.Point(1, 2), 2)
    needs = (
        r"^Counter{}\(\) of geo.wasm needs an instance: the class from the module serves "
        r"annotations and isinstance only; call it on a loaded module, "
        r"geo.load\(\).Counter{}\(...\) or m.Counter{}\(...\)$"
    )
    with pytest.raises(TypeError, match=needs.format("", "", "")):
        shared("c", 5)
    with pytest.raises(TypeError, match=needs.format(r"\.named", r"\.named", r"\.named")):
        shared.named("x")


def test_the_stub_module_gives_every_type_it_declares(geo_wasm: Path, tmp_path: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    stub = emit_python("geo_stub", "geo.wasm", module.interface, parse(geo_wasm.read_bytes()))
    (tmp_path / "geo.wasm").write_bytes(geo_wasm.read_bytes())
    (tmp_path / "geo_stub.py").write_text(stub.py, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("geo_stub", tmp_path / "geo_stub.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    m = loaded.load()
    assert loaded.Point is m.Point and loaded.Shape is m.Shape
    with m.Counter("c", 5) as c:
        assert isinstance(c, loaded.Counter) and m.area(1, 2.0) == m.area(m.Shape(1), 2.0)
        assert m.centroid(p for p in [m.Point(0, 0), m.Point(2, 2)]) == m.Point(1, 1)


def test_panicking_method_leaves_the_object_usable(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    c = m.Counter("c", 1)
    with pytest.raises(wasmbridge.GuestPanic, match="counter exploded"):
        c.explode()
    assert c.incr(1) == 2
    c.close()


# -- a hand-written guest whose method calls the host ---------------------------------------

WAT = """
(module
  (import "env" "cb" (func $cb (param i32)))
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 1024))
  (global $drops (mut i32) (i32.const 0))
  (func $alloc (export "__wb_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $top (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "__wb_free") (param i32 i32 i32))
  ;; An object is a word: 1 while alive, 0 once dropped. Any use of a dropped
  ;; object, and any second drop, traps.
  (func $live (param $h i32)
    (if (i32.ne (i32.load (local.get $h)) (i32.const 1)) (then unreachable)))
  (func (export "Obj.new") (param $ret i32)
    (local $h i32)
    (local.set $h (call $alloc (i32.const 4) (i32.const 4)))
    (i32.store (local.get $h) (i32.const 1))
    (i32.store (local.get $ret) (local.get $h)))
  (func (export "Obj.poke") (param $h i32) (result i32)
    (call $live (local.get $h))
    (call $cb (local.get $h))
    (call $live (local.get $h))
    (i32.const 7))
  (func (export "Obj.close") (param $h i32) (result i32)
    (call $live (local.get $h))
    (i32.const 1))
  (func (export "Obj#drop") (param $h i32)
    (call $live (local.get $h))
    (i32.store (local.get $h) (i32.const 0))
    (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
  (func (export "make_bare") (param $ret i32)
    (i32.store (local.get $ret) (call $alloc (i32.const 4) (i32.const 4))))
  (func (export "Bare#drop") (param i32))
  (func (export "drops") (result i32) (global.get $drops))
)
"""

U32 = Type(Kind.U32)


def _method(member: str, receiver: Receiver, result: Type) -> Method:
    return Method(member, receiver, Function(f"Obj.{member}", (), result))


OBJ = ClassDef(
    "Obj",
    "An object whose method calls the host.",
    (
        _method("new", Receiver.CONSTRUCTOR, Type(Kind.NAMED, name="Obj")),
        _method("poke", Receiver.REF, U32),
        _method("close", Receiver.REF, U32),
    ),
)
INTERFACE = Interface(
    VERSION,
    (
        Function("drops", (), U32),
        Function("make_bare", (), Type(Kind.NAMED, name="Bare")),
    ),
    (Function("cb", (Param("h", U32),), module="env"),),
    classes=(OBJ, ClassDef("Bare")),
)


def _custom_section(name: str, payload: bytes) -> bytes:
    def uleb(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    body = uleb(len(name.encode())) + name.encode() + payload
    return b"\x00" + uleb(len(body)) + body


CALLBACK_WASM = wasmtime.wat2wasm(WAT) + _custom_section(SECTION_NAME, encode(INTERFACE))


class Host:
    """The host function: runs whatever the test puts in ``action`` during the call."""

    def __init__(self) -> None:
        self.action: Callable[[], None] = lambda: None

    def cb(self, handle: int) -> None:
        self.action()


def _load() -> tuple[Any, Host]:
    host = Host()
    return wasmbridge.load(CALLBACK_WASM, name="obj.wasm", imports={"cb": host.cb}), host


def test_closing_an_object_while_its_method_runs_is_refused() -> None:
    m, host = _load()
    obj = m.Obj()
    host.action = obj.close
    with pytest.raises(wasmbridge.HandleError) as info:
        obj.poke()
    assert str(info.value) == (
        "Obj.close(): the Obj is in use by a call that is still running "
        "(a host function it called tried to close it)"
    )
    host.action = lambda: None
    assert obj.poke() == 7  # not freed: the guest would have trapped
    assert m.drops() == 0
    obj.close()
    assert m.drops() == 1


def test_closing_another_object_from_a_host_function_is_fine() -> None:
    m, host = _load()
    obj, other = m.Obj(), m.Obj()
    host.action = other.close
    assert obj.poke() == 7
    assert m.drops() == 1
    with pytest.raises(wasmbridge.HandleError, match="Obj was closed"):
        other.poke()


def test_the_garbage_collector_never_enters_the_guest() -> None:
    m, host = _load()
    obj = m.Obj()
    doomed = [m.Obj()]

    def collect() -> None:
        doomed.clear()  # the last reference: __del__ runs here, inside the guest call
        gc.collect()
        assert m.drops() == 0  # a nested call: allowed, and nothing was dropped yet

    host.action = collect
    assert obj.poke() == 7
    assert m.drops() == 0
    host.action = lambda: None
    assert obj.poke() == 7  # the next method call drains the queue
    assert m.drops() == 1


def test_objects_collected_on_another_thread_wait_for_the_running_call() -> None:
    m, host = _load()
    obj = m.Obj()
    holder = [m.Obj()]
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(10)

    host.action = slow
    runner = threading.Thread(target=obj.poke)
    runner.start()
    started.wait(10)
    holder.clear()  # collected here, on this thread, while the guest runs on the other
    gc.collect()
    time.sleep(0.01)
    release.set()
    runner.join()
    host.action = lambda: None
    assert m.drops() == 0
    m.Obj().close()
    assert m.drops() == 2


def test_method_names_the_wrapper_needs_get_a_suffix_and_classes_without_new() -> None:
    m, _ = _load()
    obj = m.Obj()
    assert obj.close_() == 1  # the guest's own `close`
    obj.close()  # the wrapper's
    assert m.drops() == 1
    with pytest.raises(TypeError, match=r"^Bare of obj.wasm has no constructor"):
        m.Bare()
    bare = m.make_bare()
    assert repr(bare).startswith("<Bare of obj.wasm, handle 0x")
    bare.close()
    assert m.Obj.__doc__ == "An object whose method calls the host."
