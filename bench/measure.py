"""Whole-process measurement of one command and its process tree (Linux only, stdlib only).

* wall: monotonic seconds from just before spawn to the reap of the spawned process
  (a thread blocks in ``os.wait4`` on it, so there is no polling quantum).
* cpu: user+system of the spawned process and every descendant that was waited for
  (``os.wait4`` rusage), plus any descendant orphaned during the run: this process
  makes itself a child subreaper, so orphans are re-parented to it and reaped here.
* peaks: ``/proc`` is polled every ``interval`` seconds over the whole process tree and
  each process's ``VmHWM`` (its own RSS high-water mark) is kept, keyed by pid *and*
  command line (a forked child is re-keyed when it execs; a child of this runner that
  has not exec'd yet is skipped). Roles come from the tree, not from names: shells and
  ``xargs`` are *wrappers*; the first other process on each branch (``nbrun``,
  ``jupyter``, ``papermill``) is the *executor*; everything an executor starts (kernels,
  and e.g. a kernel fork-server template and its forks) is *kernel side*, as is any
  process whose command line mentions ``ipykernel``. The peak of the largest single
  process is also taken from ``ru_maxrss``, which catches a peak in the last
  milliseconds before an exit; when that exceeds every kernel-side peak, it is the
  executor's and is credited to it. Caveat: a child's ``ru_maxrss`` starts at its
  parent's RSS at fork, so the runner must stay small (``runner_hwm_mib`` reports it;
  run.py keeps heavy work in child processes).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
LEFTOVER_GRACE_S = 5.0
KIB_PER_MIB = 1024.0


@dataclass
class Measurement:
    wall: float
    cpu: float
    peak_mib: float  # largest single process, executor or kernel
    executor_peak_mib: float
    kernel_peak_mib: float
    returncode: int
    timed_out: bool = False
    leftovers: int = 0  # descendants still alive when the command exited (killed after a grace)


def runner_hwm_mib() -> float:
    """This process's own RSS high-water mark (a floor under every child's ru_maxrss)."""
    return (hwm_kib(os.getpid()) or 0) / KIB_PER_MIB


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (so their CPU is counted)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def process_parents() -> dict[int, int]:
    """pid -> ppid of every live process, from /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read(f"/proc/{entry}/stat")
        try:
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1]) if stat else -1
        except (IndexError, ValueError):
            continue
    return parents


def descendants(root: int) -> list[tuple[int, int]]:
    """(pid, ppid) of every live descendant of ``root``, parents before children."""
    kids: dict[int, list[int]] = {}
    for pid, ppid in process_parents().items():
        kids.setdefault(ppid, []).append(pid)
    found: list[tuple[int, int]] = []
    queue = [(k, root) for k in kids.get(root, [])]
    while queue:
        pid, ppid = queue.pop(0)
        found.append((pid, ppid))
        queue.extend((k, pid) for k in kids.get(pid, []))
    return found


def kill_tree() -> None:
    for pid, _ in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def hwm_kib(pid: int) -> int | None:
    status = _read(f"/proc/{pid}/status")
    if status is None:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # zombie: memory already released


WRAPPERS = frozenset({"sh", "bash", "dash", "xargs", "env", "time", "timeout", "nice"})
Key = tuple[int, str]  # (pid, command line)


class TreePoller:
    """Keeps the VmHWM high-water mark and the role of every process seen in the tree."""

    def __init__(self) -> None:
        self.peaks: dict[Key, int] = {}
        self.roles: dict[Key, str] = {}  # "wrapper" | "executor" | "kernel"
        self.own_cmd = (_read("/proc/self/cmdline") or "").replace("\0", " ")

    def role(self, cmd: str, parent_role: str | None) -> str:
        if "ipykernel" in cmd or parent_role in ("executor", "kernel"):
            return "kernel"
        argv0 = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
        return "wrapper" if argv0 in WRAPPERS else "executor"

    def poll(self) -> list[int]:
        current: dict[int, str] = {}  # pid -> role in this poll
        for pid, ppid in descendants(os.getpid()):
            cmd = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
            if cmd == self.own_cmd or not cmd:  # runner's fork before exec, or a zombie
                continue
            key = (pid, cmd)
            if key not in self.roles:  # an orphan re-parented to the runner keeps its role
                self.roles[key] = self.role(cmd, current.get(ppid))
            current[pid] = self.roles[key]
            kib = hwm_kib(pid)
            if kib is not None:
                self.peaks[key] = max(self.peaks.get(key, 0), kib)
        return list(current)

    def split_mib(self) -> tuple[float, float]:
        """(largest executor or wrapper process, largest kernel-side process) in MiB."""
        executor = max((k for key, k in self.peaks.items() if self.roles[key] != "kernel"), default=0)
        kernel = max((k for key, k in self.peaks.items() if self.roles[key] == "kernel"), default=0)
        return executor / KIB_PER_MIB, kernel / KIB_PER_MIB


def _reap_leftovers(poller: TreePoller) -> tuple[int, float, int]:
    """Reap orphans re-parented to us; kill what is still alive after a grace.

    Returns (how many were alive when the command exited, their cpu, their max ru_maxrss KiB).
    """
    alive = [p for p in poller.poll() if hwm_kib(p) is not None]
    deadline = time.monotonic() + (LEFTOVER_GRACE_S if alive else 0.0)
    cpu, maxrss = 0.0, 0
    while True:
        try:
            pid, _, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            cpu += ru.ru_utime + ru.ru_stime
            maxrss = max(maxrss, ru.ru_maxrss)
            continue
        if time.monotonic() > deadline:
            kill_tree()
            deadline = float("inf")  # killed: now just reap
        poller.poll()
        time.sleep(0.02)
    return len(alive), cpu, maxrss


def measure(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stderr_path: Path | None = None,
    timeout: float = 900.0,
    interval: float = 0.02,
) -> Measurement:
    """Run ``argv`` (stdin and stdout to /dev/null, stderr to ``stderr_path``) and measure it."""
    poller = TreePoller()
    result: dict[str, object] = {}
    done = threading.Event()
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )

        def wait() -> None:
            _, status, ru = os.wait4(proc.pid, 0)
            result.update(t1=time.monotonic(), status=status, ru=ru)
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        timed_out = False
        while not done.wait(interval):
            poller.poll()
            if not timed_out and time.monotonic() - t0 > timeout:
                timed_out = True
                kill_tree()
    finally:
        if stderr_path:
            err.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(result["status"])  # type: ignore[arg-type]
    ru = result["ru"]
    leftovers, extra_cpu, extra_rss = _reap_leftovers(poller)
    executor, kernel = poller.split_mib()
    ru_peak = max(ru.ru_maxrss, extra_rss) / KIB_PER_MIB  # type: ignore[attr-defined]
    if ru_peak > kernel + 2.0:  # no kernel-side process was that big, so an executor was
        executor = max(executor, ru_peak)
    return Measurement(
        wall=float(result["t1"]) - t0,  # type: ignore[arg-type]
        cpu=ru.ru_utime + ru.ru_stime + extra_cpu,  # type: ignore[attr-defined]
        peak_mib=max(ru_peak, executor, kernel),
        executor_peak_mib=executor,
        kernel_peak_mib=kernel,
        returncode=proc.returncode,
        timed_out=timed_out,
        leftovers=leftovers,
    )
