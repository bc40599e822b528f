"""The daemon's warm templates: one per kernel environment, replaced when that environment changes.

A fork keeps what its template imported at start, so a template serves only runs whose
imports would come out the same: the same interpreter, preload and ``PYTHON*`` variables
(``PYTHONPATH`` and friends decide ``sys.path``) and ``MPLBACKEND``. Those make the key; a run
with another gets its own template. The template also remembers the modification times of the
folders its packages come from (site-packages, or ``NBRUN_DAEMON_WATCH``) and of each
kernelspec it served: when one changes (a package installed or removed, a kernelspec edited)
the next run gets a new template, and the old one ends once its last kernel has.
"""

from __future__ import annotations

import asyncio
import os
import site
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..fork.forkserver import ForkServer

WATCH_VARIABLE = "NBRUN_DAEMON_WATCH"  # os.pathsep-separated folders to watch instead of site-packages
Key = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]
ExitListener = Callable[[int, int], None]


def watched_dirs() -> list[str]:
    """The folders whose changes mean the interpreter's packages changed (``NBRUN_DAEMON_WATCH`` overrides)."""
    given = os.environ.get(WATCH_VARIABLE)
    if given is not None:
        return [path for path in given.split(os.pathsep) if path]
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    return [folder for folder in dict.fromkeys(folders) if os.path.isdir(folder)]


def key_fields(preload: tuple[str, ...], spec_dir: str | None = None) -> dict[str, Any]:
    """What a run tells the daemon to choose its template by (in this process), and what to watch for staleness."""
    return {
        "python": sys.executable,
        "preload": list(preload),
        "template_env": dict(os.environ),
        "watch": watched_dirs(),
        "spec": spec_dir,
    }


def template_key(request: dict[str, Any]) -> Key:
    """What two runs must share to fork from one template (see the module docstring)."""
    env: dict[str, str] = request.get("template_env") or {}
    shaping = tuple(
        sorted((name, value) for name, value in env.items() if name.startswith("PYTHON") or name == "MPLBACKEND")
    )
    return str(request["python"]), tuple(request.get("preload") or ()), shaping


def watched_paths(request: dict[str, Any]) -> list[str]:
    """The folders whose changes retire a template: the request's package folders and its kernelspec."""
    paths = [str(path) for path in request.get("watch") or ()]
    spec = request.get("spec")
    if spec:
        paths += [str(spec), os.path.join(str(spec), "kernel.json")]
    return paths


def stamp(path: str) -> int:
    """*path*'s modification time in ns (-1 when it is missing, so appearing counts as a change)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


@dataclass
class Template:
    """A warm template with the key it serves and the stamps of what it was started from."""

    key: Key
    server: ForkServer
    stamps: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def changed(self, paths: list[str]) -> bool:
        """True when a path it knows has changed; paths it has not seen yet are stamped now."""
        for path in paths:
            now = stamp(path)
            if self.stamps.setdefault(path, now) != now:
                return True
        return False

    def describe(self) -> dict[str, Any]:
        python, preload, _ = self.key
        return {
            "python": python,
            "preload": list(preload),
            "pid": self.server.pid,
            "kernels": len(self.server.running),
            "started": self.started,
        }


class TemplatePool:
    """The current template of each key, and the retired ones still serving their kernels."""

    def __init__(self, on_exit: Callable[[Template, int, int], None]) -> None:
        self.current: dict[Key, Template] = {}
        self.retired: list[Template] = []
        self._on_exit = on_exit
        self._closing: set[asyncio.Task[None]] = set()

    def template_for(self, request: dict[str, Any]) -> Template:
        """The template a request forks from: the warm one, or a new one if its environment changed."""
        key = template_key(request)
        paths = watched_paths(request)
        template = self.current.get(key)
        if template is not None and (template.server.failed is not None or template.changed(paths)):
            self.retire(template)
            template = None
        if template is None:
            server = ForkServer(str(request["python"]), key[1], env=dict(request.get("template_env") or os.environ))
            template = Template(key, server, {path: stamp(path) for path in paths})
            server.on_exit = lambda pid, code, made=template: self._on_exit(made, pid, code)
            server.launch()
            self.current[key] = template
        return template

    def retire(self, template: Template) -> None:
        """Take *template* out of service; it is stopped once its kernels have ended."""
        if self.current.get(template.key) is template:
            del self.current[template.key]
        self.retired.append(template)
        self.close_idle_retired()

    def close_idle_retired(self) -> None:
        for template in [t for t in self.retired if not t.server.running]:
            self.retired.remove(template)
            task = asyncio.ensure_future(template.server.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def describe(self) -> list[dict[str, Any]]:
        return [template.describe() for template in self.current.values()]

    async def close(self) -> None:
        """Stop every template (each terminates its kernels still running)."""
        templates = [*self.current.values(), *self.retired]
        self.current.clear()
        self.retired.clear()
        await asyncio.gather(*(template.server.close() for template in templates), *self._closing)
