"""Builds the optional C extension (src/wasmbridge/runtime/_native.c) into the wheel.

The one source includes its neighbour _native_codec.h (the compiled codecs).

The compiled call path needs a C compiler and Python's headers; where either
is missing the wheel is built without it and wasmbridge runs its ctypes call
path (``wasmbridge doctor`` says which). ``WASMBRIDGE_BUILD_NATIVE=0`` skips
it. An editable install (``pip install -e .``) puts the extension next to its
source, where the package is imported from.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/wasmbridge/runtime/_native.c")
PACKAGE_PATH = "wasmbridge/runtime"


def _compile(root: Path, output: Path) -> str | None:
    """Compile the extension to ``output``; the reason when it could not be."""
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        return f"no Python.h in {include} (Debian: apt-get install python3-dev)"
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    command = [
        *compiler,
        "-O2",
        "-fPIC",
        "-shared",
        "-std=c11",
        "-Wall",
        "-fvisibility=hidden",
        f"-I{include}",
        str(root / SOURCE),
        "-o",
        str(output),
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        return f"no C compiler ({compiler[0]}: {exc.strerror})"
    if done.returncode != 0:
        return f"{compiler[0]} failed:\n{done.stderr.strip()}"
    return None


class NativeBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("WASMBRIDGE_BUILD_NATIVE") == "0":
            return
        root = Path(self.root)
        name = "_native" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        if version == "editable":
            output = root / "src" / PACKAGE_PATH / name
        else:
            output = Path(self.directory) / "native-build" / name
        problem = _compile(root, output)
        if problem is not None:
            print(
                f"wasmbridge: the C call path was not built ({problem}); "
                "the ctypes call path will be used",
                file=sys.stderr,
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(output)] = f"{PACKAGE_PATH}/{name}"
