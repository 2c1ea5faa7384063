"""scripts/check (ruff lint + format, mypy --strict) is part of the test run."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_lint_and_types_are_clean() -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "check")], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
