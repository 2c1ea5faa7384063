"""Records, enums, classes, tuples, lists and char from Python (the geo fixture).

GitHub issue 12's Python example as written; a differential test: thousands
of random calls on one instance, mixing every kind of value and class
objects made, used, moved and closed in random order, against a pure-Python
model of the same functions; threads sharing one instance's objects.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wasmbridge

pytestmark = pytest.mark.toolchain
BuildFixture = Callable[..., Path]  # conftest's build_fixture


@pytest.fixture(scope="module")
def geo_wasm(build_fixture: BuildFixture) -> Path:
    return build_fixture("geo")


def test_the_issue_example_as_written(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    assert repr(m.mid(m.Point(x=0, y=0), m.Point(2, 4))) == "Point(x=1.0, y=2.0)"
    assert m.words("a b") == ["a", "b"]
    assert m.join(["a", "b"], "-") == "a-b"
    assert m.minmax([3.0, 1.0]) == (1.0, 3.0)
    assert m.area(m.Shape.Square, 2.0) == 4.0
    assert issubclass(m.Shape, enum.IntEnum)
    with m.Counter("c", 5) as c:
        assert c.incr(2) == 7
        assert c.label() == "c"
    with pytest.raises(
        wasmbridge.HandleError, match=r"Counter.incr\(\) argument 'self': Counter was closed"
    ):
        c.incr(1)
    assert m.count_to(7) == 7
    assert m.centroid([]) is None


def test_records_enums_and_classes_are_real_python_types(geo_wasm: Path) -> None:
    module = wasmbridge.compile(geo_wasm)
    one, two = module.instantiate(), module.instantiate()
    assert one.Point is two.Point and one.Shape is two.Shape  # the module's, shared
    assert one.Counter is not two.Counter  # each instance's own
    assert wasmbridge.load(geo_wasm).Point is one.Point  # the same bytes: the same classes
    point = one.Point(1, 2)
    assert dataclasses.is_dataclass(point) and dataclasses.asdict(point) == {"x": 1.0, "y": 2.0}
    assert two.mid(point, {"x": 3, "y": 4}) == one.Point(2.0, 3.0)
    assert [int(s) for s in one.Shape] == [0, 1, 2]
    assert [(level.name, int(level)) for level in one.Level] == [
        ("Low", 1),
        ("High", 10),
        ("Max", -3),
        ("After", -2),
    ]
    assert one.Point.__doc__ == "A point in the plane."
    assert str(inspect.signature(one.mid)) == "(a: geo.Point, b: geo.Point) -> geo.Point"
    assert str(inspect.signature(one.Counter.incr)) == "(self: geo.Counter, by: int) -> int"
    assert str(inspect.signature(one.join)) == "(parts: list[str], sep: str) -> str"
    assert str(inspect.signature(one.minmax)).endswith("-> tuple[float, float]")
    assert one.Counter.incr.__doc__ == "Adds `by`; the new count."
    sample = one.Sample(True, 2**64 - 1, -5, "x", 9, one.Level.Max, b"\x01\x02", 0.5)
    assert one.echo_sample(sample) == dataclasses.replace(sample, data=[1, 2])


def test_char_and_usize_are_checked(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    with pytest.raises(ValueError, match=r"^echo_char\(\) argument 'c': expected a one-char"):
        m.echo_char("ab")
    with pytest.raises(ValueError, match=r"'\\ud800' is a lone surrogate"):
        m.echo_char("\ud800")
    with pytest.raises(TypeError, match=r"^echo_char\(\) argument 'c': expected a one-character"):
        m.echo_char(65)
    with pytest.raises(OverflowError, match=r"count_to\(\) argument 'n': -1 is out of range"):
        m.count_to(-1)
    with pytest.raises(OverflowError, match=r"echo_isize\(\) argument 'n': 2147483648 is out"):
        m.echo_isize(2**31)
    with pytest.raises(TypeError, match=r"^join\(\) argument 'parts' at parts\[1\]: expected str"):
        m.join(["a", 1], "-")
    with pytest.raises(ValueError, match=r"^area\(\) argument 's': 7 is not a value of Shape"):
        m.area(7, 1.0)
    with pytest.raises(TypeError, match=r"^area\(\) argument 's': expected Shape"):
        m.area(m.Level.Low, 1.0)
    with pytest.raises(TypeError, match=r"^mid\(\) argument 'b': a mapping for Point needs"):
        m.mid(m.Point(0, 0), {"x": 1})


def test_errors_as_values(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    with pytest.raises(wasmbridge.ReturnedError) as info:
        m.checked_mid(m.Point(1, 1), m.Point(1, 1))
    assert info.value.value == m.GeoError(1, "the points are the same")
    assert str(info.value) == (
        "`checked_mid(Point(x=1.0, y=1.0), Point(x=1.0, y=1.0))` in geo.wasm returned an error: "
        "GeoError(code=1, message='the points are the same')"
    )
    with pytest.raises(wasmbridge.ReturnedError) as info:
        m.shape_code(14)
    assert info.value.value is m.Shape.Triangle
    with pytest.raises(wasmbridge.ReturnedError, match="invalid digit found in string") as info:
        m.parse_count("x")
    assert info.value.value is None


# -- differential: random calls against a model ------------------------------------------

ALPHABET = "ab z\tQ\né€🦀日"
SIZES = (0, 1, 2, 7, 4096, 65535, 65536, 65537)


def random_text(rng: random.Random) -> str:
    size = rng.choice(SIZES) if rng.random() < 0.2 else rng.randrange(12)
    if size > 100:
        return (rng.choice(ALPHABET) * size)[:size] if rng.random() < 0.5 else "x" * size
    return "".join(rng.choice(ALPHABET) for _ in range(size))


class Model:
    """The geo functions in plain Python, on plain Python values."""

    def __init__(self, m: Any) -> None:
        self.m = m

    def mid(self, a: Any, b: Any) -> Any:
        return self.m.Point((a.x + b.x) / 2, (a.y + b.y) / 2)

    def centroid(self, points: list[Any]) -> Any:
        if not points:
            return None
        sx = sy = 0.0
        for p in points:
            sx, sy = sx + p.x, sy + p.y
        return self.m.Point(sx / len(points), sy / len(points))

    def words(self, s: str) -> list[str]:
        return s.split()

    def join(self, parts: list[str], sep: str) -> str:
        return sep.join(parts)


class Counters:
    """The model of live Counter objects: (label, n) per object, and which are gone."""

    def __init__(self) -> None:
        self.state: dict[int, tuple[str, int]] = {}


def test_differential_random_calls_against_a_model(geo_wasm: Path) -> None:
    for seed in (11, 12, 13):
        run_differential(wasmbridge.load(geo_wasm), random.Random(seed), steps=700)


def run_differential(m: Any, rng: random.Random, steps: int) -> None:
    model = Model(m)
    objects: list[tuple[Any, list[Any]]] = []  # (object, [label, n]) or [None] once gone

    def point() -> Any:
        return m.Point(rng.uniform(-1e6, 1e6), rng.choice([0.0, -0.5, 3.25, rng.random()]))

    def live() -> list[tuple[Any, list[Any]]]:
        return [o for o in objects if o[1][0] is not None]

    for _ in range(steps):
        action = rng.randrange(14)
        if action == 0:
            a, b = point(), point()
            assert m.mid(a, b) == model.mid(a, b)
        elif action == 1:
            points = [point() for _ in range(rng.choice([0, 1, 5, 300]))]
            got, expected = m.centroid(points), model.centroid(points)
            assert (got is None) == (expected is None)
            if expected is not None:
                assert got.x == pytest.approx(expected.x) and got.y == pytest.approx(expected.y)
        elif action == 2:
            text = " ".join(random_text(rng) for _ in range(rng.randrange(30)))
            assert m.words(text) == model.words(text)
        elif action == 3:
            parts = [random_text(rng) for _ in range(rng.randrange(40))]
            sep = rng.choice("-é🦀 ")
            assert m.join(parts, sep) == model.join(parts, sep)
            assert m.total_len(parts) == sum(len(p.encode()) for p in parts)
            assert m.join_strs(parts) == "+".join(parts)
        elif action == 4:
            pairs = [(rng.randrange(2**31), random_text(rng)) for _ in range(rng.randrange(20))]
            assert m.pairs(pairs) == [(n * 2, s) for n, s in pairs]
            text = random_text(rng)
            assert m.swap((text, 7)) == (7, text)
            assert m.from_chars(m.chars(text)) == text and m.chars(text) == list(text)
        elif action == 5:
            values = [rng.choice([None, rng.randrange(2**31)]) for _ in range(rng.randrange(30))]
            assert m.maybe_nums(values) == [None if v is None else v * 2 for v in values]
            pair = rng.choice([None, (rng.randrange(2**30), rng.randrange(2**30))])
            assert m.opt_pair(pair) == (0 if pair is None else sum(pair))
            maybe = rng.choice([None, point()])
            assert m.echo_point(maybe) == maybe
        elif action == 6:
            feature = m.Feature(
                random_text(rng),
                [random_text(rng) for _ in range(rng.randrange(6))],
                rng.choice([None, point()]),
                (rng.randrange(2**32), rng.random()),
                rng.choice(list(m.Shape)),
            )
            assert m.echo_feature(feature) == feature
        elif action == 7 or not live():
            label, start = random_text(rng)[:50], rng.randrange(50)
            objects.append((m.Counter(label, start), [label, start]))
        elif action == 8:
            obj, state = rng.choice(live())
            by = rng.randrange(5)
            state[1] += by
            assert obj.incr(by) == state[1]
            assert obj.label() == state[0] and obj.pair() == (state[0], state[1])
        elif action == 9:
            obj, state = rng.choice(live())
            obj.close()
            state[0] = None
        elif action == 10:
            (obj, state), (other, theirs) = rng.choice(live()), rng.choice(live())
            if obj is other:
                with pytest.raises(wasmbridge.HandleError, match="in use by a running call"):
                    obj.merge(other)
                continue
            state[1] += theirs[1]
            assert obj.merge(other) == state[1]
            theirs[0] = None
        elif action == 11:
            obj, state = rng.choice(live())
            half = obj.split()
            objects.append((half, [state[0] + "/2", state[1] // 2]))
        elif action == 12:
            gone = [o for o in objects if o[1][0] is None]
            if gone:
                with pytest.raises(wasmbridge.HandleError):
                    rng.choice(gone)[0].incr(1)
        else:
            obj, state = rng.choice(live())
            assert obj.finish() == f"{state[0]}={state[1]}"
            state[0] = None
    for obj, state in live():
        assert obj.label() == state[0] and obj.incr(0) == state[1]


def test_threads_share_one_instances_objects(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    shared = m.Counter("shared", 0)
    errors: list[BaseException] = []
    per_thread = 300

    def work(index: int) -> None:
        try:
            mine = m.Counter(f"t{index}", 0)
            for step in range(per_thread):
                shared.incr(1)
                assert mine.incr(1) == step + 1
                assert m.mid(m.Point(index, step), m.Point(index, step)) == m.Point(index, step)
                if step % 50 == 0:
                    extra = m.Counter("x", step)
                    assert mine.absorb(extra) == step + 1 + step
                    mine.incr(0)
                    extra.close()
                    mine = m.Counter(f"t{index}", step + 1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert shared.incr(0) == 4 * per_thread


def test_closing_from_another_thread_while_methods_run(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    for _ in range(20):
        target = m.Counter("t", 0)
        outcomes: list[str] = []

        def hammer(obj: Any = target, outcomes: list[str] = outcomes) -> None:
            for _ in range(500):
                try:
                    obj.incr(1)
                except wasmbridge.HandleError:
                    outcomes.append("closed")
                    return
            outcomes.append("done")

        thread = threading.Thread(target=hammer)
        thread.start()
        target.close()
        thread.join()
        assert outcomes in (["closed"], ["done"])
    assert m.drops() >= 0  # the instance is intact


# -- callbacks: Python callables passed for `impl Fn` parameters ------------------------------


def test_callables_cross_as_callbacks(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    asked: list[int] = []

    def report(step: int) -> bool:
        asked.append(step)
        return step < 3

    assert m.progress(10, report) == 3 and asked == [0, 1, 2, 3]
    assert m.map_words(["a", "bé", ""], str.upper) == ["A", "BÉ", ""]
    assert m.fold_points([m.Point(1, 2), m.Point(3, 4)], lambda acc, p: acc + p.x * p.y) == 14.0
    ticks: list[None] = []
    m.tick(lambda: ticks.append(None))
    assert ticks == [None]
    assert m.call_n(100, lambda i: i * 2) == 9900
    shapes = m.classify(["a", "bb", "ccc"], lambda w, i: None if i == 1 else m.Shape(len(w) - 1))
    assert shapes == [m.Shape.Circle, m.Shape.Triangle]
    assert m.summarize([3.0, 1.0], lambda v, lohi: f"{v} {lohi}") == "[3.0, 1.0] (1.0, 3.0)"
    with m.Counter("c", 3) as c:
        seen: list[int] = []
        c.each(seen.append)
        assert seen == [0, 1, 2]
    # A callback may call into the same instance again.
    assert m.call_n(4, lambda i: m.call_n(i, lambda j: j)) == 0 + 0 + 1 + 3
    assert str(inspect.signature(m.progress)).startswith("(steps: int, report: ")


def test_callback_mistakes_and_exceptions(geo_wasm: Path) -> None:
    m = wasmbridge.load(geo_wasm)
    with pytest.raises(TypeError, match=r"^progress\(\) argument 'report': expected a callable"):
        m.progress(3, 5)
    with pytest.raises(
        TypeError, match=r"^the callback `report` of `progress` returned 'x': expected bool"
    ):
        m.progress(3, lambda i: "x")

    class Stop(Exception):
        pass

    def stop(i: int) -> bool:
        raise Stop(f"at {i}")

    with pytest.raises(Stop, match="at 0"):
        m.progress(3, stop)
    assert m.progress(2, lambda i: True) == 2  # the instance goes on
    assert m.words("still here") == ["still", "here"]
