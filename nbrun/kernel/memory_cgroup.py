"""A memory limit the operating system enforces on a kernel's process tree, and how to tell an OOM kill.

Where nbrun may create a cgroup (v2 with the memory controller delegated,
or v1's memory hierarchy, as root in many containers), a kernel with a limit
gets its own group (``nbrun-<nbrun pid>-<n>``) beside nbrun's: the kernel
and every process it starts are then held to the limit by the kernel's OOM
killer, and the group's counters give the exact peak and whether it killed.
Elsewhere, or with ``NBRUN_MEMORY_CGROUP=0`` in the environment,
:func:`MemoryLimitGroup.create` returns None and the sampler in
``execution.resource_watch`` enforces the limit instead.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60  # v1 writes "no limit" as a huge number
_names = itertools.count(1)


@functools.cache
def _own_groups() -> tuple[Path | None, Path | None]:
    """(nbrun's v2 group, nbrun's v1 memory group), each None where there is none (read once: nbrun stays in it)."""
    v2 = v1 = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, controllers, path = line.split(":", 2)
            if number == "0" and (_ROOT / "cgroup.controllers").exists():
                v2 = _existing(_ROOT, path)
            elif "memory" in controllers.split(","):
                v1 = _existing(_ROOT / "memory", path)
    return v2, v1


def _existing(mount: Path, path: str) -> Path | None:
    """The group *path* under *mount*, or the mount itself when the container shows its own group as the root."""
    candidate = mount / path.lstrip("/")
    if candidate.is_dir():
        return candidate
    return mount if mount.is_dir() else None


def _read_int(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        text = path.read_text().strip()
        return None if text == "max" else int(text)
    return None


def _counter(path: Path, name: str) -> int:
    with contextlib.suppress(OSError):
        match = re.search(rf"^{name} (\d+)$", path.read_text(), re.MULTILINE)
        if match:
            return int(match.group(1))
    return 0


class MemoryLimitGroup:
    """The cgroup that holds one kernel's process tree to a limit."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @classmethod
    def create(cls, pid: int, limit: int) -> MemoryLimitGroup | None:
        """Move process *pid* into a new group limited to *limit* bytes (None: nbrun cannot here, or may not)."""
        if os.environ.get("NBRUN_MEMORY_CGROUP") == "0":
            return None
        v2, v1 = _own_groups()
        for parent, version in ((v2, 2), (v1, 1)):
            if parent is None:
                continue
            _sweep(parent)
            path = parent / f"nbrun-{os.getpid()}-{next(_names)}"
            try:
                path.mkdir()
            except OSError:
                continue
            limit_file = path / ("memory.max" if version == 2 else "memory.limit_in_bytes")
            try:
                limit_file.write_text(str(limit))
                if version == 1:  # swap would let the tree exceed the limit unseen
                    with contextlib.suppress(OSError):
                        (path / "memory.memsw.limit_in_bytes").write_text(str(limit))
                (path / "cgroup.procs").write_text(str(pid))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            return cls(path, version)
        return None

    def peak(self) -> int | None:
        """The group's peak usage in bytes (v2: ``memory.peak``, v1: ``memory.max_usage_in_bytes``)."""
        return _read_int(self.path / ("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"))

    def oom_kills(self) -> int:
        """How many processes of the group the OOM killer ended."""
        if self.version == 2:
            return _counter(self.path / "memory.events", "oom_kill")
        return _counter(self.path / "memory.oom_control", "oom_kill")

    def close(self) -> None:
        """Remove the group (once its processes are gone; a busy one is swept later)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _sweep(parent: Path) -> None:
    """Remove the empty groups that nbrun processes no longer alive left behind."""
    with contextlib.suppress(OSError):
        for path in parent.glob("nbrun-*-*"):
            owner = path.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                with contextlib.suppress(OSError):
                    path.rmdir()


def own_oom_kills() -> int:
    """How many processes of nbrun's own cgroup the OOM killer has ended (0: unknown)."""
    v2, v1 = _own_groups()
    if v2 is not None:
        return _counter(v2 / "memory.events", "oom_kill")
    if v1 is not None:
        return _counter(v1 / "memory.oom_control", "oom_kill")
    return 0


def own_limit_headroom() -> int | None:
    """Bytes left under the memory limit of nbrun's own cgroup (None: no limit)."""
    v2, v1 = _own_groups()
    if v2 is not None:
        limit, used = _read_int(v2 / "memory.max"), _read_int(v2 / "memory.current")
    elif v1 is not None:
        limit, used = _read_int(v1 / "memory.limit_in_bytes"), _read_int(v1 / "memory.usage_in_bytes")
    else:
        return None
    if limit is None or limit >= _UNLIMITED or used is None:
        return None
    return max(limit - used, 0)


def oom_killed_in_log(pid: int) -> bool:
    """The kernel log says the OOM killer ended process *pid* (False where the log cannot be read)."""
    pattern = re.compile(
        rf"(Killed process {pid}\b|oom-kill:.*\bpid={pid}\b|Memory cgroup out of memory: Killed process {pid}\b)"
    )
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        while True:
            try:
                record = os.read(fd, 8192)
            except BlockingIOError:
                return False
            except OSError:  # EPIPE: a record was overwritten while reading; go on
                continue
            if not record:
                return False
            if pattern.search(record.decode("utf-8", "replace")):
                return True
    finally:
        os.close(fd)
