"""Writing a file completely or not at all: ``with atomic_write(path) as file: file.write(...)``.

The bytes go to a temporary file next to the target, ``.<name>.<pid>.<random>.tmp``, which is
flushed to disk and renamed over the target (``os.replace``, atomic on one file system), so a
reader sees the old file or the new one, never half of one.  Around that:

* **Modes.** The temporary file is created with mode 0666 and the process's umask applies, as
  for any new file; when the target exists, its mode is copied first, so overwriting a 0644
  file leaves a 0644 file (``tempfile.mkstemp`` would make every file 0600).
* **Errors and interrupts.** Any exception, Ctrl-C included, removes the temporary file and
  leaves the target as it was.  While the write runs in the main thread and SIGTERM has its
  default action (end the process), a handler is installed that unwinds the write the same way;
  the previous handler is then restored and the signal delivered again, so the process still
  ends by SIGTERM.  A program that handles SIGTERM itself keeps its own handler.
* **Leftovers.** SIGKILL or a power cut cannot be caught, so before writing, temporary files of
  the same target whose process (the pid in the name) no longer exists are removed.  Only on
  POSIX systems, where ``os.kill(pid, 0)`` asks whether a process exists without touching it.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "remove_stale_temporaries", "temporary_name"]


class _Terminated(BaseException):
    """Raised by the SIGTERM handler to unwind a write (a BaseException, like KeyboardInterrupt)."""


def temporary_name(target: Path, pid: int, token: str) -> str:
    """The hidden name of a temporary file for ``target`` written by process ``pid``."""
    return f".{target.name}.{pid}.{token}.tmp"


def _temporary_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]+\.tmp")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only the existence and permission checks
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files of ``target`` left by processes that no longer run.

    Files of this process (possibly another thread's write in progress) and of live processes
    are left alone.  Does nothing on systems without POSIX process signals.
    """
    if os.name != "posix":
        return
    pattern = _temporary_pattern(target)
    directory = target.parent
    try:
        names = os.listdir(directory)
    except OSError:
        return  # an unreadable directory: creating the file will report it
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _process_exists(pid):
            continue
        try:
            os.remove(directory / name)
        except OSError:
            pass  # already removed by another process, or not ours to remove


def _create_temporary(target: Path) -> tuple[int, Path]:
    """Create and open a fresh temporary file for ``target``, with the mode the result should have."""
    try:
        existing_mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        existing_mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = target.parent / temporary_name(target, os.getpid(), secrets.token_hex(4))
        try:
            handle = os.open(temporary, flags, 0o666)  # the umask applies to new files
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise type(error)(error.errno, error.strerror, str(target)) from None
    if existing_mode is not None:
        os.chmod(temporary, existing_mode)
    return handle, temporary


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``_Terminated`` (when it would otherwise just kill us)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield  # ignored, or handled by the program: its choice stands
        return

    def unwind(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the clean-up
        raise _Terminated

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        signal.raise_signal(signal.SIGTERM)  # end the process as SIGTERM would have
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file whose contents replace ``target`` when the block ends without error.

    On any exception (or SIGTERM, see the module docstring) the temporary file is removed and
    ``target`` is untouched.  Errors creating the file name ``target``, not the temporary file.
    """
    target = Path(target)
    remove_stale_temporaries(target)
    with _sigterm_unwinds():
        handle, temporary = _create_temporary(target)
        try:
            with os.fdopen(handle, "wb") as file:
                yield file
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            try:
                os.remove(temporary)
            except FileNotFoundError:
                pass
            raise
