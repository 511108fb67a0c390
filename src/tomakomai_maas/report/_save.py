"""One helper to write every figure: atomic, parent folders created, format from suffix."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

__all__ = ["save_figure"]

log = logging.getLogger(__name__)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150,
                transparent: bool = False) -> Path:
    """Save ``fig`` to ``path`` (format from the suffix: .png, .pdf, .svg, ...).

    The file is written to a temporary name in the same folder and renamed into place, so a
    failed save never leaves a half-written file or clobbers an existing one.

    Returns:
        The path written.

    Raises:
        ValueError: the suffix is not a format matplotlib can write.
    """
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"cannot save a figure as {out.name!r}: suffix must be one of "
                         f"{', '.join('.' + s for s in sorted(supported))}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", transparent=transparent)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("figure written to %s", out)
    return out
