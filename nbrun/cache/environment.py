"""What a kernel runs on: its spec, interpreter, language version and installed packages.

Computed once per kernel name (and once per interpreter) per process, and
cheaply: the packages are the ``*.dist-info`` / ``*.egg-info`` entries of the
interpreter's ``sys.path`` folders, found by one small subprocess per
interpreter (this one too: see ``interpreter``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from ..errors import KernelLookupError
from ..kernel.fork.interpreters import interpreter_key
from ..kernel.spec_files import find_spec
from . import interpreter_memo

_PROBE = (
    "import json, site, sys; sys.stdout.write(json.dumps("
    "{'version': sys.version.split()[0], 'path': sys.path, 'user_site': site.getusersitepackages()}))"
)
_PROBE_TIMEOUT = 30.0
_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter as the cache sees it."""

    path: str
    version: str
    packages: tuple[str, ...]  # sorted "name-version" stems of dist-info / egg-info entries


@dataclass(frozen=True)
class KernelIdentity:
    """Everything about the kernel that goes into the cache key."""

    name: str
    language: str
    language_version: str
    interpreter: str
    packages: tuple[str, ...]
    launch: tuple[str, ...] = ()  # the kernelspec's arguments after the program
    env_sha256: str = ""  # the kernelspec's extra environment, hashed (it may hold secrets)

    def describe(self) -> dict[str, object]:
        """The kernel part of the key, readable."""
        return {
            "name": self.name,
            "language": self.language,
            "version": self.language_version,
            "interpreter": self.interpreter,
            "arguments": list(self.launch),
            "env_sha256": self.env_sha256,
        }


@functools.cache
def kernel_identity(kernel_name: str) -> KernelIdentity:
    """The identity of the kernel called *kernel_name* (cached per process).

    Raises KernelLookupError when no such kernelspec is installed.
    """
    argv, language, env = _kernelspec(kernel_name)
    executable = _resolve_executable(argv[0]) if argv else ""
    launch = tuple(argv[1:])
    env_sha256 = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest() if env else ""
    if language != "python" or not executable:
        return KernelIdentity(kernel_name, language, "", executable, (), launch, env_sha256)
    python = interpreter(executable)
    return KernelIdentity(kernel_name, language, python.version, executable, python.packages, launch, env_sha256)


@functools.cache
def interpreter(executable: str) -> Interpreter:
    """Version and installed packages of the Python at *executable* (cached per process).

    Always asked of a fresh interpreter, even when it is the one running:
    this process's ``sys.path`` holds what its own start added (``python -m``
    puts the working folder first, pytest its rootdir), which a kernel never
    sees, and a project folder's ``.egg-info`` there changed the key. The
    answer is remembered across processes while it holds (``interpreter_memo``).
    """
    kept = interpreter_memo.recall(executable)
    if kept is not None:
        return Interpreter(executable, str(kept["version"]), installed_packages([str(p) for p in kept["path"]]))
    try:
        probe = subprocess.run(
            [executable, "-c", _PROBE], capture_output=True, text=True, timeout=_PROBE_TIMEOUT, check=True
        )  # -c: sys.path[0] is "", never scanned
        found = json.loads(probe.stdout)
        version, path = str(found["version"]), [str(entry) for entry in found["path"]]
        user_site = found.get("user_site")
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError, AttributeError):
        return Interpreter(executable, "unknown", ())
    interpreter_memo.remember(executable, version, path, user_site if isinstance(user_site, str) else None)
    return Interpreter(executable, version, installed_packages(path))


def installed_packages(search_path: list[str]) -> tuple[str, ...]:
    """Sorted ``name-version`` stems of the distributions installed in *search_path*'s folders."""
    found: set[str] = set()
    for folder in search_path:
        if not folder or not os.path.isdir(folder):
            continue
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    stem, dot, suffix = entry.name.rpartition(".")
                    if dot and suffix in ("dist-info", "egg-info"):
                        found.add(stem)
        except OSError:
            continue
    return tuple(sorted(found))


def _kernelspec(kernel_name: str) -> tuple[list[str], str, dict[str, str]]:
    spec = find_spec(
        kernel_name
    )  # the spec's files, as jupyter_client reads them: a replay imports no kernel machinery
    if spec is None:
        raise KernelLookupError(f"no kernel named {kernel_name!r}")
    return list(spec.argv), spec.language, dict(spec.env)


def _resolve_executable(command: str) -> str:
    """The kernel command's program as jupyter_client would start it, in a canonical spelling."""
    if command in _PYTHON_NAMES:
        command = sys.executable  # jupyter_client runs a bare "python" as the current interpreter
    elif os.sep not in command:
        command = shutil.which(command) or command
    return canonical_program(command)


def canonical_program(path: str) -> str:
    """*path* with symbolic links followed while they stay in the same folder (``kernel.fork``'s interpreter key).

    ``venv/bin/python3`` and ``venv/bin/python`` are one interpreter, but
    links out of the folder are kept: two venvs' ``python`` lead to one
    binary yet see different packages.
    """
    return interpreter_key(path)
