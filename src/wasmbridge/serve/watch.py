"""``--watch``: reload the app when its manifest, a module or a crate's sources change.

A daemon thread polls the modification times of ``app.watched_paths()``
(files, and every file under a watched folder except build output) about
twice a second. A change waits one more poll to settle (an editor or cargo
may still be writing), then ``app.reload()`` builds the new version beside
the old one and swaps it in: in-flight requests finish on the version they
started on. A reload that fails is logged and the old version keeps serving;
the next change tries again.

Polling needs no platform API and costs a few ``stat`` calls per tick.

    watcher = Watcher(app)
    watcher.start()
    ...
    watcher.stop()
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

log = logging.getLogger("wasmbridge.serve")

POLL_SECONDS = 0.5
# Folders under a watched crate that hold build output, not sources.
SKIPPED_DIRS = frozenset({"target", "pkg", "node_modules", "__pycache__"})

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime_ns, size)


class Reloadable(Protocol):
    def watched_paths(self) -> list[Path]: ...
    def reload(self) -> None: ...


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """mtime and size of every watched file; a missing file is recorded as missing."""
    seen: Snapshot = {}
    for path in paths:
        for file in _files(path):
            try:
                stat = os.stat(file)
            except OSError:
                seen[file] = (-1, -1)
            else:
                seen[file] = (stat.st_mtime_ns, stat.st_size)
    return seen


def _files(path: Path) -> Iterator[str]:
    if not path.is_dir():
        yield str(path)
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            yield os.path.join(root, name)


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class Watcher:
    """Polls an app's files on a daemon thread and reloads the app when they change."""

    def __init__(
        self,
        app: Reloadable,
        *,
        interval: float = POLL_SECONDS,
        on_reload: Callable[[list[str], BaseException | None], None] | None = None,
    ) -> None:
        self.app = app
        self.interval = interval
        self.on_reload = on_reload
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = snapshot(app.watched_paths())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wasmbridge-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # the watcher must outlive any one bad poll
                log.exception("watch: polling the app's files failed")

    def poll(self) -> bool:
        """One tick: reload if files changed and have settled; True when a reload ran."""
        now = snapshot(self.app.watched_paths())
        files = changed(self._seen, now)
        if not files:
            return False
        # Settle: wait one more interval for writers to finish, and read again.
        while not self._stop.wait(self.interval):
            later = snapshot(self.app.watched_paths())
            if later == now:
                break
            now = later
        else:
            return False
        self._reload(files)
        # The new version may watch other files (a route added, a module renamed).
        self._seen = snapshot(self.app.watched_paths())
        return True

    def _reload(self, files: list[str]) -> None:
        shown = ", ".join(_short(f) for f in files[:3]) + (" ..." if len(files) > 3 else "")
        error: BaseException | None = None
        try:
            self.app.reload()
        except Exception as exc:
            error = exc
            hint = getattr(exc, "hint", None)
            log.error(
                "reload after a change to %s failed; still serving the previous version: %s%s",
                shown,
                exc,
                f" (hint: {hint})" if hint else "",
            )
        else:
            log.info("reloaded after a change to %s", shown)
        if self.on_reload is not None:
            self.on_reload(files, error)


def _short(path: str) -> str:
    """``path`` relative to the working directory when inside it, else as it is."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
