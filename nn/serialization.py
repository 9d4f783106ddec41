"""Model files: ``nn.save(model, path, metadata)`` and ``nn.load(path)``, never pickle.

A model file is a numpy ``.npz`` archive holding

* one float array per parameter, under its dotted name (``layers.0.W``, ``layers.0.b``, ...);
* ``__autotensor__``: a 0-d unicode array with a JSON document (format version 2)::

      {"format": "autotensor-model", "format_version": 2,
       "architecture": {"type": "MLP", "config": {"sizes": [3, 3, 2, 1], "activation": "tanh", ...}},
       "parameters": {"layers.0.W": {"shape": [3, 3], "dtype": "<f8"}, ...},
       "metadata": {...anything JSON can hold: normaliser statistics, training settings...}}

The architecture is any model built from nn's modules or from classes registered with
``@nn.register_module`` (see :mod:`nn.architecture`).  Version 1 files (an MLP or a Linear,
shapes without dtypes) are still read.

**Loading an untrusted file** never unpickles and reads nothing before it is checked: the
archive's members and their ``.npy`` headers (dtype and shape) must match the JSON header, the
architecture must build exactly those parameters, and the file and its declared arrays may not
exceed ``max_bytes`` (default 1 GiB, or ``$AUTOTENSOR_MAX_MODEL_BYTES``), the JSON header 16 MiB.
Then the values are read and must be finite.  Every refusal is a :class:`ModelFileError` naming
the file.

**Saving** checks that the description rebuilds the model's parameters, then writes through
:func:`nn.atomic.atomic_write`: a temporary file renamed over the target, so a failed, interrupted
or killed save leaves the previous file intact, and new files get the umask's mode while an
overwritten file keeps its own.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nn.architecture import ArchitectureError, build, describe, parameter_count, shorten
from nn.atomic import atomic_write
from nn.module import Module, Parameter
from nn.npz import Archive, ArchiveError, format_bytes

__all__ = ["DEFAULT_MAX_BYTES", "FORMAT", "FORMAT_VERSION", "HEADER_MAX_BYTES", "LoadedModel", "ModelFileError",
           "load", "save"]

FORMAT = "autotensor-model"
FORMAT_VERSION = 2
HEADER_KEY = "__autotensor__"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: about 134 million float64 weights
LIMIT_VARIABLE = "AUTOTENSOR_MAX_MODEL_BYTES"
# The JSON header is parsed into Python objects, ten times its size or more: it gets a limit of its own.
HEADER_MAX_BYTES = 16 << 20  # 16 MiB as stored (4 bytes a character): 4 million characters

Shapes = dict[str, tuple[tuple[int, ...], np.dtype | None]]  # dtype None: any float (version 1)


class ModelFileError(ValueError):
    """A model file that cannot be written or used; the message says which file and why."""


class LoadedModel(NamedTuple):
    """What ``load`` returns; unpacks as ``model, metadata = nn.load(path)``."""

    model: Module
    metadata: dict[str, Any]


# ---------------------------------------------------------------------- saving
def _write_arrays(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write the archive into an open binary file (a seam that tests replace to simulate a crash)."""
    np.savez(file, **arrays)


def save(model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and JSON-able ``metadata`` to ``path``; return the path.

    ``model`` is any module :func:`nn.architecture.describe` can describe.  The file appears
    complete or not at all, and a refusal (an undescribable model, metadata that is not JSON, a
    directory as ``path``) happens before anything is written.
    """
    path = Path(path)
    if not isinstance(model, Module):
        raise ModelFileError(f"save: expected an nn.Module, got {type(model).__name__}")
    if path.is_dir():
        raise ModelFileError(f"save: {path} is a directory; give the model file's path, e.g. {path / 'model.npz'}")
    if path.exists() and not path.is_file():
        raise ModelFileError(f"save: {path} exists and is not a regular file; refusing to replace it")
    if not path.parent.is_dir():
        raise ModelFileError(f"save: directory {path.parent} does not exist")
    if not isinstance(metadata, (dict, type(None))):
        raise ModelFileError(f"save: metadata must be a dict, got {type(metadata).__name__}")
    try:
        architecture = describe(model)
    except ArchitectureError as error:
        raise ModelFileError(f"save: {error}") from None
    except RecursionError:
        raise ModelFileError("save: the model nests modules too deeply to describe") from None
    parameters = dict(model.named_parameters())
    if HEADER_KEY in parameters:
        raise ModelFileError(f"save: a parameter may not be called {HEADER_KEY!r}")
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "parameters": {name: {"shape": list(p.shape), "dtype": p.dtype.str} for name, p in parameters.items()},
        "metadata": metadata or {},
    }
    try:
        text = json.dumps(header, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"save: metadata must be JSON data (numbers, strings, lists, dicts): {error}") from None
    _check_rebuilds(model, json.loads(text)["architecture"], parameters)
    arrays = {HEADER_KEY: np.array(text), **{name: p.data for name, p in parameters.items()}}
    if arrays[HEADER_KEY].nbytes > HEADER_MAX_BYTES:
        raise ModelFileError(
            f"save: the description and metadata take {arrays[HEADER_KEY].nbytes:,} bytes, more than model "
            f"files allow ({format_bytes(HEADER_MAX_BYTES)}); keep large data out of metadata"
        )
    with atomic_write(path) as file:
        _write_arrays(file, arrays)
    return path


def _check_rebuilds(model: Module, architecture: dict[str, Any], parameters: dict[str, Parameter]) -> None:
    """Refuse to write a file that would not load back: the description must rebuild these parameters."""
    try:
        rebuilt = build(architecture)
    except ArchitectureError as error:
        raise ModelFileError(f"save: {type(model).__name__} would not load back: {error}") from None
    differences = _differences({n: p.shape for n, p in rebuilt.named_parameters()}, "the model rebuilt from its config",
                               {n: p.shape for n, p in parameters.items()}, "the model")
    if differences:
        raise ModelFileError(f"save: {type(model).__name__} would not load back: {differences}; check its get_config()")


def _differences(built: dict[str, tuple[int, ...]], built_as: str, held: dict[str, tuple[int, ...]],
                 held_as: str) -> str:
    """What differs between two name -> shape tables, in one sentence ('' when they agree)."""
    parts = []
    if only_built := [name for name in built if name not in held]:
        parts.append(f"{built_as} has parameters {only_built} but {held_as} does not")
    if only_held := [name for name in held if name not in built]:
        parts.append(f"{held_as} has parameters {only_held} but {built_as} does not")
    parts += [f"{name!r} has shape {built[name]} in {built_as} but {held[name]} in {held_as}"
              for name in built if name in held and built[name] != held[name]]
    return "; ".join(parts)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays in metadata become plain numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ---------------------------------------------------------------------- loading
def load(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> LoadedModel:
    """Read a file written by :func:`save`: ``model, metadata = nn.load(path)``.

    ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, or ``$AUTOTENSOR_MAX_MODEL_BYTES``) bounds
    the file's size and the total size of the arrays it declares; raise it for a larger model you
    trust.  Raises :class:`ModelFileError` for anything else than a model file within the limit.
    """
    path = Path(path)
    limit = _limit(max_bytes)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: is not a regular file (a device, a pipe...), not a model file")
    try:
        with Archive(path, limit) as archive:
            return _load(archive)
    except ArchiveError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the file: {error.strerror or error}") from None


def _limit(max_bytes: int | None) -> int:
    if max_bytes is None:
        setting = os.environ.get(LIMIT_VARIABLE)
        if not setting:
            return DEFAULT_MAX_BYTES
        try:
            max_bytes = int(setting)
        except ValueError:
            raise ValueError(f"${LIMIT_VARIABLE} must be a number of bytes, got {shorten(setting)}") from None
        where = f"${LIMIT_VARIABLE}"
    else:
        where = "load: max_bytes"
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"{where} must be a positive number of bytes, got {shorten(max_bytes)}")
    return max_bytes


def _load(archive: Archive) -> LoadedModel:
    """Check everything the archive declares against its header, build the model, then read the values."""
    if HEADER_KEY not in archive.members:
        raise ArchiveError(f"no {HEADER_KEY!r} entry; not a model file written by nn.save")
    header = _read_header(archive)
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ArchiveError("the metadata entry is not an object")
    shapes = _parameter_shapes(header)
    _check_members(archive, shapes)
    model = _build(header["architecture"], shapes)
    for name, parameter in model.named_parameters():
        values = archive.read(name)
        if not np.all(np.isfinite(values)):
            raise ArchiveError(f"parameter {name!r} holds NaN or infinite values")
        parameter.data = values  # the file's dtype, exactly as saved
    return LoadedModel(model, metadata)


def _read_header(archive: Archive) -> dict[str, Any]:
    member = archive.members[HEADER_KEY]
    if member.dtype.kind != "U" or member.shape != ():
        raise ArchiveError(f"the {HEADER_KEY!r} entry is not a text string")
    if member.nbytes > HEADER_MAX_BYTES:
        raise ArchiveError(f"the header declares {member.nbytes:,} bytes, more than the header limit of "
                           f"{format_bytes(HEADER_MAX_BYTES)}")
    try:
        header = json.loads(str(archive.read(HEADER_KEY)))
    except (ValueError, RecursionError) as error:  # JSONDecodeError, numbers past Python's digit limit, nesting
        raise ArchiveError(f"the header is not valid JSON: {shorten(str(error), 200)}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArchiveError(f"not an {FORMAT} file")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError(f"invalid format version {shorten(version)}")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"written in model format version {shorten(version)} by a newer autotensor; this version "
            f"reads up to version {FORMAT_VERSION}. Upgrade autotensor to load it."
        )
    if version == 1:  # {"type": "MLP", "sizes": ...}: the settings sat beside the type
        architecture = header.get("architecture")
        if isinstance(architecture, dict):
            settings = dict(architecture)
            header["architecture"] = {"type": settings.pop("type", None), "config": settings}
    return header


def _parameter_shapes(header: dict[str, Any]) -> Shapes:
    """name -> (shape, dtype) from the header, every value checked for its type."""
    recorded = header.get("parameters")
    if not isinstance(recorded, dict):
        raise ArchiveError("the header's 'parameters' entry is not an object")
    shapes: Shapes = {}
    for name, spec in recorded.items():
        if header["format_version"] == 1:
            shape, dtype_name = spec, None
        elif isinstance(spec, dict) and set(spec) == {"shape", "dtype"}:
            shape, dtype_name = spec["shape"], spec["dtype"]
        else:
            raise ArchiveError(f"the header describes parameter {name!r} as {shorten(spec)}, not {{'shape', 'dtype'}}")
        if not isinstance(shape, list) or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape):
            raise ArchiveError(f"the header gives parameter {name!r} the shape {shorten(shape)}, not a list of sizes")
        shapes[name] = (tuple(shape), None if dtype_name is None else _float_dtype(name, dtype_name))
    return shapes


def _float_dtype(name: str, dtype_name: Any) -> np.dtype:
    try:
        dtype = np.dtype(dtype_name) if isinstance(dtype_name, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ArchiveError(f"the header gives parameter {name!r} the dtype {shorten(dtype_name)}, not a float type")
    return dtype


def _check_members(archive: Archive, shapes: Shapes) -> None:
    """Every member must be a listed parameter with the listed shape and a float dtype, and vice versa."""
    for key, member in archive.members.items():
        if key == HEADER_KEY:
            continue
        if key not in shapes:
            raise ArchiveError(f"entry {key!r} is not a parameter listed in the header")
        shape, dtype = shapes[key]
        if member.shape != shape:
            raise ArchiveError(f"parameter {key!r} has shape {member.shape} but the header records {shape}")
        if member.dtype.kind != "f" or (dtype is not None and member.dtype != dtype):
            expected = "floats" if dtype is None else str(dtype)
            raise ArchiveError(f"parameter {key!r} has dtype {member.dtype}, expected {expected}")
    if missing := [name for name in shapes if name not in archive.members]:
        raise ArchiveError(f"parameters {missing} listed in the header are missing from the archive")


def _build(architecture: Any, shapes: Shapes) -> Module:
    """The model the header describes, refused before building if its layers would outgrow the arrays."""
    try:
        planned = parameter_count(architecture)
        held = sum(math.prod(shape) for shape, _ in shapes.values())
        if planned > held:
            amount = f"{planned:,}" if planned < 10 ** 18 else f"about 2^{planned.bit_length() - 1}"
            raise ArchiveError(
                f"the architecture would build {amount} weights but the file holds {held:,}; "
                f"it does not describe these arrays"
            )
        model = build(architecture)
    except ArchitectureError as error:
        raise ArchiveError(str(error)) from None
    except RecursionError:
        raise ArchiveError("the architecture nests modules too deeply") from None
    except MemoryError:
        raise ArchiveError("building the architecture ran out of memory") from None
    differences = _differences({n: p.shape for n, p in model.named_parameters()}, "the architecture",
                               {n: shape for n, (shape, _) in shapes.items()}, "the file")
    if differences:
        raise ArchiveError(f"does not match its architecture: {differences}")
    return model
