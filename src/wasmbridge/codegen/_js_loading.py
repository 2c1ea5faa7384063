"""The fixed part of every generated glue module: ``init()`` and how it finds the .wasm.

``init()`` loads ``NAME.wasm`` beside the glue: fetched in a browser, read
from disk in Node. The file has no ``import`` of a Node module (Node's
``fs`` comes from ``process.getBuiltinModule``), so a bundler building for
the browser finds nothing to stub and prints no warning.

When the answer is no WebAssembly, the glue says why and what to change:
Vite's dev server refusing a ``file:`` dependency (403 under ``/@fs/``), a
bundler that left the .wasm behind, a server's HTML page for a missing
file. Vite's dev server before Vite 8 pre-bundles a dependency into
``node_modules/.vite/deps/`` without its .wasm; the glue then loads the
package's own copy (``node_modules/PACKAGE/NAME.wasm``), so ``npm run dev``
works without configuration.

The templates are plain JavaScript with ``%name`` placeholders (``render``).
"""

from __future__ import annotations

import string
from typing import Literal

ModuleFormat = Literal["esm", "cjs"]


class _Template(string.Template):
    delimiter = "%"


INIT = """\
/**
 * Loads %wasm and links its host functions; await it once before calling an export.
 *
 * @param {InitInput | Promise<InitInput>} [input] the module: a URL to fetch (a `file:`
 *   URL is read from disk), a Request or Response, its bytes, or a WebAssembly.Module.
 *   By default %wasm beside this file.
 * @param {{ imports?: object }} [options] host functions by name; each defaults to the
 *   global of the same name
 * @returns {Promise<WebAssembly.Exports>} the module's raw exports
 */
function init(input, options = {}) {
  loading ??= instantiate(input, options).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function instantiate(input, options) {
  const imports = linkImports(options.imports ?? {});
  const instance = await load(input ?? wasmBeside(), imports);
  const missing = NEEDED.filter((name) => !(name in instance.exports));
  if (missing.length > 0) {
    throw new Error(
      `${MODULE} lacks ${missing.join(", ")}: it is not the module this glue was built for; ` +
        "rebuild both with `wasmbridge build`",
    );
  }
  wasm = instance.exports;
%setup
  return wasm;
}
"""

# Where init() looks without an input, and how a file: URL is read, for each format.
WASM_BESIDE = {
    "esm": """\
function wasmBeside() {
  return new URL(%wasm, import.meta.url);
}""",
    "cjs": """\
function wasmBeside() {
  return require("node:url").pathToFileURL(require("node:path").join(__dirname, %wasm));
}""",
}

READ_FILE = {
    "esm": """\
// Node reads a file: URL from disk (its fetch cannot). process.getBuiltinModule is no
// import, so a bundler finds no Node module here (Node 20.16 and later have it).
function readFile(url) {
  const fs = globalThis.process?.getBuiltinModule?.("node:fs/promises");
  if (fs === undefined) {
    throw new Error(
      "only Node 20.16 or later reads file: URLs; serve the file over HTTP or pass its bytes",
    );
  }
  return fs.readFile(url);
}""",
    "cjs": """\
function readFile(url) {
  return require("node:fs/promises").readFile(url);
}""",
}

LOADING = """\
// The host functions by key: init()'s `imports` first, else the global of that name.
function resolveHost(supplied, wanted) {
  const known = new Set(wanted.map(([key]) => key));
  const unknown = Object.keys(supplied).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const names = [...known].join(", ") || "nothing";
    throw new Error(
      `${MODULE} does not import ${unknown.join(", ")} (it imports: ${names}); ` +
        "check the names in init(input, { imports })",
    );
  }
  const host = Object.create(null); // no prototype: a key "__proto__" stays a key
  const missing = [];
  for (const [key, module, name, signature] of wanted) {
    const given = Object.hasOwn(supplied, key);
    const fn = given ? supplied[key] : globalFunction(module, name);
    if (typeof fn === "function") {
      host[key] = fn;
    } else if (given) {
      throw new TypeError(`imports.${key}: expected a function, got ${typeof fn}`);
    } else {
      missing.push(`${key} (\\`${signature}\\`)`);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `${MODULE} needs host functions it was not given: ${missing.join(", ")}; pass them as ` +
        "init(input, { imports: { name: function } }) or define globals of those names",
    );
  }
  return host;
}

function globalFunction(module, name) {
  const owner = module === "env" ? globalThis : globalThis[module];
  const fn = owner?.[name];
  return typeof fn === "function" ? fn.bind(owner) : undefined;
}

%wasm_beside

async function load(input, imports) {
  const source = await input;
  if (source instanceof WebAssembly.Module) return WebAssembly.instantiate(source, imports);
  if (typeof source === "string" || source instanceof URL) return load(fetchWasm(source), imports);
  if (typeof Request === "function" && source instanceof Request) {
    return load(fetch(source), imports);
  }
  if (typeof Response === "function" && source instanceof Response) {
    return (await loadResponse(source, imports)).instance;
  }
  return (await WebAssembly.instantiate(source, imports)).instance;
}

async function fetchWasm(url) {
  const href = String(url);
  try {
    return href.startsWith("file:") ? await readFile(new URL(href)) : await fetch(href);
  } catch (error) {
    throw new Error(`${MODULE}: cannot load ${href}: ${error.message}`, { cause: error });
  }
}

%read_file

async function loadResponse(response, imports, prebundled = false) {
  const type = (response.headers.get("Content-Type") ?? "").split(";")[0].trim();
  if (!response.ok || type === "text/html") {
    const moved = prebundled ? undefined : packageWasm(response.url);
    if (moved !== undefined) return loadResponse(await fetchWasm(moved), imports, true);
    const answer = response.ok ? "with an HTML page" : `${response.status} ${response.statusText}`;
    throw new Error(notServed(response.url, answer, prebundled));
  }
  if (type === "application/wasm") return WebAssembly.instantiateStreaming(response, imports);
  const bytes = await response.arrayBuffer();
  const start = Array.from(new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength)));
  if (start.join(" ") !== "0 97 115 109") {
    const hex = start.map((byte) => byte.toString(16).padStart(2, "0")).join(" ") || "nothing";
    const answer = `with "${type}" bytes starting ${hex}`;
    throw new Error(notServed(response.url, answer, prebundled));
  }
  console.warn(
    `${MODULE} was served as "${type}", not application/wasm, so it compiles only after ` +
      "downloading: serve .wasm files as application/wasm (`wasmbridge serve-pkg` does)",
  );
  return WebAssembly.instantiate(bytes, imports);
}

// Vite's dev server before Vite 8 serves a dependency pre-bundled into node_modules/.vite/deps/
// and leaves its .wasm in the package: the package's copy, when `href` is the one it missed.
function packageWasm(href) {
  const path = href ? new URL(href).pathname : "";
  const deps = path.lastIndexOf("/node_modules/.vite/deps/");
  if (deps < 0 || !path.endsWith(`/${MODULE}`)) return undefined;
  return new URL(`${path.slice(0, deps)}/node_modules/${PACKAGE}/${MODULE}`, href);
}

// Why `href` gave no WebAssembly, and what to change.
function notServed(href, answer, prebundled) {
  const said = `${MODULE}: ${href || "the response"} answered ${answer}`;
  const path = href ? new URL(href).pathname : "";
  if (prebundled) {
    return (
      `${said}: Vite's dev server pre-bundled "${PACKAGE}" without its .wasm; ` +
      `add optimizeDeps: { exclude: ["${PACKAGE}"] } to vite.config.js`
    );
  }
  if (answer.startsWith("403") && path.includes("/@fs/")) {
    const file = decodeURIComponent(path.slice(path.indexOf("/@fs/") + 4));
    const dir = file.slice(0, file.lastIndexOf("/")).replace(/^\\/(?=[A-Za-z]:)/, "");
    return (
      `${said}: Vite's dev server serves no file outside the app unless allowed; ` +
      `add server: { fs: { allow: [".", ${JSON.stringify(dir)}] } } to vite.config.js`
    );
  }
  return (
    `${said}, not WebAssembly: serve ${MODULE} at that URL (\\`wasmbridge build\\` writes it ` +
    "beside the .js; a bundler that does not copy it, such as esbuild, needs it copied beside " +
    "its output) or pass init() the URL where it is"
  );
}

// Until init() has run, any use of the exports says what to do.
function notLoaded() {
  return new Proxy({}, {
    get() {
      throw new Error(`${MODULE} is not loaded yet: call \\`await init()\\` first`);
    },
  });
}
"""

# Every template, as the name checks in _js_helpers read them.
ALL_TEXT = "\n".join([INIT, *WASM_BESIDE.values(), *READ_FILE.values(), LOADING])


def render_init(wasm_name: str, setup: str) -> str:
    """``init()`` and ``instantiate()``, with ``setup`` run once the instance exists."""
    return _Template(INIT).substitute(wasm=wasm_name, setup=setup)


def render_loading(module_format: ModuleFormat, wasm_literal: str) -> str:
    """Everything after the shims that finds, fetches and instantiates the module."""
    beside = _Template(WASM_BESIDE[module_format]).substitute(wasm=wasm_literal)
    return _Template(LOADING).substitute(wasm_beside=beside, read_file=READ_FILE[module_format])
