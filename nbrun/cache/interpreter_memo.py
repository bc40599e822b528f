"""What a fresh interpreter said about itself, remembered while nothing it depends on has changed.

Asking costs a Python start (about 50 ms), which a replayed batch would
otherwise spend before its first notebook. The answer (version and
``sys.path``) is kept in ``$XDG_CACHE_HOME/nbrun/interpreters.json`` with a
fingerprint of what decides it: the executable's and its ``pyvenv.cfg``'s
stat, the ``PYTHON*`` variables, and every ``sys.path`` folder, the user site
folder (present or not) and the ``.pth`` files in them, by mtime. Installing
or removing a package changes its folder's mtime, so the answer is asked
again; the packages themselves are always listed afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..storage.atomic import write_text_atomic
from ..storage.user_cache import user_cache_dir

_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR")


def memo_file() -> Path:
    return user_cache_dir() / "interpreters.json"


def recall(executable: str) -> dict[str, Any] | None:
    """The answer kept for *executable* (``version``, ``path``, ``user_site``), if it still holds."""
    try:
        kept = json.loads(memo_file().read_text(encoding="utf-8")).get(executable)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(kept, dict) or not isinstance(kept.get("path"), list):
        return None
    if kept.get("state") != state_digest(executable, kept["path"], kept.get("user_site")):
        return None
    return kept


def remember(executable: str, version: str, path: list[str], user_site: str | None) -> None:
    """Keep the answer for *executable*; a memo that cannot be written is only a slower next run."""
    target = memo_file()
    try:
        memo = json.loads(target.read_text(encoding="utf-8"))
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    memo[executable] = {
        "version": version,
        "path": path,
        "user_site": user_site,
        "state": state_digest(executable, path, user_site),
    }
    with contextlib.suppress(Exception):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(json.dumps(memo, indent=1, sort_keys=True), target)


def state_digest(executable: str, path: list[str], user_site: str | None) -> str:
    """A digest of everything that decides what *executable* reports about itself."""
    parts: list[object] = [_stat(executable), [os.environ.get(name) for name in _VARIABLES]]
    program = Path(executable)
    parts.extend(_stat(str(folder / "pyvenv.cfg")) for folder in (program.parent, program.parent.parent))
    for folder in [*path, user_site or ""]:
        if not folder:
            continue
        parts.append((folder, _stat(folder)))
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            parts.extend(sorted((entry.name, _stat(entry.path)) for entry in entries if entry.name.endswith(".pth")))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _stat(path: str) -> list[int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return [found.st_mtime_ns, found.st_size, found.st_ino]
