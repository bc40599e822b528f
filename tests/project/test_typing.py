"""The library and the CLI type-check under ``mypy --strict`` (the settings live in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.notebooks import ROOT


def test_mypy_strict_passes_on_library_and_cli() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-error-summary",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
