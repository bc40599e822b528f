"""What a stored run read, wrote, listed and reached, each checked against now (``nbrun cache key --explain``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .entry_shape import READS_VERSION
from .reads import checked_reads


def describe_reads(reads: Mapping[str, Any] | None, base: Path, digest_key: bytes | None) -> list[str]:
    """Lines for each recorded read; paths relative to *base* (the notebook's folder) when below it."""
    if reads is None or reads.get("v") != READS_VERSION:
        return ["recorded: nothing (stored before nbrun recorded what runs read)"]
    if not reads.get("recorded"):
        return ["recorded: nothing (not a Python kernel: only the declared inputs count)"]
    lines = ["recorded (by the stored run; checked now):"]
    for check in checked_reads(reads, digest_key, base):
        lines.append(f"  {check.kind:<8} {check.shown}  {check.detail}  {check.state}")
    for address in reads.get("network", []):
        lines.append(f"  network  {address}  (cannot be re-checked: replayed only within --cache-ttl)")
    for command in reads.get("processes", []):
        lines.append(f"  process  {command}  (cannot be re-checked: replayed only within --cache-ttl)")
    if len(lines) == 1:
        lines.append("  nothing outside the key")
    return lines
