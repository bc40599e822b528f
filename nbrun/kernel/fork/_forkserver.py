"""The warm template process: imports ipykernel once, forks a fresh kernel per request.

Run as a script (``python _forkserver.py [preload ...]``) by
:mod:`nbrun.kernel.fork.forkserver`; it never imports nbrun. Protocol, one JSON object
per line: requests on stdin ``{"id", "argv", "cwd", "env", "log"}``; on
stdout ``{"ready": pid}`` once, then ``{"id", "pid"}`` or ``{"id", "error"}``
per request and ``{"exit": pid, "returncode": n}`` when a kernel ends
(negative: killed by that signal, as subprocess reports it). On EOF of
stdin (nbrun is gone) every kernel still running is terminated.

The template stays single-threaded so that forking is safe; the child
resets signals, sessions, stdio, cwd and environment exactly as a normal
``python -m ipykernel_launcher`` start would see them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import select
import signal
import sys
import time
import traceback
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]  # never let nbrun's own modules shadow a notebook's imports


def _preload(extra: list[str]) -> None:
    # What every ipykernel start imports, the debugger (debugpy) included.
    import ipykernel.debugger
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell  # noqa: F401

    # ...and what a kernel imports while it initialises (measured: sys.modules of
    # a fresh kernel minus the above). Plain imports: no state is created.
    for name in (
        "IPython.core.completerlib",
        "IPython.core.debugger",
        "IPython.core.logger",
        "IPython.core.oinspect",
        "IPython.extensions.storemagic",
        "IPython.utils.wildcard",
        "faulthandler",
        "pdb",
        "sqlite3",
        "tornado.platform.asyncio",
    ):
        try:
            importlib.import_module(name)
        except ImportError:  # another IPython/tornado version: the kernel imports what it needs
            pass
    for name in extra:
        importlib.import_module(name)


def _returncode(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _drop_shadowed(cwd: str, preloaded: list[str]) -> None:
    """Forget preloaded modules that a file in the notebook's folder would shadow."""
    for name in preloaded:
        top = name.split(".")[0]
        if os.path.exists(os.path.join(cwd, top + ".py")) or os.path.isdir(os.path.join(cwd, top)):
            for loaded in list(sys.modules):
                if loaded == top or loaded.startswith(top + "."):
                    del sys.modules[loaded]


def _become_kernel(request: dict[str, Any], preloaded: list[str], keep_fds: tuple[int, ...]) -> None:
    """In the forked child: set up the process like a fresh launch, then run the kernel."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (log, null, *keep_fds):
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _drop_shadowed(request["cwd"], preloaded)
        if "numpy" in sys.modules:  # its global RNG was seeded once in the template
            sys.modules["numpy"].random.seed()
        launcher = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [launcher.origin if launcher and launcher.origin else "ipykernel_launcher", *request["argv"]]
        # ipykernel read JPY_PARENT_PID when the template imported it (unset then): pass it now, or the
        # kernel prints the `ipython kernel` Ctrl-C banner, which is false for a forked kernel.
        sys.argv.append(f"--IPKernelApp.parent_handle={int(os.environ.get('JPY_PARENT_PID') or 0)}")
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report, then exit like a crashed kernel
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class _Server:
    def __init__(self, preloaded: list[str]) -> None:
        self.preloaded = preloaded
        self.children: set[int] = set()
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)  # stray prints of preloaded modules must not corrupt the protocol
        os.close(null)
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # nbrun interrupts kernels itself
        self.buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message) + "\n")

    def serve(self) -> None:
        self.send({"ready": os.getpid()})
        while True:
            readable, _, _ = select.select([0, self.wake_read], [], [])
            if self.wake_read in readable:
                os.read(self.wake_read, 4096)
                self.reap()
            if 0 in readable:
                chunk = os.read(0, 65536)
                if not chunk:
                    self.shutdown()
                    return
                self.buffer += chunk
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))

    def handle(self, request: dict[str, Any]) -> None:
        self.out.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            self.send({"id": request["id"], "error": str(exc)})
            return
        if pid == 0:
            _become_kernel(request, self.preloaded, (self.wake_read, self.wake_write, self.out.fileno()))
        self.children.add(pid)
        self.send({"id": request["id"], "pid": pid})

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send({"exit": pid, "returncode": _returncode(status)})

    def shutdown(self) -> None:
        for signum, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 2.0)):
            for pid in list(self.children):
                try:
                    os.killpg(pid, signum)
                except OSError:
                    pass
            deadline = time.monotonic() + wait
            while self.children and time.monotonic() < deadline:
                self.reap()
                time.sleep(0.02)


def main() -> None:
    preload = [name for name in sys.argv[1:] if name]
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    _preload(preload)
    _Server(preload).serve()


if __name__ == "__main__":
    main()
