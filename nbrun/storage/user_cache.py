"""The user's cache folder for what nbrun can rebuild: ``$XDG_CACHE_HOME/nbrun``, else ``~/.cache/nbrun``."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """Where nbrun keeps rebuildable state of this user (environments, probe answers, compiled checks)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "nbrun"
