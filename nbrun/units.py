"""Durations and sizes as people write them (``90``, ``90s``, ``5m``, ``1h``; ``10MB``, ``10M``, ``10MiB``).

One parser each, for every flag, option and ini value that takes one, so
``--timeout 5m`` and ``--max-output-bytes 10MB`` mean the same in the CLI,
``nbrun cache prune`` and the pytest plugin. Sizes count in powers of 1024.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*$", re.I)
_SECONDS_PER = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?b)?\s*$", re.I)


def parse_duration(text: str) -> float:
    """Seconds in *text*: a number of seconds, or one with a unit (``ms``, ``s``, ``m``, ``h``); ValueError otherwise."""
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 90, 90s, 5m or 1h")
    unit = (match.group(2) or "s").lower()
    key = "ms" if unit == "ms" else unit[0]
    return float(match.group(1)) * _SECONDS_PER[key]


def parse_size(text: str) -> int:
    """Bytes in *text*: plain bytes, or with ``K``, ``M``, ``G``, ``T`` (``10M``, ``10MB``, ``10MiB``: 10 x 1024²)."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a size such as 1048576, 500K, 10M or 2GiB")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def format_duration(seconds: float) -> str:
    """*seconds* the way people say it, in the units :func:`parse_duration` reads (``45s``, ``12m``, ``3.5h``)."""
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h".replace(".0h", "h")


def format_size(size: int) -> str:
    """*size* bytes the way :func:`parse_size` reads them (``512 B``, ``300 MiB``, ``1.5 GiB``)."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if size >= 1024**power:
            value = size / 1024**power
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 100 else f"{value:.0f} {unit}"
    return f"{size} B"
