"""What the CLI shows while notebooks run: progress bars and live output."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from nbformat import NotebookNode

from nbrun.events import ExecutionObserver
from nbrun.result import CellRecord, CellStatus, ExecutionResult

from .bar_safe import write_above_bars
from .log_lines import LinePrefixer

TICK_SECONDS = 1.0


class TerminalObserver(ExecutionObserver):
    """A tqdm bar over a notebook's code cells, plus ``--log-output``.

    The bar is shown only when *show_progress* is set and stderr is a TTY;
    lines printed while it is shown go through ``tqdm.write`` so they do
    not tear the bar.
    """

    def __init__(
        self,
        label: str,
        *,
        show_progress: bool,
        log_output: bool,
        stream: TextIO | None = None,
        position: int = 0,
        line_prefix: str = "",
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.show_progress = show_progress and is_tty(self.stream)
        self.log_output = log_output
        self.position = position
        self._bar = None
        self._ticker: asyncio.TimerHandle | None = None
        self._line_open: dict[str, bool] = {}
        self._prefixer = LinePrefixer(line_prefix) if line_prefix else None  # several notebooks: whose line

    def notebook_started(self, code_cells: int) -> None:
        if self.show_progress:
            from tqdm import tqdm  # imported lazily: keeps `nbrun --help` fast

            self._bar = tqdm(
                total=code_cells, desc=self.label, unit="cell", file=self.stream, leave=False, position=self.position
            )
            self._tick()

    def cell_started(self, index: int, cell: NotebookNode) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"cell {index + 1}", refresh=True)

    def cell_finished(self, record: CellRecord) -> None:
        if self._bar is not None:
            self._bar.update(1)
        if self.log_output and record.status not in (CellStatus.EMPTY, CellStatus.NOT_RUN):
            self._end_open_lines()

    def stream_text(self, index: int, name: str, text: str) -> None:
        if not self.log_output:
            return
        if self._prefixer is not None:
            self._emit(self._prefixer.feed(name, text))
            return
        self._emit(text)
        self._line_open[name] = not text.endswith("\n")

    def warning(self, text: str) -> None:
        self._end_open_lines()
        self._emit(f"nbrun: {self.label}: {text}\n")

    def notebook_finished(self, result: ExecutionResult) -> None:
        self.close()

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _tick(self) -> None:
        """Redraw the bar every second, so a long quiet cell shows its time passing rather than a frozen bar."""
        if self._bar is None:
            return
        self._bar.refresh()
        try:
            self._ticker = asyncio.get_running_loop().call_later(TICK_SECONDS, self._tick)
        except RuntimeError:  # no event loop (a caller outside a run): the bar moves with the cells only
            self._ticker = None

    def _end_open_lines(self) -> None:
        if self._prefixer is not None:
            self._emit(self._prefixer.flush())
        if any(self._line_open.values()):
            self._emit("\n")
        self._line_open.clear()

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.show_progress:  # bars may be drawn (ours or other notebooks'): write above all of them
            write_above_bars(text, self.stream)
        else:
            self.stream.write(text)
            self.stream.flush()


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
