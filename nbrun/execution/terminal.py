"""Stream text rendered as a terminal shows it: ``\\r`` and ``\\b`` applied.

Appending is amortised linear in the text received: plain text is kept as a
list of pieces and joined only when read, and finished lines are folded into
larger chunks so that millions of short lines cost few objects.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"(\r\n|\r|\n|\x08)")
_FOLD_AT = 512


class TerminalText:
    """Accumulates stream text, applying carriage returns and backspaces.

    ``\\r`` moves the cursor to the start of the line, later characters
    overwrite (``"abc\\rX"`` shows ``"Xbc"``); ``\\b`` moves it one column left;
    ``\\r\\n`` and ``\\n`` end the line.
    """

    __slots__ = ("_chunks", "_done", "_line", "_cursor", "_size")

    def __init__(self, text: str = "") -> None:
        self._chunks: list[str] = []  # folded runs of finished lines
        self._done: list[str] = []  # finished lines not yet folded
        self._line: list[str] = []
        self._cursor: int | None = None  # None: at the end of the current line
        self._size = 0
        if text:
            self.feed(text)

    def feed(self, text: str) -> None:
        """Append *text* as a terminal would print it."""
        self._size += len(text)
        if self._cursor is None and "\r" not in text and "\b" not in text:
            self._feed_plain(text)
            return
        for piece in _CONTROL.split(text):
            if not piece:
                continue
            if piece in ("\n", "\r\n"):
                self._end_line()
            elif piece == "\r":
                self._cursor = 0
            elif piece == "\b":
                line_len = self._line_length()
                position = line_len if self._cursor is None else self._cursor
                self._cursor = max(position - 1, 0)
            else:
                self._write(piece)

    @property
    def received(self) -> int:
        """Characters received so far (before applying control characters)."""
        return self._size

    def value(self) -> str:
        """The text as displayed (joined once and kept joined, so no second copy lingers)."""
        if len(self._chunks) + len(self._done) > 1:
            self._chunks = ["".join(self._chunks + self._done)]
            self._done = []
        elif self._done:
            self._chunks, self._done = self._done, []
        if len(self._line) > 1:
            self._line = ["".join(self._line)]
        done = self._chunks[0] if self._chunks else ""
        line = self._line[0] if self._line else ""
        return done + line if done and line else done or line

    def _feed_plain(self, text: str) -> None:
        newline = text.rfind("\n")
        if newline < 0:
            self._line.append(text)
            return
        self._line.append(text[: newline + 1])
        self._done.append("".join(self._line))
        self._line = [text[newline + 1 :]] if newline + 1 < len(text) else []
        self._fold()

    def _end_line(self) -> None:
        self._line.append("\n")
        self._done.append("".join(self._line))
        self._line = []
        self._cursor = None
        self._fold()

    def _fold(self) -> None:
        if len(self._done) >= _FOLD_AT:
            self._chunks.append("".join(self._done))
            self._done = []

    def _line_length(self) -> int:
        if len(self._line) > 1:
            self._line = ["".join(self._line)]
        return len(self._line[0]) if self._line else 0

    def _write(self, piece: str) -> None:
        if self._cursor is None:
            self._line.append(piece)
            return
        line = "".join(self._line)
        position = self._cursor
        line = line[:position] + piece + line[position + len(piece) :]
        self._line = [line]
        self._cursor = None if position + len(piece) >= len(line) else position + len(piece)
