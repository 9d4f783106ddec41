"""Rendering: a drawing as a ``graphviz.Digraph`` or as an SVG, PNG, PDF or DOT file.

Both start from the DOT text of :func:`autotensor.viz.to_dot`.  ``graphviz`` (the Python
package) is imported only inside :func:`draw`; :func:`render` runs the Graphviz ``dot``
program itself for SVG/PNG/PDF and needs nothing at all for ``.dot``/``.gv`` files.  When
``dot`` is missing, the error says how to install it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from autotensor.errors import AutotensorError
from autotensor.tensor import Tensor
from autotensor.viz.dot import DOT_FOOTER, DOT_HEADER, DrawingOptions, to_dot

if TYPE_CHECKING:
    import graphviz

#: File extensions ``render`` understands, mapped to the ``dot -T`` format.
RENDER_FORMATS: dict[str, str] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class DotNotFoundError(AutotensorError, RuntimeError):
    """The Graphviz ``dot`` program, needed to render SVG/PNG/PDF, is not installed."""


def _require_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        raise DotNotFoundError(
            "the Graphviz 'dot' program is not on PATH; install Graphviz: Debian/Ubuntu "
            "'sudo apt-get install graphviz' (package graphviz), macOS 'brew install graphviz' "
            "(Homebrew), others https://graphviz.org/download/ -- or use to_dot() / a .dot file, "
            "which need no binary"
        )
    return path


def draw(
    root: Tensor | Iterable[Tensor], *, format: str = "svg", **options: Unpack[DrawingOptions]
) -> graphviz.Digraph:
    """The same drawing as :func:`to_dot` as a ``graphviz.Digraph`` (``.render()``, notebooks).

    ``options`` are those of :func:`to_dot`, and the digraph's ``.source`` is exactly
    ``to_dot(root, **options)``.  Needs the ``graphviz`` Python package
    (``pip install autotensor[viz]``) and, to render, the Graphviz ``dot`` program.
    """
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "autotensor.viz.draw needs the graphviz Python package: pip install autotensor[viz] "
            "(or pip install graphviz); to_dot() works without it"
        ) from error
    _require_dot()
    body = to_dot(root, **options)[len(DOT_HEADER):-len(DOT_FOOTER)]
    return graphviz.Digraph(name="autotensor", format=format, body=[body])


def render(
    root: Tensor | Iterable[Tensor], path: str | os.PathLike[str], **options: Unpack[DrawingOptions]
) -> Path:
    """Write the drawing to ``path``; the extension picks the format (.svg .png .pdf .dot .gv).

    ``options`` are those of :func:`to_dot`.  ``.dot``/``.gv`` need nothing; the others run
    the ``dot`` program.  The file is written to a temporary name in the same directory and
    renamed, so a failed run leaves no partial file behind.  Returns the path written.
    """
    target = Path(path)
    file_format = RENDER_FORMATS.get(target.suffix.lower())
    if file_format is None:
        raise ValueError(
            f"render: cannot tell the format of {str(target)!r}; use one of {', '.join(RENDER_FORMATS)}"
        )
    source = to_dot(root, **options).encode("utf-8")
    if file_format == "dot":
        output = source
    else:
        dot = _require_dot()
        result = subprocess.run([dot, f"-T{file_format}"], input=source, capture_output=True, check=False)
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"render: dot -T{file_format} failed: {message[0] if message else 'no message'}")
        output = result.stdout
    _write_atomically(target, output)
    return target


def _write_atomically(target: Path, content: bytes) -> None:
    directory = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a drawing is an ordinary file
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
