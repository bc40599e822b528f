"""Runs inside a Python kernel (stdlib only): what a run read, touched and reached that no key part sees.

``nbrun.execution.kernel_reads`` loads this module in the kernel before the
first cell (as one silent, history-free execute that defines no user
names) and calls :func:`report` after the last one.

:func:`install` does two things. It switches ``os.environ``'s class to a
subclass recording the names looked up through it (``environ[...]``,
``.get``, ``in``, ``os.getenv``), in place, so every module's reference to it
records. And it adds an audit hook (``sys.addaudithook``) that notes the
files opened for reading or writing, the folders listed, sqlite databases
opened, network connections and subprocesses, outside the interpreter's own
folders, site-packages, ``/proc``, ``/sys``, ``/dev`` and the per-user
tool folders (caches, IPython and Jupyter configuration). A subprocess that
the standard library or matplotlib starts only to probe the machine
(``ctypes.util.find_library``, ``platform``, the font list) is not counted.

:func:`report` writes them as JSON (into a file nbrun names, else on stdout),
with the source files of the modules imported from outside the interpreter
(``recorded_imports``), which imports read without any event when their
bytecode is cached.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

_names: set[str] = set()
_read: dict[str, None] = {}
_written: dict[str, None] = {}
_listed: dict[str, None] = {}
_globs: dict[str, None] = {}  # "* /abs/pattern" or "** /abs/pattern" (recursive)
_network: dict[str, None] = {}
_processes: dict[str, None] = {}
_skipped: tuple[str, ...] = ()
_state = {"on": False, "overflow": False}
_module_files: Callable[[tuple[str, ...]], list[str]] = lambda skipped: []  # noqa: E731 - set by install
MAX_PATHS = 200_000  # beyond this the run is too large to track: its entry is not stored
_PROBES = ("ctypes/util.py", "/platform.py", "matplotlib/font_manager.py", "/uuid.py")
_IMPORT_AND_GLOB = ("<frozen importlib", "/importlib/", "/glob.py", "/pkgutil.py")


class _Environ(type(os.environ)):  # type: ignore[misc]
    """``os._Environ`` that remembers the names read through it (and looks like it)."""

    __module__, __qualname__ = "os", "_Environ"

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            _names.add(key)
        return super().__getitem__(key)  # .get, `in`, os.getenv and setdefault all come through here


def install(module_files: Callable[[tuple[str, ...]], list[str]]) -> None:
    """Start recording (once per kernel process); *module_files* is ``recorded_imports.module_files``.

    The loader hands it over: in the kernel the two files are two modules with no package.
    """
    global _skipped, _module_files
    if isinstance(os.environ, _Environ):
        return
    _skipped = _skipped_folders()
    _module_files = module_files
    os.environ.__class__ = _Environ
    _state["on"] = True
    sys.addaudithook(_hook)


def _skipped_folders() -> tuple[str, ...]:
    """Folders whose files are the interpreter's, the installed packages' or the tools' own."""
    import site

    home = os.path.expanduser("~")
    folders = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, "/proc", "/sys", "/dev"}
    folders.update(path for path in sys.path if _is_site_folder(path))
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user_site, str):
        folders.add(user_site)
    for name in (".cache", ".config", ".ipython", ".jupyter", ".local/share/jupyter", ".matplotlib"):
        folders.add(os.path.join(home, name))
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        value = os.environ.get(variable)  # before the recorder: nbrun's own lookups are not the notebook's
        if value:
            folders.add(value)
    result = set()
    for folder in folders:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            if form not in ("/", os.path.abspath(home)):
                result.add(os.path.join(form, ""))
    return tuple(sorted(result))


def _path(value: Any) -> str | None:
    """The absolute path an event names, or None (a descriptor, or a folder nbrun does not track).

    The hot path of the recorder (every ``open``): plain string work, the working folder cached
    until ``os.chdir``.
    """
    if type(value) is str:
        text = value
    elif value is None or isinstance(value, int):
        return None
    else:
        try:
            text = os.fsdecode(value)
        except (TypeError, ValueError):
            return None
    if text[:1] != "/":
        cwd = _cwd[0] or _refresh_cwd()
        text = cwd + "/" + text
    if "/." in text or "//" in text:
        text = os.path.normpath(text)
    if text.startswith(_skipped) or "/__pycache__/" in text:
        return None
    return text


_cwd: list[str | None] = [None]


def _refresh_cwd() -> str:
    cwd = _cwd[0] = os.getcwd()
    return cwd


def _on_chdir(args: tuple[Any, ...]) -> None:
    _settle_pending()  # the event comes before the change: relative paths still mean the old folder
    _cwd[0] = None  # look the folder up again at the next event


_pending: dict[str, None] = {}  # paths as opened for reading, not yet made absolute (see _hook)
_PENDING_AT_MOST = 4096


def _settle_pending() -> None:
    while _pending:  # popitem, not iteration: another thread may read a file meanwhile
        _note(_read, _pending.popitem()[0])


def _note(found: dict[str, None], value: Any) -> None:
    path = _path(value)
    if path is not None and path not in found:
        if len(_read) + len(_written) + len(_listed) >= MAX_PATHS:
            _state["overflow"] = True
            return
        found[path] = None


def _on_open(args: tuple[Any, ...]) -> None:
    path, mode = args[0], args[1]
    if isinstance(mode, str):
        writes = _WRITING_MODES.get(mode)
        if writes is None:
            writes = _WRITING_MODES[mode] = any(letter in mode for letter in "wax+")
    else:  # os.open: flags only
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writes = flags & os.O_ACCMODE != os.O_RDONLY or bool(flags & (os.O_CREAT | os.O_TRUNC | os.O_APPEND))
    if not writes and type(path) is str and path in _read:
        return  # an absolute path read again: nothing new
    _note(_written if writes else _read, path)


_WRITING_MODES: dict[str, bool] = {}
_READING_MODES = frozenset(("r", "rb", "rt", "br", "tr", "rU", "U"))  # the hook's shortcut; others: _on_open


def _on_listing(args: tuple[Any, ...]) -> None:
    if _called_from(_IMPORT_AND_GLOB):
        return  # imports are covered by their modules' files, globs by their patterns
    _note(_listed, "." if not args or args[0] is None else args[0])


def _on_glob(args: tuple[Any, ...]) -> None:
    pattern, recursive = args[0], bool(args[1]) if len(args) > 1 else False
    root = args[2] if len(args) > 2 and args[2] is not None else "."
    if isinstance(pattern, (str, bytes)) and (len(args) > 2 or sys.version_info < (3, 10)):
        text = os.path.join(os.path.abspath(os.fsdecode(root)), os.fsdecode(pattern))
        if not text.startswith(_skipped):
            _globs.setdefault(("**" if recursive else "*") + " " + text, None)


def _on_copy(args: tuple[Any, ...]) -> None:
    _note(_read, args[0])
    _note(_written, args[1])


def _on_touch(args: tuple[Any, ...]) -> None:  # os.remove, os.rename: what is there afterwards was the run's doing
    _note(_written, args[0])
    if len(args) > 1 and isinstance(args[1], (str, bytes, os.PathLike)):
        _note(_written, args[1])


def _on_sqlite(args: tuple[Any, ...]) -> None:
    database = args[0] if args else None
    if database not in (None, ":memory:", b":memory:", ""):
        _note(_written, database)


def _on_connect(args: tuple[Any, ...]) -> None:
    address = args[1] if len(args) > 1 else None
    if isinstance(address, tuple) and len(address) >= 2:
        _remember(_network, f"{address[0]}:{address[1]}")
    elif address is not None:
        _remember(_network, os.fsdecode(address) if isinstance(address, (str, bytes)) else repr(address))


def _on_lookup(args: tuple[Any, ...]) -> None:
    host = args[0] if args else None
    if host is not None:
        host = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        port = args[1] if len(args) > 1 else None
        _remember(_network, host if port is None else f"{host}:{port}")


def _on_process(args: tuple[Any, ...], position: int) -> None:
    if _probing():
        return
    command = args[position] if len(args) > position else None
    if isinstance(command, (list, tuple)):
        text = " ".join(os.fsdecode(part) if isinstance(part, (str, bytes)) else str(part) for part in command)
    elif isinstance(command, (str, bytes)):
        text = os.fsdecode(command)
    else:
        text = str(args[0] if args else "?")
    _remember(_processes, text[:200])


def _probing() -> bool:
    """True when a probe of the machine (ctypes, platform, the font list) starts the subprocess."""
    return _called_from(_PROBES)


def _called_from(files: tuple[str, ...], depth: int = 40) -> bool:
    """True when a frame of the call that raised the event runs code of a file whose name has one of *files*."""
    frame: FrameType | None = sys._getframe(3)
    for _ in range(depth):
        if frame is None:
            return False
        name = frame.f_code.co_filename
        if any(part in name for part in files):
            return True
        frame = frame.f_back
    return False


def _remember(found: dict[str, None], text: str) -> None:
    if len(found) < 50:
        found.setdefault(text, None)


_HANDLERS: dict[str, Callable[[tuple[Any, ...]], None]] = {
    "open": _on_open,
    "os.chdir": _on_chdir,
    "os.listdir": _on_listing,
    "os.scandir": _on_listing,
    "glob.glob": _on_glob,
    "glob.glob/2": _on_glob,
    "shutil.copyfile": _on_copy,
    "os.remove": _on_touch,
    "os.rename": _on_touch,
    "sqlite3.connect": _on_sqlite,
    "socket.connect": _on_connect,
    "socket.getaddrinfo": _on_lookup,
    "subprocess.Popen": lambda args: _on_process(args, 1),
    "os.system": lambda args: _on_process(args, 0),
    "os.exec": lambda args: _on_process(args, 1),
    "os.posix_spawn": lambda args: _on_process(args, 1),
    "os.spawn": lambda args: _on_process(args, 2),
    "os.fork": lambda args: _on_process(("fork (the child's reads are not seen)",), 0),
    "os.forkpty": lambda args: _on_process(("forkpty (the child's reads are not seen)",), 0),
}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    """Every audit event of the kernel process comes here: a read by name is only noted, as it was written.

    Making it absolute and checking it against the skipped folders waits for
    the next ``os.chdir``, the report or a few thousand more reads: about half
    the cost of a file opened once.
    """
    try:
        if event == "open" and type(args[0]) is str and args[1] in _READING_MODES and _state["on"]:
            _pending[args[0]] = None
            if len(_pending) >= _PENDING_AT_MOST:
                _settle_pending()
            return
        handler = _HANDLERS.get(event)
        if handler is not None and _state["on"]:
            handler(args)
    except Exception:  # noqa: BLE001 - a recorder must never break the notebook's own call
        pass


def report(marker: str, path: str | None = None) -> None:
    """The findings as JSON, written into *path* when given (a file nbrun made for them), else printed after *marker*.

    A file spares a run that read thousands of files a long stream message
    through the kernel's stdout and IOPub. What reporting itself does is not recorded.
    """
    _state["on"] = False
    try:
        text = json.dumps(_findings())
        if path is not None:
            try:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                return
            except OSError:
                pass
        sys.stdout.write(marker + text + "\n")
        sys.stdout.flush()
    finally:
        _state["on"] = True


def _findings() -> dict[str, Any]:
    _settle_pending()
    modules = _module_files(_skipped)
    read = [path for path in _read if path not in _written]
    return {
        "env": sorted(_names),
        "files": modules,
        "read": sorted(set(read) | set(modules)),
        "written": sorted(_written),
        "listed": sorted(_listed),
        "globs": list(_globs),
        "network": list(_network),
        "processes": list(_processes),
        "overflow": _state["overflow"],
    }


def _is_site_folder(path: str) -> bool:
    """A folder installed distributions live in (the key's packages part covers those)."""
    return os.path.basename(os.path.normpath(path)) in ("site-packages", "dist-packages")
