"""What a stored run read, wrote, listed and reached, each checked against now (``nbrun cache key --explain``)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .entry_shape import READS_VERSION
from .reads import env_digest, file_change, glob_matches, listing, shower


def describe_reads(reads: Mapping[str, Any] | None, base: Path, digest_key: bytes | None) -> list[str]:
    """Lines for each recorded read; paths relative to *base* (the notebook's folder) when below it."""
    if reads is None or reads.get("v") != READS_VERSION:
        return ["recorded: nothing (stored before nbrun recorded what runs read)"]
    if not reads.get("recorded"):
        return ["recorded: nothing (not a Python kernel: only the declared inputs count)"]
    show, lines = shower(base), ["recorded (by the stored run; checked now):"]
    for path, state in reads["files"].items():
        lines.append(f"  read     {show(path)}  {_digest(state)}  {file_change(path, state) or 'unchanged'}")
    for path, state in reads["written"].items():
        lines.append(f"  wrote    {show(path)}  {_digest(state)}  {file_change(path, state) or 'unchanged'}")
    own = reads.get("own", [])
    for path, names in reads["listed"].items():
        count = f"{len(names)} names" if isinstance(names, list) else "absent" if names is None else "many names"
        lines.append(f"  listed   {show(path)}  ({count})  {'unchanged' if listing(path, own) == names else 'changed'}")
    for pattern, matches in reads["globs"].items():
        same = glob_matches(pattern) == matches
        lines.append(
            f"  glob     {show(pattern.split(' ', 1)[1])}  ({len(matches)} matches)  {'unchanged' if same else 'changed'}"
        )
    for name, digest in reads["env"].items():
        same = digest_key is not None and hmac.compare_digest(env_digest(name, digest_key), digest)
        lines.append(f"  env      {name}  (a keyed digest of its value)  {'unchanged' if same else 'changed'}")
    for address in reads.get("network", []):
        lines.append(f"  network  {address}  (cannot be re-checked: replayed only within --cache-ttl)")
    for command in reads.get("processes", []):
        lines.append(f"  process  {command}  (cannot be re-checked: replayed only within --cache-ttl)")
    if len(lines) == 1:
        lines.append("  nothing outside the key")
    return lines


def _digest(state: Mapping[str, Any]) -> str:
    digest = state.get("sha256")
    return f"sha256 {digest[:12]}" if isinstance(digest, str) else "(absent)"
