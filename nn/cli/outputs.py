"""The files a command writes: checked before any work starts, then written whole or not at all.

A mistake in an output path (a directory, a missing or read-only directory, an extension
nothing can write) is a mistake in the command line, so it is reported at once, naming the
option, with exit status 2 - never after a whole training run.  What is then written goes to a
hidden temporary file beside its target and is renamed over it only at the end
(:class:`PendingFile`), so a failed or interrupted command leaves no partial or stray file.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType

from nn.cli.errors import UsageError


def check_output_file(option: str, path: Path, extensions: Collection[str] | None = None) -> None:
    """Refuse an output path that cannot be written, naming the option (exit status 2).

    ``extensions`` (lower case, with the dot) are the formats the writer knows, if it cares.
    """
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name inside it")
    if extensions is not None and path.suffix.lower() not in extensions:
        raise UsageError(
            f"{option} {path}: cannot write {path.suffix or 'a file without an extension'!r}; "
            f"use one of {', '.join(sorted(extensions))}"
        )
    _check_writable_directory(option, path, path.parent if str(path.parent) else Path("."))


def check_output_directory(option: str, path: Path) -> None:
    """Refuse a directory that is not one, or that cannot be made or written in (exit status 2)."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: is not a directory")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    _check_writable_directory(option, path, existing)


def _check_writable_directory(option: str, path: Path, directory: Path) -> None:
    if not directory.is_dir():
        raise UsageError(f"{option} {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in directory {directory} (permission denied)")


class PendingFile:
    """A file written under a hidden temporary name beside ``target``, renamed over it by ``commit``.

    Use it as a context manager: leaving the block without ``commit()`` - an error, Ctrl-C -
    removes the temporary file.  The temporary file is made with the user's umask, and a
    replaced target keeps its permissions, so the finished file looks like any other.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        directory = target.parent if str(target.parent) else Path(".")
        self.path = directory / f".{target.name}.{secrets.token_hex(4)}.tmp"

    def __enter__(self) -> PendingFile:
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        return self

    def commit(self) -> None:
        """Put the finished file in place (an atomic rename)."""
        if self.target.exists():
            shutil.copymode(self.target, self.path)
        os.replace(self.path, self.target)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.path.exists():
            self.path.unlink()


def check_model_and_plot(out: Path, plot: Path | None) -> None:
    """A model file (``--out``) and an optional picture (``--plot``) checked before any work:
    exit status 2 naming the option (1 when matplotlib, needed for ``--plot``, is missing)."""
    check_output_file("--out", out)
    if plot is None:
        return
    from nn.figures import plot_formats

    check_output_file("--plot", plot, plot_formats())  # ImportError without matplotlib: exit 1
    if plot.resolve() == out.resolve():
        raise UsageError(f"--plot {plot}: is the same file as --out")


def save_model_and_plot(out: Path, plot: Path | None, save: Callable[[Path], object],
                        draw: Callable[[Path, str], object]) -> None:
    """Both outputs or neither: the picture is drawn to a temporary file (``draw(path, format)``),
    the model saved (``save(out)``, itself atomically), and only then the picture renamed into
    place."""
    if plot is None:
        save(out)
        print(f"model saved to {out}")
        return
    with PendingFile(plot) as pending:
        draw(pending.path, plot.suffix.lstrip(".").lower())
        save(out)
        print(f"model saved to {out}")
        pending.commit()
    print(f"plot saved to {plot}")
