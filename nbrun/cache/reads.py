"""A stored run's reads (``nbrun.execution.kernel_reads``) as the cache keeps and re-checks them.

The files of editable installs the run imported are kept with size, mtime
and content hash; the environment variables it read with a keyed digest of
their value (HMAC-SHA256 under the store's own random key; never the value).
A lookup whose stored reads no longer hold is a miss, with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from ..execution.kernel_reads import KernelReads
from .key import file_sha256


def snapshot(reads: KernelReads | None, digest_key: bytes) -> dict[str, Any]:
    """What the entry stores about *reads* (None: a kernel that records nothing)."""
    if reads is None:
        return {"env": {}, "files": {}}
    return {
        "env": {name: env_digest(name, digest_key) for name in reads.env},
        "files": {path: file_state(path) for path in reads.files},
    }


def stale_reason(stored: Mapping[str, Any] | None, digest_key: bytes | None) -> str | None:
    """Why the stored reads no longer hold (None: they do)."""
    if stored is None:
        return "it was stored before nbrun recorded what runs read"
    for path, state in stored["files"].items():
        now = file_state(path)
        if now["sha256"] != state["sha256"]:
            return f"the editable install's file {path} changed"
    if not stored["env"]:
        return None
    if digest_key is None:
        return "the cache's digest key is missing"
    for name, digest in stored["env"].items():
        if not hmac.compare_digest(env_digest(name, digest_key), digest):
            return f"the environment variable {name} changed"
    return None


def file_state(path: str) -> dict[str, Any]:
    """Size, mtime and content hash of *path* (a missing file has none)."""
    try:
        stat = os.stat(path)
    except OSError:
        return {"size": None, "mtime": None, "sha256": None}
    return {"size": stat.st_size, "mtime": stat.st_mtime, "sha256": file_sha256(path)}


def env_digest(name: str, digest_key: bytes) -> str:
    """A keyed digest of environment variable *name*'s value here (unset differs from every value)."""
    value = os.environ.get(name)
    text = name if value is None else f"{name}={value}"
    return hmac.new(digest_key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
