"""examples/showcase end to end: ``wasmbridge serve`` and the page in headless Chromium.

The four kernels are built for the web into examples/showcase/pkg/ (as build.sh
does), ``wasmbridge serve examples/showcase/wasmbridge.toml`` runs on a free port
(building the API crate), and Chromium drives the page as a user would: the sample
picture through every image operation, text typed into the hash box, a JWT signed
and verified, the physics and video loops. Results are read back from the canvases
and from ``window.showcase`` and checked against numpy, hashlib and PyJWT; the page's
own timings are written with a screenshot to the test's folder (and to
``$WASMBRIDGE_ARTIFACTS`` when set).

Playwright's sync API refuses to start while another session runs in the same
thread (the shared ``chromium`` fixture's may be open), so this module's browser
lives on a thread of its own and the tests hand it functions of the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import pytest
from usecase_helpers import CHROMIUM_FLAGS, EXAMPLES, TARGET_DIR

from build_helpers import require
from web_helpers import CHROMIUM, browser_problem

pytestmark = pytest.mark.toolchain

SHOWCASE = EXAMPLES / "showcase"
KERNELS = ("imagekit", "videofx", "cryptokit", "physics")
JWT_KEY = "correct horse battery staple, twice"  # 32 bytes or more, as RFC 7518 asks
T = TypeVar("T")
VIDEO: dict[str, Any] = {}  # each engine's frame times, for the timings file

# The RGBA pixels of a canvas, as [width, height, base64].
READ_CANVAS = """(id) => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let text = "";
    for (let i = 0; i < data.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
    }
    return [canvas.width, canvas.height, btoa(text)];
}"""


class Browser:
    """A page of the showcase in headless Chromium, driven from one thread of its own."""

    def __init__(self, pool: ThreadPoolExecutor, page: Any) -> None:
        self._pool = pool
        self._page = page
        self.problems: list[str] = []

    def run(self, action: Callable[[Any], T], timeout: float = 60) -> T:
        """``action(page)``, run on the browser's thread."""
        return self._pool.submit(action, self._page).result(timeout)

    def state(self, expression: str = "window.showcase") -> Any:
        return self.run(lambda page: page.evaluate(expression))

    def wait(self, expression: str, timeout: float = 30) -> None:
        self.run(lambda page: page.wait_for_function(expression, timeout=timeout * 1000))

    def click(self, selector: str) -> None:
        self.run(lambda page: page.click(selector))

    def fill(self, selector: str, text: str) -> None:
        self.run(lambda page: page.fill(selector, text))

    def pixels(self, canvas: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
        """A canvas's pixels as a (height, width, 4) uint8 array."""
        width, height, data = self.run(lambda page: page.evaluate(READ_CANVAS, canvas))
        pixels = np.frombuffer(base64.b64decode(data), np.uint8)
        return pixels.reshape(height, width, 4)


@pytest.fixture(scope="module")
def showcase_url(
    example_pkg: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``wasmbridge serve examples/showcase/wasmbridge.toml`` on a free port, kernels built."""
    require(browser_problem())
    for name in KERNELS:
        site = SHOWCASE / "pkg" / name
        site.mkdir(parents=True, exist_ok=True)
        for suffix in (".js", ".wasm"):
            shutil.copy(example_pkg(name) / f"{name}{suffix}", site)
    log = tmp_path_factory.mktemp("showcase-serve") / "serve.log"
    env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR / "showcase-api"), "NO_COLOR": "1"}
    manifest = SHOWCASE / "wasmbridge.toml"
    command = [
        sys.executable,
        "-m",
        "wasmbridge",
        "serve",
        str(manifest),
        "--listen",
        "127.0.0.1:0",
    ]
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            [*command, "--no-access-log"], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        ) as server,
    ):
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_forward, args=(server.stdout, lines), daemon=True).start()
        try:
            try:
                url = lines.get(timeout=240).strip()  # the API crate is built before it listens
            except queue.Empty:
                url = ""
            if not url.startswith("http://") or not _healthy(url):
                pytest.fail(f"wasmbridge serve did not start:\n{log.read_text()[-4000:]}")
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def _healthy(url: str, timeout: float = 60) -> bool:
    """Whether /healthz answers within ``timeout`` (the URL is printed before it listens)."""
    from urllib.request import urlopen

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/healthz", timeout=5) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.1)
    return False


def _forward(stream: IO[str] | None, lines: queue.Queue[str]) -> None:
    for line in stream or ():
        lines.put(line)


@pytest.fixture(scope="module")
def browser(showcase_url: str) -> Iterator[Browser]:
    """The showcase open in Chromium, every section loaded."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="showcase-chromium") as pool:
        opened = pool.submit(_open, showcase_url).result(timeout=120)
        playwright, chromium, page, problems = opened
        session = Browser(pool, page)
        session.problems = problems
        try:
            session.wait("window.showcase && window.showcase.ready", timeout=60)
            yield session
        finally:
            pool.submit(lambda: (chromium.close(), playwright.stop())).result(timeout=60)


def _open(url: str) -> tuple[Any, Any, Any, list[str]]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.goto(f"{url}/")
    return playwright, chromium, page, problems


def luma(rgba: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, np.dtype[np.int32]]:
    """BT.601 luma of each pixel, rounded: numpy's independent reference."""
    weighted = rgba[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.rint(weighted).astype(np.int32)


# -- the page -----------------------------------------------------------------------------


def test_every_section_loads_its_kernel(browser: Browser) -> None:
    state = browser.state()
    assert state["errors"] == []
    for section in ("image", "physics", "crypto", "video"):
        assert state[section]["ready"], f"{section}: {state[section]}"
    assert "errors" not in state["image"], state["image"]  # plain-JS imagekit loaded
    assert browser.problems == []


def api(url: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
    """The status and JSON body of a GET (or, with ``form``, a POST) to the API route."""
    from urllib.error import HTTPError
    from urllib.parse import urlencode
    from urllib.request import urlopen

    body = None if form is None else urlencode(form).encode()
    try:
        with urlopen(url, body, timeout=10) as response:
            return response.status, json.load(response)
    except HTTPError as error:
        return error.code, error.read().decode()


def test_api_route_verifies_hs256_tokens(showcase_url: str) -> None:
    import jwt

    verify = f"{showcase_url}/api/jwt/verify"
    assert api(f"{showcase_url}/api/info")[1]["handler"] == "showcase-api"
    token = jwt.encode({"sub": "ada", "note": "a+b=c & d"}, JWT_KEY, algorithm="HS256")
    status, answer = api(verify, {"token": token, "key": JWT_KEY})
    assert status == 200 and json.loads(answer["claims"]) == {"sub": "ada", "note": "a+b=c & d"}
    header, claims, _ = token.split(".")
    cases = {
        "bad signature": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "wrong alg": jwt.encode({"sub": "ada"}, JWT_KEY * 2, algorithm="HS512"),
        "malformed": f"{header}.{claims}",
    }
    for why, bad in cases.items():
        status, answer = api(verify, {"token": bad, "key": JWT_KEY})
        assert status == 401 and not json.loads(answer)["valid"], (why, answer)
        assert why in json.loads(answer)["error"], (why, answer)
    assert api(verify, {"token": token})[0] == 400
    assert api(verify)[0] == 405


# -- image --------------------------------------------------------------------------------


def test_grayscale_in_wasm_equals_plain_js(browser: Browser) -> None:
    browser.click("#image-sample")
    browser.click("#op-grayscale")
    browser.wait("window.showcase.image.ops.grayscale")
    source = browser.pixels("image-source")
    wasm = browser.pixels("image-wasm")
    plain = browser.pixels("image-js")
    assert source.shape == wasm.shape == plain.shape == (512, 768, 4)
    assert np.abs(wasm.astype(int) - plain.astype(int)).max() <= 1
    assert np.abs(wasm[..., 0].astype(int) - luma(source)).max() <= 1
    assert (wasm[..., 0] == wasm[..., 1]).all() and (wasm[..., 1] == wasm[..., 2]).all()
    assert (wasm[..., 3] == source[..., 3]).all()
    entry = browser.state("window.showcase.image.ops.grayscale")
    assert entry["max_diff"] <= 1 and entry["wasm_ms"] > 0 and entry["js_ms"] > 0


def test_blur_resize_and_jpeg_in_wasm_and_js(browser: Browser) -> None:
    browser.click("#image-sample")
    for op in ("blur", "resize", "jpeg"):
        browser.click(f"#op-{op}")
        browser.wait(f"window.showcase.image.ops.{op}")
    ops = browser.state("window.showcase.image.ops")
    source = browser.pixels("image-source").astype(int)

    assert ops["blur"]["sigma"] == 3 and ops["blur"]["max_diff"] <= 2, ops["blur"]
    assert ops["resize"]["width"] == 384 and ops["resize"]["height"] == 256
    assert ops["resize"]["max_diff"] <= 2, ops["resize"]
    jpeg = ops["jpeg"]
    assert jpeg["quality"] == 80 and 1000 < jpeg["wasm_bytes"] < source.size, jpeg
    decoded = browser.pixels("image-wasm").astype(int)  # the wasm JPEG, decoded by Chromium
    assert decoded.shape == source.shape
    assert np.abs(decoded[..., :3] - source[..., :3]).mean() < 4
    for entry in ops.values():
        assert entry["wasm_ms"] > 0 and entry["js_ms"] > 0


def test_a_picked_png_is_decoded_in_wasm(browser: Browser, tmp_path: Path) -> None:
    from PIL import Image

    pixels = np.random.default_rng(5).integers(0, 256, (48, 64, 4), dtype=np.uint8)
    pixels[..., 3] = 255  # opaque: a canvas keeps opaque pixels exactly
    Image.fromarray(pixels, "RGBA").save(tmp_path / "noise.png")
    browser.run(lambda page: page.set_input_files("#image-file", tmp_path / "noise.png"))
    browser.wait(
        "window.showcase.image.source && window.showcase.image.source.label === 'noise.png'"
    )
    decode = browser.state("window.showcase.image.decode")
    assert decode["wasm_ms"] > 0 and decode["js_ms"] > 0, decode
    assert (browser.pixels("image-source") == pixels).all()


# -- crypto -------------------------------------------------------------------------------


def test_sha256_of_typed_text_equals_hashlib(browser: Browser) -> None:
    text = "Grüße aus wasmbridge ✓ 🦀"
    browser.fill("#hash-input", "")
    browser.run(lambda page: page.locator("#hash-input").press_sequentially(text))
    browser.wait(f"window.showcase.crypto.hash.text === {json.dumps(text)}")
    digest = browser.state("window.showcase.crypto.hash")
    assert digest["wasm"] == digest["webcrypto"] == hashlib.sha256(text.encode()).hexdigest()
    assert digest["bytes"] == len(text.encode())

    long_text = "0123456789abcdef" * 8192 + "!"  # 128 KiB and one byte
    browser.fill("#hash-input", long_text)
    browser.wait(f"window.showcase.crypto.hash.bytes === {len(long_text)}")
    assert (
        browser.state("window.showcase.crypto.hash.wasm")
        == hashlib.sha256(long_text.encode()).hexdigest()
    )


def test_jwt_signed_in_the_page_verifies_with_pyjwt_and_the_api_route(browser: Browser) -> None:
    import jwt

    claims = {"sub": "ada", "name": "Ada Lovelace ✓", "admin": True, "n": 42}
    browser.fill("#jwt-claims", json.dumps(claims, ensure_ascii=False))
    browser.fill("#jwt-key", JWT_KEY)
    browser.click("#jwt-sign")
    browser.wait("window.showcase.crypto.jwt && window.showcase.crypto.jwt.server")
    signed = browser.state("window.showcase.crypto.jwt")
    assert jwt.get_unverified_header(signed["token"]) == {"alg": "HS256", "typ": "JWT"}
    assert jwt.decode(signed["token"], JWT_KEY, algorithms=["HS256"]) == claims
    assert signed["local"]["valid"] and json.loads(signed["local"]["claims"]) == claims
    assert signed["server"]["status"] == 200 and signed["server"]["valid"], signed["server"]
    assert json.loads(signed["server"]["claims"]) == claims

    # A token PyJWT signed verifies in the page and on the server; a wrong key fails both.
    token = jwt.encode({"sub": "grace", "iat": 1700000000}, JWT_KEY, algorithm="HS256")
    for key, valid in ((JWT_KEY, True), (JWT_KEY + "!", False)):
        browser.fill("#jwt-token", token)
        browser.fill("#jwt-key", key)
        browser.run(lambda page: page.evaluate("window.showcase.crypto.jwt.server = null"))
        browser.click("#jwt-verify")
        browser.wait("window.showcase.crypto.jwt.server")
        result = browser.state("window.showcase.crypto.jwt")
        assert result["local"]["valid"] is valid and result["server"]["valid"] is valid, result
        assert result["server"]["status"] == (200 if valid else 401)
        if not valid:
            assert "signature" in result["server"]["error"], result["server"]
            assert "signature" in result["local"]["error"], result["local"]


# -- physics and video --------------------------------------------------------------------


def test_physics_runs_2000_bodies_per_frame(browser: Browser) -> None:
    browser.click("#physics-toggle")
    browser.wait("window.showcase.physics.fps > 0 && window.showcase.physics.steps > 30")
    before = browser.state("window.showcase.physics.sample")
    browser.run(lambda page: page.wait_for_timeout(300))
    after = browser.state("window.showcase.physics")
    browser.click("#physics-toggle")
    assert after["bodies"] == 2000 and after["engine"] == "wasm"
    assert after["fps"] > 0 and after["step_ms"] > 0
    assert len(before) == 8 and before != after["sample"], "no body moved"
    browser.click("#physics-compare")
    browser.wait("window.showcase.physics.compare")
    compare = browser.state("window.showcase.physics.compare")
    assert compare["wasm_step_ms"] > 0 and compare["js_step_ms"] > 0, compare


@pytest.mark.parametrize("engine", ["wasm", "js"])
def test_video_filters_1280x720_frames(browser: Browser, engine: str) -> None:
    browser.run(lambda page: page.select_option("#video-engine", engine))
    browser.run(
        lambda page: page.evaluate("Object.assign(window.showcase.video, {frames: 0, fps: 0})")
    )
    browser.click("#video-toggle")
    browser.wait("window.showcase.video.fps > 0 && window.showcase.video.frames > 5")
    browser.click("#video-toggle")
    video = browser.state("window.showcase.video")
    VIDEO[engine] = {k: video[k] for k in ("fps", "filter_ms", "generate_ms")}
    assert video["engine"] == engine and video["effect"] == "grayscale_contrast"
    assert video["filter_ms"] > 0
    frame = browser.pixels("video-canvas")
    assert frame.shape == (720, 1280, 4)
    assert (frame[..., 0] == frame[..., 1]).all() and (frame[..., 1] == frame[..., 2]).all()


# -- what the page measured ---------------------------------------------------------------


def test_screenshot_and_the_pages_timings(browser: Browser, tmp_path: Path) -> None:
    browser.click("#hash-bench")
    browser.wait("window.showcase.crypto.bench")
    assert browser.state("window.showcase.crypto.bench.match")
    browser.click("#image-sample")
    browser.click("#image-run-all")
    rows = "document.querySelectorAll('#image-table tr[data-op]').length"
    browser.wait(f"window.showcase.image.last === 'jpeg' && {rows} === 4")
    shot = browser.run(lambda page: page.screenshot(full_page=True))
    state = browser.state()
    timings = {
        "image": {
            op: {k: entry[k] for k in ("wasm_ms", "js_ms", "speedup")}
            for op, entry in state["image"]["ops"].items()
        },
        "physics": {
            k: state["physics"][k] for k in ("bodies", "fps", "step_ms", "draw_ms", "compare")
        },
        "crypto": {
            "hash": {k: state["crypto"]["hash"][k] for k in ("bytes", "wasm_ms", "webcrypto_ms")},
            "hash_8mib": {k: state["crypto"]["bench"][k] for k in ("wasm_mb_s", "webcrypto_mb_s")},
            "jwt": {
                "sign_ms": state["crypto"]["jwt"]["sign_ms"],
                "server_ms": state["crypto"]["jwt"]["server"]["ms"],
            },
        },
        "video_1280x720": VIDEO,
    }
    folders = [tmp_path]
    if os.environ.get("WASMBRIDGE_ARTIFACTS"):
        folders.append(Path(os.environ["WASMBRIDGE_ARTIFACTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "showcase.png").write_bytes(shot)
        (folder / "showcase-timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(json.dumps(timings, indent=2))
    assert shot.startswith(b"\x89PNG")
    assert set(timings["image"]) == {"grayscale", "blur", "resize", "jpeg"}
    # The only console errors: the API's 401 answers to the wrong key above.
    assert [p for p in browser.problems if "401 (Unauthorized)" not in p] == []
