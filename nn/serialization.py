"""Model files: ``nn.save(model, path, metadata)`` and ``nn.load(path)``, never pickle.

A model file is a numpy ``.npz`` archive holding

* one float array per parameter, under its dotted name (``layers.0.W``, ``layers.0.b``, ...);
* ``__autotensor__``: a 0-d unicode array with a JSON document::

      {"format": "autotensor-model", "format_version": 1,
       "architecture": {"type": "MLP", "sizes": [3, 3, 2, 1], "activation": "tanh", ...},
       "parameters": {"layers.0.W": [3, 3], ...},
       "metadata": {...anything JSON can hold: normaliser statistics, training settings...}}

It is read with ``numpy.load(..., allow_pickle=False)``, so opening an untrusted file cannot run
code, and checked before use: format and version (a newer version is refused with a message to
upgrade), every expected parameter present with the recorded shape, nothing unexpected, finite
float values.  Saving writes a temporary file in the target's directory and renames it over the
target (``os.replace``, atomic), so an interrupted or failed save leaves any previous file intact.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nn.layers import MLP, Linear
from nn.module import Module, StateDictError

__all__ = ["FORMAT", "FORMAT_VERSION", "LoadedModel", "ModelFileError", "load", "save"]

FORMAT = "autotensor-model"
FORMAT_VERSION = 1
HEADER_KEY = "__autotensor__"


class ModelFileError(ValueError):
    """A model file that cannot be written or used; the message says which file and why."""


class LoadedModel(NamedTuple):
    """What ``load`` returns; unpacks as ``model, metadata = nn.load(path)``."""

    model: Module
    metadata: dict[str, Any]


def _architecture(model: Module) -> dict[str, Any]:
    if isinstance(model, MLP):
        return {"type": "MLP", **model.architecture()}
    if isinstance(model, Linear):
        return {"type": "Linear", "in_features": model.in_features, "out_features": model.out_features,
                "bias": model.b is not None}
    raise ModelFileError(
        f"save: cannot describe a {type(model).__name__} so that load can rebuild it; "
        f"supported: MLP, Linear (or save model.state_dict() with numpy yourself)"
    )


def _build(architecture: Any, path: Path) -> Module:
    if not isinstance(architecture, dict):
        raise ModelFileError(f"{path}: the architecture entry is not an object")
    settings = dict(architecture)
    kind = settings.pop("type", None)
    try:
        if kind == "MLP":
            return MLP(settings["sizes"], settings["activation"], settings["output_activation"], init="zeros")
        if kind == "Linear":
            return Linear(settings["in_features"], settings["out_features"], init="zeros", bias=settings["bias"])
    except KeyError as error:
        raise ModelFileError(f"{path}: the {kind} architecture lacks the setting {error.args[0]!r}") from None
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: invalid {kind} architecture {architecture}: {error}") from None
    raise ModelFileError(f"{path}: unknown model type {kind!r} (this version knows MLP and Linear)")


def _write_arrays(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write the archive into an open binary file (a seam that tests replace to simulate a crash)."""
    np.savez(file, **arrays)


def save(model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (an MLP or Linear) and JSON-able ``metadata`` to ``path``; return the path.

    The file appears complete or not at all: it is written to a temporary file next to the
    target, flushed to disk and renamed over it.
    """
    path = Path(path)
    state = model.state_dict()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": _architecture(model),
        "parameters": {name: list(array.shape) for name, array in state.items()},
        "metadata": metadata or {},
    }
    try:
        text = json.dumps(header, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"save: metadata must be JSON data (numbers, strings, lists, dicts): {error}") from None
    if HEADER_KEY in state:
        raise ModelFileError(f"save: a parameter may not be called {HEADER_KEY!r}")
    arrays = {HEADER_KEY: np.array(text), **state}
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"save: directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            _write_arrays(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays in metadata become plain numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load(path: str | os.PathLike[str]) -> LoadedModel:
    """Read a file written by :func:`save`: ``model, metadata = nn.load(path)``.

    Raises :class:`ModelFileError` for a missing, truncated, pickled or foreign file, a newer
    format version, or parameters that are missing, unexpected, misshapen or not finite.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    arrays = _read_arrays(path)
    header = _read_header(path, arrays.pop(HEADER_KEY, None))
    model = _build(header.get("architecture"), path)
    recorded = header.get("parameters", {})
    for name, array in arrays.items():
        if array.dtype.kind != "f":
            raise ModelFileError(f"{path}: parameter {name!r} has dtype {array.dtype}, expected floats")
        if isinstance(recorded, dict) and name in recorded and list(array.shape) != list(recorded[name]):
            raise ModelFileError(
                f"{path}: parameter {name!r} has shape {array.shape} but the header records {tuple(recorded[name])}"
            )
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{path}: parameter {name!r} holds NaN or infinite values")
    try:
        model.load_state_dict(arrays, strict=True)
    except StateDictError as error:
        raise ModelFileError(f"{path}: does not match its architecture {header['architecture']}: {error}") from None
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: the metadata entry is not an object")
    return LoadedModel(model, metadata)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, with numpy's many failure modes turned into one error type."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if "pickle" in str(error):
            raise ModelFileError(f"{path}: contains pickled data, which is never loaded") from None
        raise ModelFileError(f"{path}: not a readable model file (truncated, or not an .npz archive): {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path}: holds a single array, not a model archive (.npz)")
    with archive:
        arrays = {}
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:
                if "pickle" in str(error):
                    raise ModelFileError(
                        f"{path}: entry {name!r} is an object array that only unpickling could read; refusing it"
                    ) from None
                raise ModelFileError(f"{path}: entry {name!r} is damaged: {error}") from None
            except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
                raise ModelFileError(f"{path}: truncated or damaged archive (entry {name!r}): {error}") from None
        return arrays


def _read_header(path: Path, entry: np.ndarray | None) -> dict[str, Any]:
    if entry is None:
        raise ModelFileError(f"{path}: no {HEADER_KEY!r} entry; not a model file written by nn.save")
    if entry.dtype.kind != "U" or entry.shape != ():
        raise ModelFileError(f"{path}: the {HEADER_KEY!r} entry is not a text string")
    try:
        header = json.loads(str(entry))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: the header is not valid JSON: {error}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an {FORMAT} file")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in model format version {version} by a newer autotensor; this version "
            f"reads up to version {FORMAT_VERSION}. Upgrade autotensor to load it."
        )
    return header
