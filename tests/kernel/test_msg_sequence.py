"""The gap check: which message numbers count as lost, and IPython's unsent results."""

from __future__ import annotations

from typing import Any

from nbrun.kernel.msg_sequence import UNSENT_PROBE_KEY, SequenceWatch, unsent_results


def numbered(n: int, msg_type: str = "display_data") -> dict[str, Any]:
    return {"header": {"msg_id": f"a1b2-c3_4242_{n}", "msg_type": msg_type}}


def watch(received: list[int], *, busy: int, idle: int, reply: int | None = None) -> SequenceWatch:
    sequence = SequenceWatch()
    for n in received:
        sequence.observe(numbered(n))
    sequence.mark(numbered(busy), "busy")
    sequence.mark(numbered(idle), "idle")
    if reply is not None:
        sequence.mark(numbered(reply), "reply")
    return sequence


def test_the_missing_numbers_are_named() -> None:
    assert watch([0, 1, 2, 4, 6, 7], busy=0, idle=7, reply=6).missing() == (3, 5)


def test_one_unsent_result_is_excused_below_the_reply() -> None:
    sequence = watch([0, 1, 3, 4, 5, 7], busy=0, idle=7, reply=5)
    assert sequence.missing(unsent=1) == (6,)  # 2 is the unsent result; 6 (after the reply) is still lost
    assert watch([0, 1, 3, 4, 5], busy=0, idle=5, reply=4).missing(unsent=1) == ()


def test_numbers_of_another_session_are_ignored() -> None:
    sequence = watch([0, 1, 2], busy=0, idle=2)
    sequence.observe({"header": {"msg_id": "other_99_1"}})
    assert sequence.missing() == ()


def test_the_probe_answer_is_read_from_the_reply() -> None:
    def reply(text: str, status: str = "ok") -> dict[str, Any]:
        return {"user_expressions": {UNSENT_PROBE_KEY: {"status": status, "data": {"text/plain": text}}}}

    assert unsent_results(reply("1")) == 1 and unsent_results(reply("0")) == 0
    assert unsent_results(reply("-1")) is None  # several values per cell: cannot tell
    assert unsent_results(reply("1", status="error")) is None and unsent_results({}) is None
