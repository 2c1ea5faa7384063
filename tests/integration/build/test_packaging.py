"""The sdist and wheel, as a release builds them, and the wheel installed the way users do.

`python -m build` makes the sdist and then the wheel from it (so the sdist
must hold everything a wheel needs). The wheel goes into a fresh virtual
environment outside the checkout, which then creates, builds and loads a
crate with nothing from this checkout on its paths.
"""

from __future__ import annotations

import email
import email.message
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from build_helpers import REPO, require

pytestmark = [pytest.mark.slow, pytest.mark.toolchain]

VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
SDK_DIRS = ("wasmbridge", "wasmbridge-macros")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, in a directory outside the checkout."""
    require(None if importlib.util.find_spec("build") else "`build` is not installed (pip)")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _wheel(dist: Path) -> Path:
    """The wheel: tagged for this interpreter and platform when it carries the compiled
    call path (hatch_build.py), ``py3-none-any`` when it could not be built."""
    (found,) = dist.glob(f"wasmbridge-{VERSION}-*.whl")
    return found


def _metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        text = wheel.read(f"wasmbridge-{VERSION}.dist-info/METADATA").decode()
    return email.message_from_string(text)


def _sdk_files() -> list[str]:
    """The SDK's files in the checkout a crate builds with: no build output, and
    not the SDK's own native tests (`tests/`), which only its developers run."""
    root = REPO / "guest" / "rust"
    return sorted(
        str(p.relative_to(root))
        for name in SDK_DIRS
        for p in (root / name).rglob("*")
        if p.is_file()
        and "target" not in p.parts
        and (root / name / "tests") not in p.parents
        and p.name != "Cargo.lock"
    )


def test_the_sdist_holds_the_package_sdk_docs_and_license_and_no_tests(dist: Path) -> None:
    with tarfile.open(dist / f"wasmbridge-{VERSION}.tar.gz") as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    tops = {n.split("/")[0] for n in names}
    assert tops == {
        ".gitignore", "LICENSE", "PKG-INFO", "README.md", "docs", "guest", "hatch_build.py",
        "pyproject.toml", "src",
    }  # fmt: skip
    assert "src/wasmbridge/runtime/_native.c" in names
    assert "src/wasmbridge/runtime/_native_codec.h" in names  # included by _native.c
    assert not [n for n in names if n.endswith(".so")]
    assert "docs/pypi.md" in names
    assert not [n for n in names if "fixtures" in n or "/target/" in n or n.endswith("Cargo.lock")]
    assert all(n.startswith("src/wasmbridge/") for n in names if n.startswith("src/"))


def test_the_wheel_carries_the_whole_sdk_and_the_license(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        names = wheel.namelist()
    prefix = "wasmbridge/_guest/rust/"
    assert sorted(n[len(prefix) :] for n in names if n.startswith(prefix)) == _sdk_files()
    assert f"wasmbridge-{VERSION}.dist-info/licenses/LICENSE" in names


def test_the_metadata_is_written_for_an_index(dist: Path) -> None:
    meta = _metadata(dist)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["License-File"] == "LICENSE"
    assert meta["Description-Content-Type"] == "text/markdown"
    # No public home yet: no Project-URL rather than an address nobody serves.
    assert not meta.get_all("Project-URL")
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Rust" in classifiers
    assert "Typing :: Typed" in classifiers
    description = meta.get_payload()
    assert isinstance(description, str)
    assert description == (REPO / "docs" / "pypi.md").read_text()
    assert "pip install wasmbridge" in description
    assert "scripts/" not in description and "checkout" not in description


def test_the_wheel_installed_in_a_fresh_venv_creates_builds_and_loads(
    wasm_toolchain: None, dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WASMBRIDGE_"))}
    env.pop("VIRTUAL_ENV", None)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(_wheel(dist))],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr

    def run(*argv: str, cwd: Path) -> str:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{argv}:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    work = tmp_path / "work"
    work.mkdir()
    run(str(venv / "bin" / "wasmbridge"), "new", "hello", cwd=work)
    run(str(venv / "bin" / "wasmbridge"), "build", "--target", "python", cwd=work / "hello")
    code = (
        "import wasmbridge; print(wasmbridge.__file__); "
        "m = wasmbridge.load('pkg/hello.wasm', imports={'alert': print}); "
        "print(m.add(5, 7)); m.greet('World')"
    )
    lines = run(str(venv / "bin" / "python"), "-c", code, cwd=work / "hello").splitlines()
    assert Path(lines[0]).is_relative_to(venv)  # the installed package, not this checkout
    assert lines[1:] == ["12", "Hello, World!"]
    # The wheel built here carries the compiled call path, and the installed package uses it.
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        assert [n for n in wheel.namelist() if n.startswith("wasmbridge/runtime/_native.")]
    doctor = run(str(venv / "bin" / "wasmbridge"), "doctor", cwd=work)
    assert re.search(r"^✓ calls +compiled \(C extension ", doctor, re.MULTILINE), doctor
    kind = (
        "import wasmbridge; m = wasmbridge.load('pkg/hello.wasm', imports={'alert': print}); "
        "print(type(m.add).__name__)"
    )
    assert run(str(venv / "bin" / "python"), "-c", kind, cwd=work / "hello").strip() == "Caller"


def test_without_a_c_compiler_the_wheel_is_pure_and_runs_the_ctypes_path(
    dist: Path, tmp_path: Path
) -> None:
    """A machine without a C compiler (or Python's headers) still gets a working wheel."""
    (sdist,) = dist.glob(f"wasmbridge-{VERSION}.tar.gz")
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc")}
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(sdist)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the C call path was not built (no C compiler" in proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name == f"wasmbridge-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if "_native." in n and not n.endswith(".c")]
