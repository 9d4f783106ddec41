"""Fetching the real listings: download once from their pinned address into a user cache.

The file is not part of the project.  It is downloaded on request (``autotensor data fetch``),
checked against a pinned sha256, and kept in the platform's cache directory (or
``$AUTOTENSOR_CACHE``), where ``train`` finds it the next time.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path
from typing import BinaryIO

from nn.atomic import atomic_write
from nn.carprice.listings import DataError

PINNED_URL = (
    "https://raw.githubusercontent.com/theflofly/dnn_from_scratch_py/"
    "2ca351078b6666f43f8794951283dbb9648bfd80/car_features.csv"
)
PINNED_SHA256 = "c7696996a6d54002b1eef22dae0a8d0539d0ca68fc3603ddf00c1efc835e48cd"
CACHE_FILE_NAME = "car_features.csv"


def cache_directory() -> Path:
    """Where downloads go: ``$AUTOTENSOR_CACHE``, else the platform's user cache + autotensor."""
    override = os.environ.get("AUTOTENSOR_CACHE")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autotensor"


def cached_data_path(
    sha256: str = PINNED_SHA256, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The cached listings file if it is there with the expected checksum, else None."""
    target = Path(cache_dir or cache_directory()) / CACHE_FILE_NAME
    if target.is_file() and _sha256_of(target) == sha256.lower():
        return target
    return None


def fetch(
    url: str = PINNED_URL,
    sha256: str = PINNED_SHA256,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Download the listings into the cache once and return the path of the verified file.

    A cached file with the right checksum is returned without touching the network. Otherwise
    the download streams into a temporary file in the cache directory, and only a file whose
    sha256 matches is moved into place (:func:`nn.atomic.atomic_write`: a reader never sees half
    a file, a new file gets the umask's mode, a replaced one keeps its mode). On any failure,
    interrupt or SIGTERM the temporary file is removed; failures raise ``DataError``.
    """
    cached = cached_data_path(sha256, cache_dir)
    if cached is not None:
        return cached
    target = Path(cache_dir or cache_directory()) / CACHE_FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as out:
        actual = _download(url, out)
        if actual != sha256.lower():
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {actual}"
            )
    return target


def _download(url: str, out: BinaryIO) -> str:
    """Copy ``url`` into ``out`` chunk by chunk; return the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot download {url}: {error}") from error
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()
