"""The physics example (examples/physics): ms per step of a 2,000-body world.

    python -c "import sys; sys.path[:0] = ['bench']; from _timing import Report; \\
        from usecases import physics; r = Report('physics'); physics.run(r, quick=True); \\
        print(r.markdown())"

Rows: the wasm module through wasmbridge from Python (one ``step`` call per
step); the same src/world.rs compiled natively by rustup's cargo (native/, via
ctypes); the pure-Python ``World`` below (the same algorithm, every f32
operation rounded like the module's, timed on fewer bodies and scaled per
body); plain JS (examples/physics/js/physics_plain.js) and the same .wasm in
Node (physics.mjs). numpy has no row: the solver is Gauss-Seidel, each pair
sees the pairs before it, which does not vectorise without changing the
algorithm (and its bits).

``World`` is also the independent reference of tests/usecases/test_physics.py:
it reaches the module's bits exactly, since a double result of ``+ - * /`` or
``sqrt`` on two f32 values, rounded once to f32, is the f32 result.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any

from _timing import Report, Row, Timing, measure, verdict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples/physics"
NODE_BENCH = Path(__file__).with_suffix(".mjs")
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-physics"

GRAVITY = 500.0
RESTITUTION = 0.5
MIN_RADIUS = 2.0
MAX_RADIUS = 5.0
CELL = 10.0
ITERATIONS = 8
MAX_BODIES = 100_000
MAX_DT = 0.05
MIN_DT = 1e-4  # a shorter step does nothing (world.rs says why)
BASE_WIDTH = 800.0
BASE_HEIGHT = 600.0
BASE_BODIES = 2000
INITIAL_SPEED = 100.0
BOUNCE = -1.5
BODIES = 2000
STEP = f"physics step, {BODIES:,} bodies"  # the workload every row of run() names
DT = 1 / 60

_F32 = struct.Struct("<f")


def f32(value: float) -> float:
    """``value`` rounded to the nearest f32 (ties to even), as a Python float."""
    return _F32.unpack(_F32.pack(value))[0]  # type: ignore[no-any-return]


CONTACT = f32(1.01)


class Rng:
    """xorshift32, seeded as src/world.rs seeds it."""

    def __init__(self, seed: int) -> None:
        state = (seed & 0xFFFFFFFF) ^ 0x2545F491
        self.state = state or 1
        for _ in range(4):
            self.next_u32()

    def next_u32(self) -> int:
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def unit(self) -> float:
        return (self.next_u32() >> 8) / 16777216.0  # exact in f32

    def signed(self) -> float:
        return self.unit() * 2.0 - 1.0  # exact too


class World:
    """examples/physics/src/world.rs in Python, one f32 rounding per operation."""

    def __init__(self, n: int, seed: int) -> None:
        if not 0 <= n <= MAX_BODIES:
            raise ValueError(f"World(n, seed): n is at most {MAX_BODIES} bodies, got {n}")
        f = f32
        scale = f(math.sqrt(f(n / BASE_BODIES))) if n > BASE_BODIES else 1.0
        self.width = f(BASE_WIDTH * scale)
        self.height = f(BASE_HEIGHT * scale)
        lattice = int(f(self.width / CELL))
        self.cols = int(f(self.width / CELL)) + 1
        self.rows = int(f(self.height / CELL)) + 1
        self.n = n
        self.x: list[float] = []
        self.y: list[float] = []
        self.vx: list[float] = []
        self.vy: list[float] = []
        self.r: list[float] = []
        self.im: list[float] = []
        rng = Rng(seed)
        for i in range(n):
            r = f(MIN_RADIUS + f(rng.unit() * (MAX_RADIUS - MIN_RADIUS)))
            room = f(CELL * 0.5 - r)
            col, row = i % lattice, i // lattice
            self.x.append(f(f((col + 0.5) * CELL) + f(rng.signed() * room)))
            self.y.append(f(f((row + 0.5) * CELL) + f(rng.signed() * room)))
            self.vx.append(f(rng.signed() * INITIAL_SPEED))
            self.vy.append(f(rng.signed() * INITIAL_SPEED))
            self.r.append(r)
            self.im.append(f(1.0 / f(r * r)))
        self.start = [0] * (self.cols * self.rows + 1)
        self.sorted = [0] * n

    def positions(self) -> array[float]:
        out = array("f", bytes(8 * self.n))
        out[0::2] = array("f", self.x)
        out[1::2] = array("f", self.y)
        return out

    def velocities(self) -> array[float]:
        out = array("f", bytes(8 * self.n))
        out[0::2] = array("f", self.vx)
        out[1::2] = array("f", self.vy)
        return out

    def energy(self) -> float:
        total = 0.0
        for r, vx, vy, y in zip(self.r, self.vx, self.vy, self.y, strict=True):
            total += r * r * (0.5 * (vx * vx + vy * vy) + GRAVITY * (self.height - y))
        return total

    def run(self, steps: int, dt: float) -> None:
        for _ in range(steps):
            self.step(dt)

    def step(self, dt: float) -> None:
        f = f32
        dt = f(dt)
        if not dt >= f(MIN_DT):
            return
        dt = min(dt, f(MAX_DT))
        x, y, vx, vy = self.x, self.y, self.vx, self.vy
        px, py = list(x), list(y)
        gdt = f(GRAVITY * dt)
        for i in range(self.n):
            vy[i] = f(vy[i] + gdt)
            x[i] = f(x[i] + f(vx[i] * dt))
            y[i] = f(y[i] + f(vy[i] * dt))
        self._clamp()
        self._fill_grid()
        for _ in range(ITERATIONS):
            self._collide(self._resolve)
            self._clamp()
        for i in range(self.n):
            vx[i] = f(f(x[i] - px[i]) / dt)
            vy[i] = f(f(y[i] - py[i]) / dt)
        self._collide(self._rebound)
        self._bounce()

    def _clamp(self) -> None:
        x, y, width, height = self.x, self.y, self.width, self.height
        for i, r in enumerate(self.r):
            right, bottom = f32(width - r), f32(height - r)
            if x[i] < r:
                x[i] = r
            elif x[i] > right:
                x[i] = right
            if y[i] < r:
                y[i] = r
            elif y[i] > bottom:
                y[i] = bottom

    def _bounce(self) -> None:
        x, y, vx, vy = self.x, self.y, self.vx, self.vy
        for i, r in enumerate(self.r):
            right, bottom = f32(self.width - r), f32(self.height - r)
            if (x[i] <= r and vx[i] < 0.0) or (x[i] >= right and vx[i] > 0.0):
                vx[i] = f32(-vx[i] * RESTITUTION)
            if (y[i] <= r and vy[i] < 0.0) or (y[i] >= bottom and vy[i] > 0.0):
                vy[i] = f32(-vy[i] * RESTITUTION)

    def _fill_grid(self) -> None:
        cols, rows, start = self.cols, self.rows, self.start
        cells = cols * rows
        start[:] = [0] * (cells + 1)
        cell = []
        for xi, yi in zip(self.x, self.y, strict=True):
            c = min(int(f32(xi / CELL)), cols - 1) + min(int(f32(yi / CELL)), rows - 1) * cols
            cell.append(c)
            start[c + 1] += 1
        for c in range(cells):
            start[c + 1] += start[c]
        for i, c in enumerate(cell):
            self.sorted[start[c]] = i
            start[c] += 1
        start[1:] = start[:-1]
        start[0] = 0

    def _collide(self, pair: Any) -> None:
        cols, rows, start, sorted_ = self.cols, self.rows, self.start, self.sorted
        for cy in range(rows - 1, -1, -1):
            for cx in range(cols):
                c = cx + cy * cols
                lo, hi = start[c], start[c + 1]
                for a in range(lo, hi):
                    i = sorted_[a]
                    for b in range(a + 1, hi):
                        pair(i, sorted_[b])
                    neighbours = []
                    if cx + 1 < cols:
                        neighbours.append(c + 1)
                    if cy + 1 < rows:
                        if cx > 0:
                            neighbours.append(c + cols - 1)
                        neighbours.append(c + cols)
                        if cx + 1 < cols:
                            neighbours.append(c + cols + 1)
                    for other in neighbours:
                        for b in range(start[other], start[other + 1]):
                            pair(i, sorted_[b])

    def _resolve(self, i: int, j: int) -> None:
        f = f32
        x, y = self.x, self.y
        dx = f(x[j] - x[i])
        dy = f(y[j] - y[i])
        reach = f(self.r[i] + self.r[j])
        d2 = f(f(dx * dx) + f(dy * dy))
        if not d2 < f(reach * reach):
            return
        if d2 > 0.0:
            d = f(math.sqrt(d2))
            nx, ny = f(dx / d), f(dy / d)
        else:
            nx, ny, d = 1.0, 0.0, 0.0
        wi, wj = self.im[i], self.im[j]
        push = f(f(reach - d) / f(wi + wj))
        pi, pj = f(push * wi), f(push * wj)
        x[i] = f(x[i] - f(nx * pi))
        y[i] = f(y[i] - f(ny * pi))
        x[j] = f(x[j] + f(nx * pj))
        y[j] = f(y[j] + f(ny * pj))

    def _rebound(self, i: int, j: int) -> None:
        f = f32
        x, y, vx, vy = self.x, self.y, self.vx, self.vy
        dx = f(x[j] - x[i])
        dy = f(y[j] - y[i])
        reach = f(f(self.r[i] + self.r[j]) * CONTACT)
        d2 = f(f(dx * dx) + f(dy * dy))
        if not d2 < f(reach * reach) or not d2 > 0.0:
            return
        d = f(math.sqrt(d2))
        nx, ny = f(dx / d), f(dy / d)
        vn = f(f(f(vx[j] - vx[i]) * nx) + f(f(vy[j] - vy[i]) * ny))
        if vn < 0.0:
            wi, wj = self.im[i], self.im[j]
            impulse = f(f(BOUNCE * vn) / f(wi + wj))
            ki, kj = f(impulse * wi), f(impulse * wj)
            vx[i] = f(vx[i] - f(nx * ki))
            vy[i] = f(vy[i] - f(ny * ki))
            vx[j] = f(vx[j] + f(nx * kj))
            vy[j] = f(vy[j] + f(ny * kj))


# ---- the benchmark ---------------------------------------------------------------


def build_wasm(out: Path) -> Path:
    """examples/physics with ``wasmbridge build --profile speed --target all``."""
    env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR / "wasm")}
    argv = [sys.executable, "-m", "wasmbridge", "build", str(EXAMPLE), "--profile", "speed"]
    argv += ["--target", "all", "--out-dir", str(out), "-q"]
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return out / "physics.wasm"


class Native:
    """examples/physics/native (the same src/world.rs) built by rustup's cargo, via ctypes."""

    def __init__(self) -> None:
        cargo = Path.home() / ".cargo/bin/cargo"
        found = cargo if cargo.exists() else shutil.which("cargo")
        if found is None:
            raise RuntimeError("no cargo for the native build: install Rust with rustup")
        target = TARGET_DIR / "native"
        manifest = str(EXAMPLE / "native/Cargo.toml")
        argv = [str(found), "build", "--release", "--quiet", "--manifest-path", manifest]
        subprocess.run(argv, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(target)})
        lib = ctypes.CDLL(str(target / "release/libphysics_native.so"))
        lib.physics_new.restype = ctypes.c_void_p
        lib.physics_new.argtypes = [ctypes.c_uint32, ctypes.c_uint32]
        lib.physics_run.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_float]
        lib.physics_positions.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.physics_free.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def world(self, n: int, seed: int) -> Any:
        return self.lib.physics_new(n, seed)

    def positions(self, world: Any, n: int) -> array[float]:
        out = array("f", bytes(8 * n))
        self.lib.physics_positions(world, out.buffer_info()[0])
        return out


def node_timings(pkg: Path, samples: int, per_sample: int) -> dict[str, Any] | None:
    node = shutil.which("node")
    if node is None:
        return None
    plain = EXAMPLE / "js/physics_plain.js"
    argv = [node, str(NODE_BENCH), str(pkg / "physics.js"), str(plain), str(BODIES)]
    argv += [str(samples), str(per_sample)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def from_samples(ms: list[float]) -> Timing:
    return Timing(min(ms) / 1e3, statistics.median(ms) / 1e3, len(ms))


def verify(module: Any) -> None:
    """Stops the run unless the module and the pure-Python world agree bit for bit."""
    want = World(20, 5)
    with module.World(20, 5) as got:
        want.run(10, DT)
        got.run(10, DT)
        if bytes(got.positions()) != bytes(want.positions()):
            raise SystemExit("physics: physics.wasm and the pure-Python World disagree")


def run(report: Report, quick: bool) -> None:
    """Rows: ms per step of a 2,000-body world, five ways."""
    import wasmbridge

    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as scratch:
        pkg = Path(scratch)
        module = wasmbridge.load(build_wasm(pkg))
        verify(module)
        native = Native()

        world = module.World(BODIES, 1)
        world.run(120, DT)  # the pile forms; steps cost about the same from here on
        wasm = measure(lambda: world.step(DT), repeats=repeats)
        report.add(Row(f"{STEP}: wasm via wasmbridge", wasm, note="per step, from Python"))
        report.add(
            Row(
                f"{STEP}: 60 fps budget (16.7 ms), wasm via wasmbridge",
                value=f"{wasm.median_s * 1e3:.2f} ms",
                target="< 16.7 ms",
                verdict=verdict(wasm.median_s < 1 / 60),
            )
        )

        handle = native.world(BODIES, 1)
        try:
            native.lib.physics_run(handle, 120, DT)
            timed = measure(lambda: native.lib.physics_run(handle, 1, DT), repeats=repeats)
        finally:
            native.lib.physics_free(handle)
        report.add(Row(f"{STEP}: native (rustup cargo, ctypes)", timed, note="same src/world.rs"))
        ratio = wasm.median_s / timed.median_s
        report.add(
            Row(
                f"{STEP}: wasm / native",
                value=f"{ratio:.2f}x",
                target="<= 1.5x",
                verdict=verdict(ratio <= 1.5),
            )
        )

        pure = World(BODIES, 1)
        positions, velocities = world.positions(), world.velocities()
        pure.x, pure.y = list(positions[0::2]), list(positions[1::2])
        pure.vx, pure.vy = list(velocities[0::2]), list(velocities[1::2])  # the same pile
        python = measure(lambda: pure.step(DT), repeats=1 if quick else 3, target_s=0.0)
        report.add(
            Row(
                f"{STEP}: pure Python (bench/usecases/physics.py)",
                python,
                note="the same algorithm, f32 rounding emulated, from the wasm world's state",
            )
        )
        faster = python.median_s / wasm.median_s
        report.add(
            Row(
                f"{STEP}: pure Python / wasm",
                value=f"{faster:.0f}x",
                target=">= 50x",
                verdict=verdict(faster >= 50),
            )
        )

        timings = node_timings(pkg, repeats, 20 if quick else 60)
        if timings is None:
            report.notes.append("physics: no node on PATH, so no plain-JS or Node rows")
            return
        plain, in_node = from_samples(timings["plain"]), from_samples(timings["wasm"])
        note = "bit-identical to the wasm world" if timings["same"] else "DIFFERS from wasm"
        report.add(Row(f"{STEP}: plain JS in Node (physics_plain.js)", plain, note=note))
        report.add(Row(f"{STEP}: same .wasm in Node", in_node, note="generated ES module"))
        report.add(
            Row(
                f"{STEP}: wasm in Node faster than plain JS",
                value=f"{plain.median_s / in_node.median_s:.2f}x",
                target="> 1x",
                verdict=verdict(in_node.median_s < plain.median_s),
            )
        )
        report.notes.append(
            "physics: every row steps a 2,000-body world (800x600 box, 8 solver passes) at "
            "dt = 1/60 after 120 warm-up steps (pure Python starts from the wasm world's "
            "state, so it steps the same pile); no numpy row (the Gauss-Seidel solver is "
            "sequential by nature)"
        )
