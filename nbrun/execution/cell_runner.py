"""Running one cell: send it, collect its messages, watch the kernel and the clock.

A cell is finished when both its ``execute_reply`` (shell) and its ``idle``
status (IOPub) have arrived. While waiting, the kernel's process is checked
every ``LIVENESS_INTERVAL`` seconds, the cell and notebook deadlines are
enforced (interrupt, grace period, kill) and stop requests are honoured.

A silent IOPub after the reply is not yet a lost ``idle``: the kernel's IOPub
thread may be starved, or this process's loop busy writing another
notebook, with the idle on its way. The kernel is asked (``probe``); IOPub
is one ordered stream, so the probe's own status arriving first proves the
idle lost. Only a probe unanswered for another silence period is given up
on by the clock alone.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ..control import RunControl
from ..kernel.msg_sequence import UNSENT_PROBE_KEY, SequenceWatch, unsent_probe, unsent_results
from ..kernel.protocol import UNDECODABLE_KEY, KernelExit, KernelLike, message_time
from ..status import CellStatus
from .outputs import CellOutputs

LIVENESS_INTERVAL = 0.2
_DRAIN_AFTER_DEATH = 0.3
_STRAGGLER_WAIT = 0.5
_STALL = 1.0  # a wake this late means this process was busy elsewhere, not listening


# The cell runner reports how waiting ended with CellStatus OK (the reply came),
# TIMEOUT, KERNEL_DIED or INTERRUPTED.


@dataclass
class CellLimits:
    """Deadlines and waits for one cell (monotonic clock)."""

    cell_timeout: float | None
    notebook_deadline: float | None
    interrupt_grace: float
    iopub_silence: float


@dataclass
class CellRun:
    """What happened while running one cell."""

    outcome: CellStatus  # OK (reply received), TIMEOUT, KERNEL_DIED or INTERRUPTED
    reply: dict[str, Any] | None = None
    timed_out_after: float | None = None
    notebook_deadline_hit: bool = False
    actions: list[str] = field(default_factory=list)
    kernel_exit: KernelExit | None = None
    missing: str | None = None
    lost_messages: tuple[int, ...] = ()  # the kernel's message numbers that never arrived
    undecodable: int = 0  # IOPub messages received while the cell ran that could not be decoded
    stdin_exhausted: bool = False
    kernel_alive: bool = True


class StdinAnswers:
    """Answers ``input()`` requests from a list of lines, in order."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        self._lines = list(lines)
        self._next = 0

    def next_line(self) -> str | None:
        if self._next >= len(self._lines):
            return None
        line = self._lines[self._next]
        self._next += 1
        return line


async def run_cell(
    kernel: KernelLike,
    code: str,
    collector: CellOutputs,
    limits: CellLimits,
    *,
    stop_on_error: bool,
    control: RunControl | None = None,
    stdin: StdinAnswers | None = None,
    store_history: bool = True,
    ipython: bool = False,
) -> CellRun:
    """Execute *code* and wait until it is finished, timed out, dead or stopped.

    *ipython*: the kernel is IPython's, so a gap in its message numbers can be
    a value that displayed itself, which the kernel is asked about (see ``msg_sequence``).
    """
    msg_id = kernel.execute(
        code, stop_on_error=stop_on_error, allow_stdin=stdin is not None, store_history=store_history
    )
    waiter = _CellWaiter(kernel, msg_id, collector, limits, control, stdin, ipython, store_history)
    return await waiter.wait()


class _CellWaiter:
    def __init__(
        self,
        kernel: KernelLike,
        msg_id: str,
        collector: CellOutputs,
        limits: CellLimits,
        control: RunControl | None,
        stdin: StdinAnswers | None,
        ipython: bool = False,
        store_history: bool = True,
    ) -> None:
        self.kernel = kernel
        self.ipython = ipython
        self.store_history = store_history
        self.saw_result = False
        self.msg_id = msg_id
        self.collector = collector
        self.limits = limits
        self.control = control
        self.stdin = stdin
        self.started = time.monotonic()
        self.last_iopub = self.started
        self.idle_at: float | None = None
        self.reply_at: float | None = None
        self.result = CellRun(CellStatus.OK)
        self.kill_at: float | None = None
        self.sequence = SequenceWatch()
        self.probe_id: str | None = None
        self.probe_at: float | None = None
        self.idle_lost = False  # the probe's status came before the cell's idle
        self.listening_since = self.started  # silence counts only while this loop could read

    async def wait(self) -> CellRun:
        reply_task = asyncio.ensure_future(self._wait_reply())
        iopub_task = asyncio.ensure_future(self._pump_iopub())
        helpers = [reply_task, iopub_task]
        if self.stdin is not None:
            helpers.append(asyncio.ensure_future(self._answer_stdin()))
        stop_task = self.control.stopped() if self.control is not None else None  # the run's, not this cell's
        try:
            await self._supervise(reply_task, iopub_task, stop_task)
        finally:
            running = [task for task in helpers if not task.done()]
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            self.collector.finish()
        return self.result

    async def _supervise(
        self, reply_task: asyncio.Future[Any], iopub_task: asyncio.Future[Any], stop_task: asyncio.Future[Any] | None
    ) -> None:
        watched: set[asyncio.Future[Any]] = {reply_task, iopub_task}
        if stop_task is not None:
            watched.add(stop_task)
        while not (reply_task.done() and iopub_task.done()):
            pending = {task for task in watched if not task.done()}
            wake, asleep_at = self._next_wake(), time.monotonic()
            await asyncio.wait(pending, timeout=wake, return_when=asyncio.FIRST_COMPLETED)
            now = time.monotonic()
            if now - asleep_at > wake + _STALL:
                self.listening_since = now  # e.g. another notebook was being written: news may wait unread
            if reply_task.done() and self.result.reply is None:
                self.result.reply = reply_task.result()
            if stop_task is not None and stop_task.done() and self._handle_stop(now):
                return
            exit_status = await self.kernel.poll_exit()
            if exit_status is not None:
                await asyncio.wait({iopub_task}, timeout=_DRAIN_AFTER_DEATH)
                self._died(exit_status)
                return
            if self.kill_at is not None and now >= self.kill_at:
                await self._kill()
                return
            if self.kill_at is None and self._deadline_passed(now):
                await self._on_deadline(now)
            if self._gave_up_on_stragglers(now, reply_task, iopub_task):
                return
        if self.result.reply is None:
            self.result.reply = reply_task.result()
        if self.result.outcome is CellStatus.OK and self.result.missing is None:
            if self.result.undecodable:
                self.result.missing = f"{self.result.undecodable} IOPub message(s) that could not be decoded"
                return
            if not self.collector.saw_busy and not self.collector.saw_input:
                # Only busy missing, execute_input here: the outputs after it are covered by the checks
                # below. Without either, the cell's first messages went missing: its outputs may too.
                self.result.missing = "iopub busy status"
                return
            if not self.sequence.missing():
                return
            unsent = await self._unsent_results()
            if unsent is None:
                return  # a gap here could be IPython's own unsent results: no verdict rather than a false one
            lost = await self._lost_after_stragglers(unsent)
            if lost:
                self.result.lost_messages = lost
                self.result.missing = f"{len(lost)} IOPub message(s) (gaps in the kernel's message numbers)"

    async def _unsent_results(self) -> int | None:
        """How many of the cell's numbered messages the kernel made but never sent (None: cannot tell).

        Only a value that displayed itself is made and not sent; when no
        ``execute_result`` came, a silent request asks whether the value the
        displayhook kept for this cell does that.
        """
        reply = self.result.reply or {}
        if not self.ipython or reply.get("status") != "ok" or self.saw_result:
            return 0
        count = reply.get("execution_count")
        if not self.store_history or not isinstance(count, int):
            return None  # the displayhook keeps no Out entry for this cell to ask about
        probe_id = self.kernel.execute(
            "",
            stop_on_error=False,
            allow_stdin=False,
            store_history=False,
            user_expressions={UNSENT_PROBE_KEY: unsent_probe(count)},
            silent=True,
        )
        deadline = time.monotonic() + self.limits.iopub_silence
        while (left := deadline - time.monotonic()) > 0:
            msg = await self.kernel.get_shell(timeout=left)
            if msg is None:
                break
            self.sequence.observe(msg)
            if msg.get("parent_header", {}).get("msg_id") == probe_id and msg.get("msg_type") == "execute_reply":
                return unsent_results(msg.get("content", {}))
        return None

    async def _lost_after_stragglers(self, unsent: int) -> tuple[int, ...]:
        """Lost message numbers, after a short wait for ones numbered before idle but sent after it.

        A background thread's message can be numbered before the cell's
        ``idle`` and reach the IOPub thread after it; it is another request's
        output (dropped here as before), but it fills the gap.
        """
        deadline = time.monotonic() + _STRAGGLER_WAIT
        lost = self.sequence.missing(unsent)
        while lost and time.monotonic() < deadline:
            msg = await self.kernel.get_iopub(timeout=max(deadline - time.monotonic(), 0.0))
            if msg is not None:
                self.sequence.observe(msg)
                lost = self.sequence.missing(unsent)
        return lost

    def _next_wake(self) -> float:
        wake = LIVENESS_INTERVAL
        now = time.monotonic()
        for moment in (self._cell_deadline(), self.limits.notebook_deadline, self.kill_at):
            if moment is not None:
                wake = min(wake, max(moment - now, 0.0))
        return wake

    def _cell_deadline(self) -> float | None:
        if self.limits.cell_timeout is None:
            return None
        return self.started + self.limits.cell_timeout

    def _deadline_passed(self, now: float) -> bool:
        cell_deadline = self._cell_deadline()
        if cell_deadline is not None and now >= cell_deadline:
            return True
        if self.limits.notebook_deadline is not None and now >= self.limits.notebook_deadline:
            self.result.notebook_deadline_hit = True
            return True
        return False

    async def _on_deadline(self, now: float) -> None:
        self.result.outcome = CellStatus.TIMEOUT
        self.result.timed_out_after = round(now - self.started, 3)
        await self.kernel.interrupt()
        self.result.actions.append("interrupted")
        self.kill_at = now + self.limits.interrupt_grace

    def _handle_stop(self, now: float) -> bool:
        """React to a stop request; return True when waiting must end now."""
        assert self.control is not None
        if self.result.outcome is not CellStatus.INTERRUPTED:
            self.result.outcome = CellStatus.INTERRUPTED
            self.result.actions.append("interrupted")
            asyncio.ensure_future(self.kernel.interrupt())
            self.kill_at = now + min(self.limits.interrupt_grace, 2.0)
        if self.control.forced:
            self.kill_at = now
        return False

    async def _kill(self) -> None:
        await self.kernel.kill()
        self.result.actions.append("killed")
        self.result.kernel_alive = False

    def _died(self, exit_status: KernelExit) -> None:
        self.result.kernel_exit = exit_status
        self.result.kernel_alive = False
        if self.result.outcome is CellStatus.OK:
            self.result.outcome = CellStatus.KERNEL_DIED

    def _gave_up_on_stragglers(
        self, now: float, reply_task: asyncio.Future[Any], iopub_task: asyncio.Future[Any]
    ) -> bool:
        """Bounded wait for the second half once the first has arrived."""
        silence = self.limits.iopub_silence
        if reply_task.done() and not iopub_task.done():
            if self.idle_lost:
                self.result.missing = "iopub idle status"
                return True
            if now - self._quiet_since() > silence:
                if self.probe_at is None:
                    self.probe_at, self.probe_id = now, self.kernel.probe()
                elif now - max(self._quiet_since(), self.probe_at) > silence:
                    self.result.missing = "iopub idle status"
                    return True
        if iopub_task.done() and not reply_task.done() and self.idle_at is not None and now - self.idle_at > silence:
            self.result.missing = "execute_reply"
            return True
        return False

    def _quiet_since(self) -> float:
        """When IOPub last had news for this cell, the shell reply counting as news.

        A cell that sleeps for a minute sends nothing on IOPub between its
        ``execute_input`` and its reply; the silence allowed for the idle
        status starts when the reply arrives, not at the last IOPub message,
        and again after any stretch this process could not read.
        """
        return max(self.last_iopub, self.reply_at or self.started, self.listening_since)

    async def _wait_reply(self) -> dict[str, Any]:
        while True:
            msg = await self.kernel.get_shell(timeout=3600.0)
            if msg is None:
                continue
            self.sequence.observe(msg)
            if msg.get("parent_header", {}).get("msg_id") == self.msg_id and msg.get("msg_type") == "execute_reply":
                self.sequence.mark(msg, "reply")
                stamp = message_time(msg)
                if stamp is not None:
                    self.collector.timing["shell.execute_reply"] = stamp
                self.reply_at = time.monotonic()
                content: dict[str, Any] = msg.get("content", {})
                return content

    async def _pump_iopub(self) -> None:
        while True:
            msg = await self.kernel.get_iopub(timeout=3600.0)
            if msg is None:
                continue
            if UNDECODABLE_KEY in msg:
                self.result.undecodable += 1  # whose it was cannot be told: counted against this cell
                continue
            self.sequence.observe(msg)
            parent_id = msg.get("parent_header", {}).get("msg_id")
            if parent_id != self.msg_id:
                if self.probe_id is not None and parent_id == self.probe_id and msg.get("msg_type") == "status":
                    self.idle_lost = True  # IOPub is ordered: the cell's idle, sent before, is not coming
                continue
            self.last_iopub = time.monotonic()
            if msg.get("msg_type") == "status":
                self.sequence.mark(msg, msg.get("content", {}).get("execution_state", ""))
            elif msg.get("msg_type") == "execute_result":
                self.saw_result = True
            if self.collector.apply(msg):
                self.idle_at = self.last_iopub
                return

    async def _answer_stdin(self) -> None:
        assert self.stdin is not None
        while True:
            msg = await self.kernel.get_stdin(timeout=3600.0)
            if msg is not None:
                self.sequence.observe(msg)
            if msg is None or msg.get("msg_type") != "input_request":
                continue
            line = self.stdin.next_line()
            if line is None:
                self.result.stdin_exhausted = True
                self.result.actions.append("interrupted")
                await self.kernel.interrupt()
                continue
            self.kernel.input_reply(line)
