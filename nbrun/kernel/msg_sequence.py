"""Finding IOPub messages that were lost, from the kernel's numbered message ids.

A kernel's IOPub publisher drops messages when nbrun's side falls behind (its
high-water mark), silently. The Jupyter protocol has no sequence numbers, but
kernels built on jupyter_client's ``Session`` (ipykernel and its relatives)
number every message they *create*: ``<session>_<pid>_<n>``, one counter for
all channels. nbrun reads every channel a cell's messages travel on (IOPub,
the shell reply, stdin prompts), so a number between a cell's ``busy`` and
``idle`` statuses that never arrives is lost, with two exceptions the check
knows about:

* IPython's displayhook numbers its ``execute_result`` before it formats the
  value, and sends nothing when the value displays itself
  (``_ipython_display_``). Only when a cell has a gap and no
  ``execute_result`` arrived is the kernel asked (a silent request whose
  ``user_expressions`` entry is :func:`unsent_probe`) whether the value the
  displayhook kept for the cell (``Out[n]``) displays itself; one number is
  then not a loss. Asking on every cell would cost each cell the kernel's
  formatting of an expression (about a millisecond, the cell's own order).
* Where that answer cannot be had (several results displayed per cell, the
  probe failed), a gap in a cell without an ``execute_result`` gives no
  verdict rather than a false one.

What the check cannot see: kernels whose ids are not numbered this way
(xeus-python, most non-Python kernels) are not checked at all; a message
suppressed by a publish hook that user code registered looks like a loss.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBERED = re.compile(r"^(.+_\d+)_(\d+)$")

UNSENT_PROBE_KEY = "nbrun_unsent_result"
# 1: the cell's last value displayed itself, so its numbered execute_result was never sent;
# 0: no such message; -1: cannot tell (IPython shows more than one value per cell, or keeps no Out).
_UNSENT_PROBE = (
    "(lambda ip: -1 if ip.ast_node_interactivity not in ('last_expr', 'none', 'last_expr_or_assign') "
    "or not ip.displayhook.do_full_cache "
    "else (lambda r, f: int(r is not None and f.enabled and "
    "(type(r) in f.type_printers or __import__('IPython.utils.dir2', fromlist=['_'])"
    ".get_real_method(r, f.print_method) is not None)))"
    "(ip.user_ns.get('_oh', {{}}).get({count}), ip.display_formatter.ipython_display_formatter))"
    "(get_ipython())"
)


def unsent_probe(execution_count: int) -> str:
    """The expression that answers, after cell *execution_count* ran, whether its value displayed itself."""
    return _UNSENT_PROBE.format(count=int(execution_count))


def message_number(msg: dict[str, Any]) -> tuple[str, int] | None:
    """``(prefix, n)`` of a jupyter_client-style msg_id, else None."""
    msg_id = msg.get("header", {}).get("msg_id")
    if not isinstance(msg_id, str):
        return None
    match = _NUMBERED.match(msg_id)
    return (match.group(1), int(match.group(2))) if match else None


def unsent_results(reply: dict[str, Any]) -> int | None:
    """What :func:`unsent_probe` answered in an ``execute_reply`` (None: no usable answer)."""
    answer = (reply.get("user_expressions") or {}).get(UNSENT_PROBE_KEY)
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        return None
    text = str((answer.get("data") or {}).get("text/plain", ""))
    return {"0": 0, "1": 1}.get(text.strip())


class SequenceWatch:
    """Message numbers seen during one cell, on every channel nbrun reads."""

    def __init__(self) -> None:
        self._prefix: str | None = None
        self._seen: set[int] = set()
        self._busy: int | None = None
        self._idle: int | None = None
        self._reply: int | None = None

    def observe(self, msg: dict[str, Any]) -> None:
        """Note a received message (any parent, any channel)."""
        number = message_number(msg)
        if number is None:
            return
        prefix, n = number
        if self._prefix is None:
            self._prefix = prefix
        if prefix == self._prefix:
            self._seen.add(n)

    def mark(self, msg: dict[str, Any], state: str) -> None:
        """Remember the number of the cell's own ``busy``, ``idle`` or ``reply``."""
        number = message_number(msg)
        if number is None or (self._prefix is not None and number[0] != self._prefix):
            return
        if state == "busy":
            self._busy = number[1]
        elif state == "idle":
            self._idle = number[1]
        elif state == "reply":
            self._reply = number[1]

    def missing(self, unsent: int = 0) -> tuple[int, ...]:
        """Numbers between busy and idle that never arrived, less *unsent* known never sent.

        IPython numbers an unsent ``execute_result`` before the cell's reply; the
        highest missing number below the reply is taken for it (with several
        missing, which one it was cannot be told; the count is exact).
        """
        if self._busy is None or self._idle is None or self._idle <= self._busy:
            return ()
        gaps = [n for n in range(self._busy, self._idle + 1) if n not in self._seen]
        for _ in range(unsent):
            before_reply = [n for n in gaps if self._reply is None or n < self._reply]
            if not before_reply:
                break
            gaps.remove(before_reply[-1])
        return tuple(gaps)

    def lost(self, unsent: int = 0) -> int:
        """How many numbers between busy and idle never arrived (0 when unknown)."""
        return len(self.missing(unsent))
