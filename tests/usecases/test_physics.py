"""examples/physics against an independent reference, in Python, Node and Chromium.

The reference is the pure-Python ``World`` of bench/usecases/physics.py: the same
algorithm written again, every f32 operation rounded to f32 after a double
operation (exact for + - * / and sqrt), so the module must match it bit for bit.
The hosts must agree bit for bit too: Python (wasmbridge), Node and Chromium run
the same cases on the same module and report SHA-256 digests of the positions and
velocities; plain JS (js/physics_plain.js, Math.fround everywhere) matches as well.
The 2,000-body case runs 300 steps in each host (5 s of simulated time) instead of
1,000, to keep the file within its time budget; the smaller ones run 1,000.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
from array import array
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from usecase_helpers import run_node, unb64

import wasmbridge

pytestmark = pytest.mark.toolchain

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CHECK = HERE / "physics_check.mjs"
PLAIN = REPO / "examples/physics/js/physics_plain.js"
DT = 1 / 60
HOST_CASES = [
    {"n": 0, "seed": 1, "steps": 1000, "dt": DT, "keep": True},
    {"n": 1, "seed": 2, "steps": 1000, "dt": DT, "keep": True},
    {"n": 2, "seed": 3, "steps": 1000, "dt": DT, "keep": True},
    {"n": 100, "seed": 4, "steps": 1000, "dt": DT, "keep": True},
    {"n": 2000, "seed": 5, "steps": 300, "dt": DT, "keep": False},
    {"n": 20, "seed": 6, "steps": 50, "dt": 0.01, "keep": True},
]


def _load_reference() -> ModuleType:
    bench = str(REPO / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)  # for its `_timing` import
    spec = importlib.util.spec_from_file_location(
        "physics_reference", REPO / "bench/usecases/physics.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference()


@pytest.fixture(scope="module")
def pkg(example_pkg: Any) -> Path:
    return example_pkg("physics")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def m(pkg: Path) -> Any:
    return wasmbridge.load(pkg / "physics.wasm")


def digest(floats: array[float]) -> str:
    return hashlib.sha256(bytes(floats)).hexdigest()


def python_case(m: Any, case: dict[str, Any]) -> dict[str, Any]:
    with m.World(case["n"], case["seed"]) as world:
        for _ in range(case["steps"]):
            world.step(case["dt"])
        positions = world.positions()
        return {
            "len": world.len(),
            "width": world.width(),
            "height": world.height(),
            "positions": digest(positions),
            "velocities": digest(world.velocities()),
            "energy": world.energy(),
            "raw": bytes(positions),
        }


@pytest.fixture(scope="module")
def in_python(m: Any) -> list[dict[str, Any]]:
    return [python_case(m, case) for case in HOST_CASES]


def assert_same(host: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    for case, g, w in zip(HOST_CASES, got, want, strict=True):
        label = f"{host}, n={case['n']}, {case['steps']} steps"
        for key in ("len", "width", "height", "positions", "velocities", "energy"):
            assert g[key] == w[key], f"{label}: {key} differs"
        if case["keep"]:
            assert unb64(g["raw"]) == w["raw"], label


@pytest.mark.parametrize(
    ("n", "seed", "steps", "dt"),
    [(0, 9, 5, DT), (1, 10, 60, DT), (2, 11, 60, DT), (20, 12, 50, DT), (20, 13, 30, 0.2)],
)
def test_matches_the_python_reference_bit_for_bit(
    m: Any, n: int, seed: int, steps: int, dt: float
) -> None:
    want = reference.World(n, seed)
    with m.World(n, seed) as world:
        assert bytes(world.positions()) == bytes(want.positions())
        assert bytes(world.radii()) == bytes(array("f", want.r))
        assert (world.width(), world.height()) == (want.width, want.height)
        for step in range(steps):
            world.step(dt)
            want.step(dt)
            assert bytes(world.positions()) == bytes(want.positions()), f"step {step}"
        assert bytes(world.velocities()) == bytes(want.velocities())
        assert world.energy() == want.energy()


def test_a_bigger_box_past_2000_bodies_matches_the_reference(m: Any) -> None:
    want = reference.World(2500, 3)
    with m.World(2500, 3) as world:
        assert (world.width(), world.height()) == (want.width, want.height)
        assert world.width() > 800
        assert bytes(world.positions()) == bytes(want.positions())
        world.step(DT)
        want.step(DT)
        assert bytes(world.positions()) == bytes(want.positions())


def test_node_and_plain_js_agree_with_python(
    node_host: None, pkg: Path, in_python: list[dict[str, Any]]
) -> None:
    got = run_node(CHECK, pkg, "physics", {"cases": HOST_CASES, "plain": PLAIN.as_uri()})
    assert_same("node", got["wasm"], in_python)
    assert_same("plain JS in node", got["plain"], in_python)
    assert "100000" in got["refused"]


def test_chromium_agrees_with_python(
    chromium: Any, pkg: Path, in_python: list[dict[str, Any]]
) -> None:
    got = chromium.run(CHECK, pkg, "physics", {"cases": HOST_CASES})
    assert_same("chromium", got["wasm"], in_python)
    assert "100000" in got["refused"]
    # 60 fps: the 2,000-body case's mean step fits a 16.7 ms frame (a few ms on an
    # idle machine; the bound leaves room for a busy one, as CI's can be).
    assert got["wasm"][4]["ms_per_step"] < 16, got["wasm"][4]["ms_per_step"]


def test_a_settled_pile_keeps_its_invariants(m: Any) -> None:
    with m.World(2000, 21) as world:
        width, height = world.width(), world.height()
        radii = world.radii()
        start = world.energy()
        peak = start
        for _ in range(12):
            world.run(50, DT)
            peak = max(peak, world.energy())
        positions = world.positions()
        assert all(math.isfinite(v) for v in positions)
        assert all(math.isfinite(v) for v in world.velocities())
        for i, r in enumerate(radii):
            x, y = positions[2 * i], positions[2 * i + 1]
            right, bottom = reference.f32(width - r), reference.f32(height - r)  # as f32
            assert r <= x <= right and r <= y <= bottom, i
        # A pile 12 bodies deep, 8 solver passes: pairs still overlap a little.
        deepest = m.deepest_overlap(positions, radii)
        assert 0 <= deepest < 2.5, deepest
        assert peak <= start * 1.001, (start, peak)  # no energy from nowhere
        assert world.energy() < start * 0.5  # and the pile came to rest


def test_deepest_overlap_checks_every_pair(m: Any) -> None:
    assert m.deepest_overlap(array("f", [0, 0, 3, 4]), array("f", [3, 3])) == 1.0
    assert m.deepest_overlap(array("f", [0, 0, 30, 40]), array("f", [3, 3])) == 0.0
    assert m.deepest_overlap(array("f"), array("f")) == 0.0


def test_many_worlds_at_once_do_not_interfere(m: Any) -> None:
    worlds = [m.World(30, seed) for seed in range(40)]
    for _ in range(20):
        for world in worlds:
            world.step(DT)
    for seed, world in enumerate(worlds):
        with m.World(30, seed) as alone:
            alone.run(20, DT)
            assert bytes(world.positions()) == bytes(alone.positions()), seed
        world.close()


def test_empty_world_and_odd_steps(m: Any) -> None:
    with m.World(0, 0) as empty:
        empty.run(10, DT)
        assert (empty.len(), len(empty.positions()), empty.energy()) == (0, 0, 0.0)
    with m.World(50, 1) as world, m.World(50, 1) as capped:
        before = bytes(world.positions())
        for dt in (0.0, -1.0, math.nan):
            world.step(dt)
        assert bytes(world.positions()) == before  # no change
        world.step(5.0)  # cut to 0.05
        capped.step(0.05)
        assert bytes(world.positions()) == bytes(capped.positions())


def test_a_closed_world_raises_handle_error(m: Any) -> None:
    world = m.World(5, 1)
    world.close()
    with pytest.raises(wasmbridge.HandleError, match="closed"):
        world.step(DT)
    with pytest.raises(wasmbridge.HandleError):
        world.positions()


def test_the_largest_world_steps(m: Any) -> None:
    with m.World(100_000, 8) as world:
        assert world.len() == 100_000
        assert world.width() == reference.f32(800 * reference.f32(math.sqrt(50)))
        world.run(2, DT)
        xy = world.positions()
        assert min(xy) >= 2 and max(xy[0::2]) <= world.width() and max(xy[1::2]) <= world.height()


def test_too_many_bodies_is_refused_clearly(pkg: Path) -> None:
    m = wasmbridge.load(pkg / "physics.wasm")
    with pytest.raises(wasmbridge.GuestPanic, match="at most 100000 bodies"):
        m.World(100_001, 1)
    with pytest.raises(ValueError, match="at most 100000"):
        reference.World(100_001, 1)


def test_steps_too_short_to_divide_by_leave_the_world_alone(m: Any) -> None:
    """Velocities come from the distance moved over ``dt``: a step under 1e-4 s would
    blow them up (1e-45 made them infinite, then NaN), so it does nothing."""
    with m.World(2000, 3) as world:
        for _ in range(300):
            world.step(DT)
        before = bytes(world.positions()), bytes(world.velocities())
        for tiny in (1e-45, 1e-38, 1e-6, 9.9e-5):
            world.step(tiny)
        assert (bytes(world.positions()), bytes(world.velocities())) == before
        for _ in range(60):
            world.step(DT)
        assert all(math.isfinite(v) for v in world.positions())
