"""The warm templates of one scope (a batch, a pytest process): one per interpreter, found by the provisioner.

A scope sets the current :class:`ForkTemplates`; tasks created inside it fork
their kernels from it. The CLI may launch this interpreter's template before
its heavier imports (:func:`prelaunch`); the scope adopts it. Standard library only.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import AsyncIterator, Callable, Iterator

from .forkserver import ForkServer, TemplateClient
from .interpreters import interpreter_key, launches_ipykernel, same_interpreter

_current: contextvars.ContextVar[ForkTemplates | None] = contextvars.ContextVar("nbrun_fork_templates", default=None)


class ForkTemplates:
    """The warm templates of one scope, one per interpreter, each launched at its first fork.

    This interpreter's ipykernel is always forkable (with the scope's
    *preload*); another interpreter only once :meth:`allow` named it (a
    notebook's own environment, which has ipykernel): each gets its own
    template, so a batch of notebooks sharing an environment forks its kernels
    as a batch on this interpreter does.
    """

    def __init__(
        self, preload: tuple[str, ...] = (), host: TemplateClient | None = None, make: TemplateMaker | None = None
    ) -> None:
        self.preload = preload
        self._make = make or local_template
        self._servers: dict[str, TemplateClient] = {}
        self._allowed: set[str] = set()
        if host is not None:
            self._servers[interpreter_key(sys.executable)] = host

    def allow(self, python: str) -> None:
        """Kernels run by *python* may be forked from a template of their own."""
        self._allowed.add(interpreter_key(python))

    def warm(self, python: str) -> None:
        """Allow *python* and boot its template now (its environment is ready; its first kernel is coming)."""
        self.allow(python)
        server = self.server_for([python, "-m", "ipykernel_launcher"])
        if server is not None:
            server.launch()

    def server_for(self, cmd: list[str]) -> TemplateClient | None:
        """The template that can fork *cmd* (``<python> -m ipykernel_launcher ...``), or None: a normal launch."""
        if not launches_ipykernel(cmd):
            return None
        host = same_interpreter(cmd[0], sys.executable)
        key = interpreter_key(sys.executable if host else cmd[0])
        if not host and key not in self._allowed:
            return None
        server = self._servers.get(key)
        if server is None:
            server = self._servers[key] = self._make(self.preload) if host else ForkServer(cmd[0])
        return None if server.failed else server

    async def close(self) -> None:
        """Stop every template (each terminates the kernels it still runs)."""
        for server in self._servers.values():
            await server.close()


def current_templates() -> ForkTemplates | None:
    return _current.get()


@contextlib.contextmanager
def serving(templates: ForkTemplates) -> Iterator[None]:
    """Tasks created inside this block fork their kernels from *templates* (long-lived ones)."""
    token = _current.set(templates)
    try:
        yield
    finally:
        _current.reset(token)


_prelaunched: list[TemplateClient] = []
TemplateMaker = Callable[[tuple[str, ...]], TemplateClient]


def local_template(preload: tuple[str, ...]) -> TemplateClient:
    """A template of this interpreter, owned by this process (today's fast start)."""
    return ForkServer(sys.executable, preload)


def prelaunch(preload: tuple[str, ...] = (), make: TemplateMaker = local_template) -> None:
    """Start the template now; the next :func:`fork_server_scope` adopts it."""
    server = make(preload)
    server.launch()
    _prelaunched.append(server)


def take_prelaunched(preload: tuple[str, ...] = ()) -> TemplateClient | None:
    """The template :func:`prelaunch` started for *preload*, now owned by the caller (None if there is none)."""
    server = next((s for s in _prelaunched if s.preload == preload), None)
    if server is not None:
        _prelaunched.remove(server)
    return server


def discard_prelaunched() -> None:
    """Stop templates that were prelaunched but never used (no kernel was forked)."""
    while _prelaunched:
        _prelaunched.pop().discard()


@contextlib.asynccontextmanager
async def fork_server_scope(
    enabled: bool, preload: tuple[str, ...] = (), make: TemplateMaker | None = None
) -> AsyncIterator[None]:
    """Make kernels started inside this block fork from warm templates (reuses an enclosing scope's).

    This interpreter's template is a prelaunched one, else *make*'s (the daemon's client, or one
    of this process) at the first fork; a notebook environment's is always this process's own.
    """
    if not enabled or _current.get() is not None:
        yield
        return
    templates = ForkTemplates(preload, take_prelaunched(preload), make)
    token = _current.set(templates)
    try:
        yield
    finally:
        _current.reset(token)
        await templates.close()
