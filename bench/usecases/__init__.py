"""The use-case kernels of bench/kernels.py, one module each.

Each module's ``run(report, quick)`` adds its rows: the kernel as wasm through
wasmbridge from Python, the same Rust native, pure Python, the reference
library, plain JS in Node and the same .wasm in Node. Row names read
``WORKLOAD: CONTENDER``, which the chart (bench/kernels.py) groups by.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

NODE_PACKAGE = Path(__file__).resolve().parents[1] / "node"


def node_modules() -> Path:
    """The ``node_modules`` of bench/node (jpeg-js, ...): ``npm ci`` once into
    ~/.cache/wasmbridge/bench-node-KEY, reused while package-lock.json holds."""
    lock = (NODE_PACKAGE / "package.json").read_bytes() + (
        NODE_PACKAGE / "package-lock.json"
    ).read_bytes()
    key = hashlib.sha256(lock).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasmbridge"
    home = cache / f"bench-node-{key}"
    if not (home / ".installed").exists():
        scratch = cache / f"bench-node-{key}.tmp-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NODE_PACKAGE / name, scratch)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=scratch,
            check=True,
        )
        (scratch / ".installed").touch()
        shutil.rmtree(home, ignore_errors=True)
        scratch.rename(home)
    return home / "node_modules"
