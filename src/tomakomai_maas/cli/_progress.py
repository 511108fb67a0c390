"""A small terminal progress bar shared by the commands (no dependency).

``progress_bar("replications", quiet=args.quiet)`` returns a callable ``(done, total)`` or
``None`` when the bar must stay quiet: with ``--quiet``, or when stderr is not a terminal
(CI logs, pipes, files). Library functions take such callables as ``progress=``.

The bar shows ``label [#####.....] done/total  elapsed  ETA``, redraws in place, and ends
its line when ``done == total``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """``bar(done, total)`` redraws the bar; ``bar.set_label(text)`` changes its label."""

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._t0 = time.monotonic()
        self._last = 0.0

    def set_label(self, label: str) -> None:
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        final = total > 0 and done >= total
        if not final and now - self._last < 0.1:  # at most 10 redraws a second
            return
        self._last = now
        frac = done / total if total > 0 else 1.0
        fill = int(self.width * frac)
        elapsed = now - self._t0
        eta = f"  ETA {_fmt(elapsed / done * (total - done))}" if 0 < done < total else ""
        self.stream.write(f"\r  {self.label} [{'#' * fill}{'.' * (self.width - fill)}] "
                          f"{done}/{total}  {_fmt(elapsed)}{eta}\x1b[K")
        if final:
            self.stream.write("\n")
            self._t0 = time.monotonic()  # a reused bar times its next phase afresh
        self.stream.flush()


def _fmt(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def progress_bar(label: str, *, quiet: bool = False, stream: TextIO | None = None
                 ) -> ProgressBar | None:
    """A :class:`ProgressBar` on ``stream`` (stderr), or ``None`` if quiet or not a terminal."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not _isatty(stream):
        return None
    return ProgressBar(label, stream=stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
