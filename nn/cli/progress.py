"""Training progress for the command line: a bar on a terminal, a few plain lines in logs."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")


class ProgressReporter:
    """Training progress: a redrawn bar on a terminal, a few plain lines in logs.

    On a TTY the bar is redrawn at most ten times a second; otherwise one line is written at
    the first epoch, every tenth of the run and the last epoch (so logs get about 11 lines).
    """

    def __init__(self, stream: TextIO, interactive: bool | None = None, width: int = 24) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.width = width
        self.started = time.perf_counter()
        self.last_draw = 0.0
        self.epoch = 0

    def __call__(self, epoch: int, epochs: int, train_loss: float, test_loss: float) -> None:
        self.epoch = epoch
        elapsed = time.perf_counter() - self.started
        if self.interactive:
            now = time.perf_counter()
            if epoch < epochs and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            filled = round(self.width * epoch / epochs)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(
                f"\r[{bar}] epoch {epoch}/{epochs}  loss {train_loss:.6f}  test {test_loss:.6f}  {elapsed:.1f}s"
            )
            if epoch == epochs:
                self.stream.write("\n")
            self.stream.flush()
            return
        every = max(1, epochs // 10)
        if epoch == 1 or epoch == epochs or epoch % every == 0:
            self.stream.write(
                f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train loss {train_loss:.6f}  "
                f"test loss {test_loss:.6f}  ({elapsed:.1f} s)\n"
            )
            self.stream.flush()

    def interrupt(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


def train_with_progress(command: str, out: Path, epochs: int, train: Callable[[ProgressReporter], T]) -> T | None:
    """``train(progress)`` with a progress display on stderr; on Ctrl-C, say at which epoch it
    stopped and that nothing was saved (a previous ``out`` is left as it was), and return None."""
    progress = ProgressReporter(sys.stderr)
    try:
        return train(progress)
    except KeyboardInterrupt:
        progress.interrupt()
        kept = f"{out} left as it was" if out.exists() else "no model file written"
        print(f"autotensor {command}: interrupted at epoch {progress.epoch}/{epochs}; nothing saved, {kept}",
              file=sys.stderr)
        return None
