import time

import pytest

from nbrun.terminal import TerminalText


@pytest.mark.parametrize(
    ("chunks", "shown"),
    [
        (["plain text\n"], "plain text\n"),
        (["abc\rX"], "Xbc"),
        (["10%\r20%\r100%\n"], "100%\n"),
        (["abcdef\rxy\rz"], "zycdef"),
        (["abc\b\bX"], "aXc"),
        (["\b\bx"], "x"),
        (["ab\r\ncd"], "ab\ncd"),
        (["ab", "c\r", "X"], "Xbc"),
        (["line1\nprogress 1", "\rprogress 2", "\rprogress 3\n"], "line1\nprogress 3\n"),
        (["ab\r", "\ncd"], "ab\ncd"),
        (["x" * 10, "\r", "y"], "y" + "x" * 9),
    ],
)
def test_terminal_rendering(chunks: list[str], shown: str) -> None:
    text = TerminalText()
    for chunk in chunks:
        text.feed(chunk)
    assert text.value() == shown
    assert text.received == sum(len(c) for c in chunks)


def test_many_lines_are_linear_time() -> None:
    small, large = TerminalText(), TerminalText()
    start = time.perf_counter()
    for i in range(20_000):
        small.feed(f"{i}\n")
    small_time = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(200_000):
        large.feed(f"{i}\n")
    large_time = time.perf_counter() - start
    assert large.value().count("\n") == 200_000
    # 10x the input must not cost anywhere near 100x (quadratic) the time.
    assert large_time < small_time * 40 + 0.5


def test_long_single_line_in_chunks_is_not_quadratic() -> None:
    text = TerminalText()
    for _ in range(5_000):
        text.feed("y" * 1000)
    assert len(text.value()) == 5_000_000
