"""Messages that do not tear progress bars: on a terminal they go through ``tqdm.write``.

``tqdm.write`` clears every bar drawn on the stream, prints the message and
redraws the bars, so a warning or a log record never leaves a bar fragment
glued to its line.
"""

from __future__ import annotations

import logging
from typing import TextIO


def write_above_bars(text: str, stream: TextIO) -> None:
    """Print *text* (its own newlines included) above any bars drawn on *stream*."""
    from tqdm import tqdm  # imported lazily: keeps `nbrun --help` fast

    tqdm.write(text, file=stream, end="")


class BarSafeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A logging handler that writes through ``tqdm.write`` when its stream is a terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            terminal = self.stream.isatty()
        except (AttributeError, ValueError):
            terminal = False
        if not terminal:
            super().emit(record)
            return
        try:
            write_above_bars(self.format(record) + "\n", self.stream)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)
