"""Progress of a scoring run on stderr, in bytes of input read: one redrawn bar on a terminal, plain lines
otherwise (a log file or CI should not fill with carriage returns). Standard library only."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

from handler.contract import human_bytes

REDRAW_S = 0.1  # a terminal bar is redrawn at most this often
PLAIN_STEP = 0.1  # without a terminal, a line per tenth of a big file
PLAIN_MIN_BYTES = 1 << 20  # smaller files get their start line only
BAR_WIDTH = 24


class Progress:
    """Bytes read across all the files of a run; ``advance`` is called from the input streams."""

    def __init__(
        self,
        stream: TextIO,
        total_bytes: int,
        files: int,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.total, self.files = stream, max(total_bytes, 1), files
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = self.clock()
        self.done = self.file_done = self.file_size = self.index = 0
        self.name = ""
        self.drawn_at = -REDRAW_S
        self.next_step = PLAIN_STEP

    def start_file(self, name: str, size: int) -> None:
        """A new input file begins."""
        self.index += 1
        self.name, self.file_size, self.file_done, self.next_step = name, size, 0, PLAIN_STEP
        if self.tty:
            self._draw(force=True)
        else:
            self._line(f"scoring {name} ({self.index} of {self.files}, {human_bytes(size)})")

    def advance(self, count: int) -> None:
        """``count`` more bytes were read."""
        self.done += count
        self.file_done += count
        if self.tty:
            self._draw()
        elif self.file_size >= PLAIN_MIN_BYTES and self.file_done >= self.next_step * self.file_size:
            share = self.file_done / self.file_size
            self._line(f"  {self.name}: {share:.0%} ({human_bytes(self.file_done)} of {human_bytes(self.file_size)})")
            while self.next_step <= share:
                self.next_step += PLAIN_STEP

    def close(self) -> None:
        """Clear the bar, so what is printed next starts on a clean line."""
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.drawn_at < REDRAW_S:
            return
        self.drawn_at = now
        share = min(self.done / self.total, 1.0)
        filled = int(share * BAR_WIDTH)
        rate = self.done / max(now - self.started, 1e-9)
        text = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%}  {human_bytes(self.done)} of "
            f"{human_bytes(self.total)}  {human_bytes(rate)}/s  file {self.index} of {self.files}: {self.name}"
        )
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\033[K" + text[:width])
        self.stream.flush()
