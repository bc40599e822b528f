"""The library and the CLI stay fully annotated and type-check cleanly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def test_mypy_passes_on_library_and_cli() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "nbrun",
            "cli",
            "--ignore-missing-imports",
            "--disallow-untyped-defs",
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
