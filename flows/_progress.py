"""Progress lines for long CLI commands: on stderr, short, and silent with ``--json``.

A step that finishes prints one line with the time since the start. A long step with no
natural checkpoints (training, evaluation) is wrapped in ``during``: on a terminal its line
counts seconds in place; in a log or pipe a line is added every ``every`` seconds.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Step lines for one command run.

    Args:
        quiet: print nothing (``--json``: stdout is for the one JSON object).
        every: seconds between heartbeat lines when stderr is not a terminal.
        out: where lines go (default stderr).
    """

    def __init__(self, quiet: bool = False, every: float = 10.0,
                 out: TextIO | None = None) -> None:
        self.quiet = quiet
        self.every = every
        self.out = out or sys.stderr
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())

    def _line(self, text: str) -> str:
        return f"  [{time.perf_counter() - self.t0:6.1f}s] {text}"

    def step(self, text: str) -> None:
        """One finished step."""
        if not self.quiet:
            print(self._line(text), file=self.out, flush=True)

    @contextmanager
    def during(self, text: str) -> Iterator[None]:
        """Show that ``text`` is still running until the block ends."""
        if self.quiet:
            yield
            return
        stop = threading.Event()
        start = time.perf_counter()

        def beat() -> None:
            tick = 1.0 if self.tty else self.every
            while not stop.wait(tick):
                shown = f"{text} ... {time.perf_counter() - start:.0f} s"
                if self.tty:
                    print(f"\r{self._line(shown)}", end="", file=self.out, flush=True)
                else:
                    print(self._line(shown), file=self.out, flush=True)

        if self.tty:
            print(self._line(f"{text} ..."), end="", file=self.out, flush=True)
        else:
            self.step(f"{text} ...")
        thread = threading.Thread(target=beat, name="feedwell-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            if self.tty:
                print("\r\033[K", end="", file=self.out, flush=True)  # the step line follows
