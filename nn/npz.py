"""Reading an untrusted ``.npz`` archive: look at everything it declares before reading any data.

``numpy.load`` reads a member in full when it is asked for, so a small file can declare and
inflate gigabytes (a zip of compressed zeros: a decompression bomb), and its errors range from
AttributeError to MemoryError.  :class:`Archive` opens the zip's table of contents and every
member's ``.npy`` header (dtype and shape, a few dozen bytes each), refuses anything that is not a
plain numeric array, and adds up the declared sizes against a limit *before* any array is read.
Reading a member afterwards allocates exactly what was declared and checks the member's CRC.

Every refusal is an :class:`ArchiveError` whose message says what is wrong (the caller adds the
file's name).  Nothing is ever unpickled.
"""
from __future__ import annotations

import lzma
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

import numpy as np

__all__ = ["Archive", "ArchiveError", "Member", "format_bytes"]

# What zipfile, zlib, lzma and numpy raise for damaged or truncated archives and members.
_DAMAGED = (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError, zlib.error,
            lzma.LZMAError)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
_NPY_SUFFIX = ".npy"


class ArchiveError(ValueError):
    """An archive that cannot be read safely; the message says why (without the file's name)."""


def format_bytes(count: int) -> str:
    """``1073741824`` -> ``"1 GiB"``: sizes in messages, in binary units, for any integer."""
    if count < 1024:
        return f"{count:,} bytes"
    if count >= 1 << 60:
        return f"about 2^{count.bit_length() - 1} bytes"
    size = count / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            break
        size /= 1024
    return f"{size:.3g} {unit}"


@dataclass(frozen=True)
class Member:
    """One array of the archive as its ``.npy`` header declares it (nothing of its data is read)."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    info: zipfile.ZipInfo


class Archive:
    """An ``.npz`` file whose members have been checked against ``max_bytes``; read them with :meth:`read`.

    ``max_bytes`` bounds the file's size and the total size its arrays declare.  Use as a context
    manager (the file stays open until the block ends).
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._file: BinaryIO = open(path, "rb")
        try:
            self._check_magic()
            self._check_file_size()
            try:
                self._zip = zipfile.ZipFile(self._file)
            except _DAMAGED as error:
                raise ArchiveError(f"damaged or truncated .npz archive: {error}") from None
            self.members: dict[str, Member] = self._read_members()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    # ------------------------------------------------------------------ checks before any data
    def _check_file_size(self) -> None:
        size = os.fstat(self._file.fileno()).st_size
        if size > self.max_bytes:
            raise ArchiveError(f"the file is {format_bytes(size)}, more than the limit of "
                               f"{format_bytes(self.max_bytes)} (max_bytes)")

    def _check_magic(self) -> None:
        head = self._file.read(16)
        self._file.seek(0)
        if head.startswith(_ZIP_MAGIC):
            return
        if not head:
            raise ArchiveError("the file is empty; not an .npz archive")
        if head.startswith(_NPY_MAGIC):
            raise ArchiveError("holds a single array (.npy), not an .npz archive")
        if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle protocols 2 to 5
            raise ArchiveError("holds pickled data, which is never loaded; not an .npz archive")
        raise ArchiveError(f"not an .npz archive (a zip file written by nn.save); it starts with {head!r}")

    def _read_members(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        total = 0
        for info in self._zip.infolist():
            name = info.filename
            if not name.endswith(_NPY_SUFFIX):
                raise ArchiveError(f"entry {name!r} is not an array (.npy); a model file holds only arrays")
            key = name[: -len(_NPY_SUFFIX)]
            if key in members:
                raise ArchiveError(f"entry {name!r} appears twice")
            member = self._declared(key, info)
            total += member.nbytes
            if total > self.max_bytes:
                raise ArchiveError(
                    f"its arrays declare {format_bytes(total)} or more ({key!r} alone "
                    f"{format_bytes(member.nbytes)}), more than the limit of {format_bytes(self.max_bytes)} (max_bytes)"
                )
            members[key] = member
        return members

    def _declared(self, key: str, info: zipfile.ZipInfo) -> Member:
        """The dtype and shape a member's ``.npy`` header declares, read without its data."""
        try:
            with self._zip.open(info) as stream:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                else:
                    raise ArchiveError(f"entry {key!r} uses .npy format version {version}, which is not supported")
        except ArchiveError:
            raise
        except _DAMAGED as error:
            raise ArchiveError(f"entry {key!r} is truncated or damaged: {error}") from None
        if dtype.hasobject:
            raise ArchiveError(f"entry {key!r} is an object array that only unpickling could read; refusing it")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise ArchiveError(f"entry {key!r} declares an invalid shape")
        return Member(key, tuple(shape), dtype, math.prod(shape) * dtype.itemsize, info)

    # ------------------------------------------------------------------ data
    def read(self, key: str) -> np.ndarray:
        """The array stored under ``key``: exactly the declared bytes, CRC-checked, never unpickled."""
        member = self.members[key]
        try:
            with self._zip.open(member.info) as stream:
                array = np.lib.format.read_array(stream, allow_pickle=False)
                trailing = stream.read(1)  # reaching the end makes zipfile check the CRC
        except _DAMAGED as error:
            raise ArchiveError(f"entry {key!r} is truncated or damaged: {error}") from None
        if trailing:
            raise ArchiveError(f"entry {key!r} holds more data than its header declares")
        return array
