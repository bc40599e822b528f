"""The check options of the pytest plugin (``pytest --nbrun --nbrun-check``).

The plugin calls :func:`add_check_options` from ``pytest_addoption`` and
:func:`check_options_from_config` once per session; the names are
``nbrun check``'s with the plugin's prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import SanitizerFileError
from .model import BUILTIN_SANITIZERS, CheckOptions
from .sanitize import read_sanitizer_file
from .verdict_text import render

if TYPE_CHECKING:
    from .model import CheckReport


def _tolerance(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 255:
        raise ValueError(text)
    return value


def add_check_options(group: Any) -> None:
    """Register --nbrun-check and its options on a pytest ``OptionGroup`` (``parser.getgroup(...)``)."""
    group.addoption(
        "--nbrun-check",
        action="store_true",
        default=False,
        help="Compare each notebook's new outputs with the stored ones (nbval's markers honoured).",
    )
    group.addoption(
        "--nbrun-sanitize-with",
        action="append",
        default=[],
        metavar="FILE",
        help="nbval sanitizer file (regex:/replace: lines) applied to both sides (repeatable).",
    )
    group.addoption(
        "--nbrun-lax",
        action="store_true",
        default=False,
        help="Compare only cells marked NBVAL_CHECK_OUTPUT / nbval-check-output.",
    )
    group.addoption(
        "--nbrun-compare-images",
        action="store_true",
        default=False,
        help="Compare raster images by decoded pixels (default: only their number and type).",
    )
    group.addoption(
        "--nbrun-image-tolerance",
        type=_tolerance,
        default=0,
        metavar="0-255",
        help="With --nbrun-compare-images: largest per-channel difference still counted as equal.",
    )
    group.addoption(
        "--nbrun-no-sanitize",
        action="append",
        default=[],
        choices=[*BUILTIN_SANITIZERS, "all"],
        help="Turn a built-in sanitizer off (repeatable).",
    )


def check_options_from_config(config: Any) -> CheckOptions | None:
    """The CheckOptions a pytest config asks for; None without --nbrun-check.

    Raises ``pytest.UsageError`` for an unreadable or bad sanitizer file.
    """
    if not config.getoption("nbrun_check"):
        return None
    import pytest

    try:
        patterns = tuple(pair for path in config.getoption("nbrun_sanitize_with") for pair in read_sanitizer_file(path))
    except SanitizerFileError as exc:
        raise pytest.UsageError(str(exc)) from None
    off = set(config.getoption("nbrun_no_sanitize"))
    off = set(BUILTIN_SANITIZERS) if "all" in off else off
    return CheckOptions(
        lax=config.getoption("nbrun_lax"),
        compare_images=config.getoption("nbrun_compare_images"),
        image_tolerance=config.getoption("nbrun_image_tolerance"),
        sanitizers=tuple(name for name in BUILTIN_SANITIZERS if name not in off),
        patterns=patterns,
    )


def failure_text(report: CheckReport, notebook: str) -> str:
    """The pytest failure for a notebook whose outputs differ: summary, then each diff."""
    return f"{report.summary_line()}\n{render(report, notebook)}"
