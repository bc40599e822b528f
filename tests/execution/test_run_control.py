"""The run's one stop future (``RunControl.stopped``), which every cell waits on instead of a task of its own."""

from __future__ import annotations

import asyncio

from nbrun.control import RunControl


def test_one_future_per_loop_done_when_a_stop_is_asked_before_or_after() -> None:
    control = RunControl()

    async def first_loop() -> None:
        stopped = control.stopped()
        assert control.stopped() is stopped and not stopped.done()  # shared by every cell
        control.request_stop("Ctrl-C")
        assert stopped.done()

    async def second_loop() -> None:
        assert control.stopped().done()  # a new loop's future knows the stop already asked

    asyncio.run(first_loop())
    asyncio.run(second_loop())
    assert control.reason == "Ctrl-C"
