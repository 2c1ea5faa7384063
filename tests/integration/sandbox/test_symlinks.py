"""A guest cannot leave symlinks pointing out of a read-write grant.

The guest's own lookups never leave a grant, but the host (or anyone) who
later reads the output directory would follow such a link. Targets that
are absolute or have a ``..`` component are refused with EPERM; links that
point down are made exactly as wasmtime makes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox_corpus import WASI, wasi_command

import wasmbridge
from wasmbridge import Limits

EPERM = 63
PATH_SYMLINK = (
    f'(import "{WASI}" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))'
)


def symlink_command(target: str, link: str, *, target_at: int = 100) -> bytes:
    """A command that makes ``link`` (under preopen fd 3) point at ``target``; exits with the errno."""
    return wasi_command(
        f"(call $exit (call $symlink (i32.const {target_at}) (i32.const {len(target.encode())})"
        f" (i32.const 3) (i32.const 300) (i32.const {len(link.encode())})))",
        data=f'(data (i32.const 100) "{target}") (data (i32.const 300) "{link}")',
        imports=PATH_SYMLINK,
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "grant" / "out"
    directory.mkdir(parents=True)
    (directory / "sub").mkdir()
    return directory


def _links(root: Path) -> dict[str, str]:
    """Every symlink under ``root``'s parent (inside the grant and beside it) -> its target."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root.parent):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                found[str(path.relative_to(root.parent))] = os.readlink(path)
    return found


def _run(command: bytes, out: Path) -> int:
    return wasmbridge.run(command, dirs={"/out": str(out)}, isolation="inline").exit_code


@pytest.mark.parametrize(
    "target",
    ["/etc/passwd", "../../etc/passwd", "..", "../out", "sub/../..", "sub/..", "a/../../b", "./.."],
)
def test_targets_that_may_leave_the_grant_are_refused(out: Path, target: str) -> None:
    assert _run(symlink_command(target, "link"), out) == EPERM
    assert _links(out) == {}


@pytest.mark.parametrize("target", ["file.txt", "sub/file.txt", "./sub", "sub/", "a/b/c", "..x"])
def test_targets_pointing_down_are_made_as_asked(out: Path, target: str) -> None:
    assert _run(symlink_command(target, "sub/link"), out) == 0
    assert _links(out) == {"out/sub/link": target}


def test_a_chain_of_allowed_links_cannot_climb_out(out: Path) -> None:
    """``lnk -> .`` is harmless, but ``lnk/sub/../..`` through it would climb out: refused."""
    assert _run(symlink_command(".", "lnk"), out) == 0
    assert _run(symlink_command("lnk/sub/../..", "escape"), out) == EPERM
    assert _run(symlink_command("../x", "lnk/deeper"), out) == EPERM  # lands in out/, not sub
    assert _links(out) == {"out/lnk": "."}


def test_wasmtime_still_refuses_links_it_always_refused(out: Path) -> None:
    ro = wasmbridge.run(
        symlink_command("file.txt", "link"),
        dirs={"/out": (str(out), "ro")},
        isolation="inline",
    )
    assert ro.exit_code != 0
    assert _run(symlink_command("file.txt", "../beside"), out) != 0  # the link outside the grant
    assert _links(out) == {}


def test_a_target_outside_guest_memory_is_a_fault_not_a_crash(out: Path) -> None:
    efault = 21
    assert _run(symlink_command("x" * 8, "link", target_at=65_530), out) == efault
    assert _links(out) == {}


def test_refused_under_the_untrusted_preset_in_a_child_process(out: Path) -> None:
    def run(target: str, link: str) -> int:
        command = symlink_command(target, link)
        result = wasmbridge.run(command, dirs={"/out": str(out)}, limits=Limits.untrusted())
        return result.exit_code

    assert run("../../etc/passwd", "escape") == EPERM
    assert run("sub", "down") == 0
    assert _links(out) == {"out/down": "sub"}


def test_a_rust_program_gets_permission_denied(
    wasi_build: Callable[[str], Path], out: Path
) -> None:
    program = wasi_build("wasi_links")
    result = wasmbridge.run(
        program,
        ["../../etc/passwd", "/out/escape", "/out/sub/../climb"],
        dirs={"/out": str(out)},
        capture=True,
    )
    assert result.stdout.splitlines() == [
        b"error /out/escape PermissionDenied 63",
        b"error /out/sub/../climb PermissionDenied 63",
    ]
    made = wasmbridge.run(
        program, ["data.txt", "/out/sub/link"], dirs={"/out": str(out)}, capture=True
    )
    assert made.stdout == b"ok /out/sub/link\n"
    assert _links(out) == {"out/sub/link": "data.txt"}
