"""The generated glue in a real browser: headless Chromium (Debian's) driven by Playwright.

A loopback server (``wasmbridge serve-pkg``'s) serves the `hello`, `types` and
`geo` packages with the demo page; the page imports the glue, and the shared
vectors run in the browser with the results compared to Python's (types) and
Python's too (geo: records, enums, classes, tuples, lists, char).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from build_helpers import require
from vector_values import load_cases
from wasmbridge.devserver import PackageServer
from web_compound import python_outcomes as geo_python_outcomes
from web_compound import write_interface_json
from web_helpers import CHROMIUM, NODE_TESTS, browser_problem, differences, python_outcomes

pytestmark = [pytest.mark.browser, pytest.mark.toolchain]

CASES = load_cases("types")
VECTORS = Path(__file__).parents[1] / "vectors" / "types.json"
GEO_VECTORS = Path(__file__).parents[1] / "vectors" / "geo.json"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--js-flags=--expose-gc",
]
WebPkg = Callable[[str], Path]


@dataclass
class Browser:
    """One page of a fresh Chromium profile, with what it showed: dialogs, console lines."""

    context: Any
    page: Any
    url: str
    dialogs: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    def open(self, path: str = "") -> Any:
        page = self.context.new_page()
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.accept()))
        page.on("console", lambda message: self.console.append((message.type, message.text)))
        page.goto(self.url + path)
        return page


@pytest.fixture(scope="module")
def site(web_pkg: WebPkg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory: the hello, types and geo packages, the harnesses, the vectors."""
    root = tmp_path_factory.mktemp("site")
    for name in ("hello", "types"):
        for suffix in (".js", ".wasm"):
            shutil.copy(web_pkg(name) / f"{name}{suffix}", root)
    shutil.copy(web_pkg("types") / "signatures.json", root)
    for harness in ("vectors.mjs", "compound.mjs"):
        shutil.copy(NODE_TESTS / harness, root)
    shutil.copy(VECTORS, root)
    geo = root / "geo"  # a directory of its own: the demo page at / stays hello's
    geo.mkdir()
    for name in ("geo.js", "geo.wasm"):
        shutil.copy(web_pkg("geo") / name, geo)
    shutil.copy(write_interface_json(web_pkg("geo") / "geo.wasm"), geo)
    shutil.copy(GEO_VECTORS, geo / "vectors.json")
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[PackageServer]:
    with PackageServer(site, port=0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def browser(server: PackageServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require(browser_problem())
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            browser = Browser(context, None, server.url)
            browser.page = browser.open()
            browser.page.wait_for_function("window.hello !== undefined", timeout=30_000)
            yield browser
        finally:
            context.close()


def test_demo_page_loads_the_module_streaming(browser: Browser) -> None:
    assert browser.page.text_content("#status") == "Loaded: the exports are in window.hello."
    assert [text for kind, text in browser.console if kind in ("warning", "error")] == []


def test_add_and_greet_with_the_browsers_alert(browser: Browser) -> None:
    assert browser.page.evaluate("hello.add(5, 7)") == 12
    browser.page.evaluate("hello.greet('World')")
    assert browser.dialogs[-1:] == ["Hello, World!"]


BUFFERS = """async () => {
  const types = await import("./types.js");
  await types.default();
  const buf = new Uint8Array([1, 2, 3]);
  types.reverse(buf);
  const filled = new Uint8Array(4);
  types.fill(filled, 7);
  return {
    echoed: Array.from(types.echo_bytes(new Uint8Array([0, 255, 16]))),
    reversed: Array.from(buf),
    filled: Array.from(filled),
    digest: Array.from(types.digest32(new Uint8Array(1024))).length,
  };
}"""


def test_bytes_and_mut_bytes_functions(browser: Browser) -> None:
    assert browser.page.evaluate(BUFFERS) == {
        "echoed": [0, 255, 16],
        "reversed": [3, 2, 1],
        "filled": [7, 7, 7, 7],
        "digest": 32,
    }


RUN_VECTORS = """async () => {
  const types = await import("./types.js");
  const { runCase } = await import("./vectors.mjs");
  await types.default();
  const signatures = await (await fetch("./signatures.json")).json();
  const vectors = await (await fetch("./types.json")).json();
  return vectors.cases.map((testCase) => {
    const { outcome, problem } = runCase(types, signatures, testCase);
    return { outcome, problem: problem ?? null };
  });
}"""


def test_shared_vectors_in_chromium_equal_python(browser: Browser, web_pkg: WebPkg) -> None:
    results = browser.page.evaluate(RUN_VECTORS)
    problems = [(i, CASES[i]["call"], r["problem"]) for i, r in enumerate(results) if r["problem"]]
    assert problems == []
    chromium = [r["outcome"] for r in results]
    python = python_outcomes(web_pkg("types") / "types.wasm", CASES)
    assert differences(chromium, python, CASES) == []


def test_wrong_mime_type_still_loads_with_one_warning(browser: Browser, site: Path) -> None:
    wasm = (site / "hello.wasm").read_bytes()
    page = browser.context.new_page()
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.route(
        "**/hello.wasm",
        lambda route: route.fulfill(body=wasm, content_type="application/octet-stream"),
    )
    page.goto(browser.url)
    page.wait_for_function("window.hello !== undefined", timeout=30_000)
    assert page.evaluate("hello.add(1, 2)") == 3
    assert len(warnings) == 1, warnings
    assert "serve .wasm files as application/wasm" in warnings[0]
    page.close()


# -- geo: records, enums, classes, tuples, lists, char -------------------------------

GEO_CASES = json.loads(GEO_VECTORS.read_text(encoding="utf-8"))["cases"]
RUN_GEO_VECTORS = """async () => {
  const geo = await import("./geo/geo.js");
  const { Harness } = await import("./compound.mjs");
  await geo.default();
  const iface = await (await fetch("./geo/interface.json")).json();
  const vectors = await (await fetch("./geo/vectors.json")).json();
  const harness = new Harness(geo, iface);
  return vectors.cases.map((testCase) => {
    const { outcome, problem } = harness.run(testCase);
    return { outcome, problem: problem ?? null };
  });
}"""


def test_geo_vectors_in_chromium_equal_python(browser: Browser, web_pkg: WebPkg) -> None:
    results = browser.page.evaluate(RUN_GEO_VECTORS)
    assert len(results) == len(GEO_CASES)
    problems = [(i, GEO_CASES[i].get("call"), r["problem"]) for i, r in enumerate(results)]
    assert [p for p in problems if p[2]] == []
    python = geo_python_outcomes(web_pkg("geo") / "geo.wasm", GEO_CASES)
    differ = [i for i, (r, p) in enumerate(zip(results, python, strict=True)) if r["outcome"] != p]
    assert differ == []


ISSUE_EXAMPLE = """async () => {
  const { default: init, mid, Counter, Shape, words } = await import("./geo/geo.js");
  await init();
  const point = mid({ x: 0, y: 0 }, { x: 2, y: 4 });
  const c = new Counter("c", 5); const seven = c.incr(2); c.free();
  let closed = "";
  try { c.incr(1); } catch (error) { closed = `${error.name}: ${error.message}`; }
  return { point, seven, square: Shape.Square, name: Shape[1], words: words("a b"), closed };
}"""


def test_the_issue_example_in_chromium(browser: Browser) -> None:
    assert browser.page.evaluate(ISSUE_EXAMPLE) == {
        "point": {"x": 1, "y": 2},
        "seven": 7,
        "square": 1,
        "name": "Square",
        "words": ["a", "b"],
        "closed": "HandleError: Counter.incr(): this Counter was freed and cannot be used",
    }


# `using` (explicit resource management) is syntax Chromium has and Node 20 lacks.
USING_AND_GC = """async () => {
  const geo = await import("./geo/geo.js");
  await geo.default();
  const before = geo.drops();
  { using token = new geo.Token(1); token.id(); }
  const afterUsing = geo.drops() - before;
  (() => { for (let i = 0; i < 10; i++) new geo.Token(i); })();
  for (let round = 0; round < 100 && geo.drops() < before + 11; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { afterUsing, collected: geo.drops() - before - afterUsing >= 10 };
}"""


def test_using_and_garbage_collection_drop_objects_in_chromium(browser: Browser) -> None:
    assert browser.page.evaluate(USING_AND_GC) == {"afterUsing": 1, "collected": True}


CALLBACKS = """async () => {
  const geo = await import("./geo/geo.js");
  await geo.default();
  let error = "";
  try { geo.tick(() => { throw new TypeError("stop"); }); } catch (e) { error = e.message; }
  return {
    accepted: geo.progress(10, (i) => i < 4),
    mapped: geo.map_words(["a", "b"], (w) => w + w),
    folded: geo.fold_points([{ x: 1, y: 2 }], (acc, p) => acc + p.x + p.y),
    error,
  };
}"""


def test_callbacks_in_chromium(browser: Browser) -> None:
    assert browser.page.evaluate(CALLBACKS) == {
        "accepted": 4,
        "mapped": ["aa", "bb"],
        "folded": 3,
        "error": "stop",
    }
