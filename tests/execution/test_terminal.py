import pytest

from nbrun.execution.terminal import TerminalText


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


def test_many_lines_fold_into_few_pieces() -> None:
    """Finished lines are folded in runs of 512: memory and join cost stay linear (no timing asserted)."""
    text = TerminalText()
    for i in range(200_000):
        text.feed(f"{i}\n")
    assert len(text._chunks) <= 200_000 // 512 + 1 and len(text._done) < 512
    value = text.value()
    assert value.count("\n") == 200_000 and value.endswith("199999\n")
    assert len(text._chunks) == 1 and text.value() is value  # joined once, then kept joined


def test_long_single_line_in_chunks_is_kept_as_pieces_until_read() -> None:
    text = TerminalText()
    for _ in range(5_000):
        text.feed("y" * 1000)
    assert len(text._line) == 5_000  # appended, never re-copied per feed
    assert len(text.value()) == 5_000_000
    assert len(text._line) == 1
