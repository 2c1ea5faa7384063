"""The demo page ``wasmbridge serve-pkg`` shows at ``/``: the module's exports, loaded.

The page imports the JS glue, calls ``init()`` and leaves the module in
``window.NAME`` for the developer console; it lists each export with its
signature and the first line of its doc comment.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..interface import Interface, parse, read_interface
from ._js_names import RESERVED, js_identifier
from ._writer import exported_functions


def demo_page(wasm: Path) -> str:
    """A page that imports the glue, calls init() and lists the exports."""
    module = parse(wasm.read_bytes())
    interface: Interface | None = read_interface(module)
    name = wasm.stem
    items = "\n".join(
        f"  <li><code>{html.escape(f.signature())}</code>"
        + (f"<br>{html.escape(f.doc.strip().splitlines()[0])}" if f.doc.strip() else "")
        + "</li>"
        for f in exported_functions(interface, module)
    )
    glue = json.dumps(f"./{name}.js")
    var = js_identifier(name, set(RESERVED) | {"init"})  # the page imports `init` too
    return DEMO_PAGE.format(wasm=html.escape(wasm.name), items=items, glue=glue, var=var)


DEMO_PAGE = """\
<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>{wasm}</title>
<link rel="icon" href="data:,">
<style>body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 48em; }}</style>
<h1>{wasm}</h1>
<p id="status">Loading…</p>
<p>Open the developer console and call the exports on <code>{var}</code>.
Imports default to the globals of the same name (<code>alert</code> is the browser's).</p>
<ul>
{items}
</ul>
<script type="module">
  import init, * as {var} from {glue};
  const status = document.getElementById("status");
  try {{
    await init();
    window.{var} = {var};
    status.textContent = "Loaded: the exports are in window.{var}.";
  }} catch (error) {{
    status.textContent = `Failed: ${{error.message}}`;
    throw error;
  }}
</script>
</html>
"""
