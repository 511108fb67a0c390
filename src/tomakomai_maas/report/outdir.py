"""The comparison output folder: when ``compare -o DIR`` may write into it, and what it owns.

A comparison writes a fixed set of names into its folder (:data:`OWNED_NAMES`) and lists every
file it wrote in ``comparison.json`` (``files``; run folders under ``scenarios[].run``).
Reusing a folder must not leave an earlier comparison's outputs behind that look like part of
the new report (e.g. ``plots/map_<old scenario>.png``), and must never delete anything else.

* :func:`check_comparison_dir` (called by the CLI *before* any scenario runs): ``DIR`` may be
  missing, empty, or a comparison folder (:func:`is_comparison_dir`); anything else is refused
  with an error naming the folder and what is in it, unless ``force`` (then files with the
  names a comparison writes are overwritten and nothing else is touched).
* :func:`remove_stale_outputs` (called by ``write_comparison`` before it writes): in a
  comparison folder, deletes the files the earlier comparison listed in ``files``, every
  ``plots/*.png``, and the run folders (``runs/<label>/<run>``) of earlier scenarios that are
  not in the new comparison. Paths are only followed inside ``DIR``; a user's own files
  (anything not listed, outside ``plots/*.png``) survive. In a folder that is not a comparison
  folder (``--force``) nothing is deleted.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tomakomai_maas.errors import TomakomaiError

__all__ = ["OWNED_NAMES", "is_comparison_dir", "check_comparison_dir", "remove_stale_outputs"]

log = logging.getLogger(__name__)

#: Top-level names a comparison writes into its folder.
OWNED_NAMES = frozenset({"kpis.csv", "kpis.md", "differences.csv", "changes.csv", "observed.csv",
                         "accessibility.csv", "accessibility_zones.csv", "report.html",
                         "comparison.json", "plots", "runs"})


def _manifest(out: Path) -> dict[str, Any] | None:
    """The earlier ``comparison.json`` of ``out`` if it is one this package wrote."""
    p = out / "comparison.json"
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("files"), list) \
            and isinstance(data.get("scenarios"), list):
        return data
    return None


def is_comparison_dir(path: str | Path) -> bool:
    """``path`` holds an earlier comparison: a ``comparison.json`` written by ``compare``, or
    (an interrupted comparison) only names a comparison writes (:data:`OWNED_NAMES`)."""
    out = Path(path)
    if not out.is_dir():
        return False
    if _manifest(out) is not None:
        return True
    entries = list(out.iterdir())
    return bool(entries) and all(e.name in OWNED_NAMES for e in entries)


def check_comparison_dir(path: str | Path, *, force: bool = False) -> None:
    """Refuse to write a comparison into ``path`` unless it is missing, empty, an earlier
    comparison folder, or ``force`` is set.

    Raises:
        TomakomaiError: ``path`` is a file, or a non-empty folder that is not a comparison
            folder (and not ``force``); the message lists some of its entries.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise TomakomaiError(f"--out {out}: is a file, not a folder; give a folder for the "
                             "comparison's tables, plots and report")
    if force or not out.exists() or is_comparison_dir(out):
        return
    entries = sorted(e.name + ("/" if e.is_dir() else "") for e in out.iterdir())
    if not entries:
        return
    shown = ", ".join(entries[:5]) + (f", ... ({len(entries)} entries)" if len(entries) > 5
                                      else "")
    raise TomakomaiError(
        f"--out {out}: folder exists, is not empty and is not a comparison folder (no "
        f"comparison.json); it holds {shown}. Choose a new or empty folder, or pass --force to "
        "write into it anyway (files named like a comparison's outputs are overwritten, "
        "nothing else is touched)")


def _inside(out: Path, rel: str) -> Path | None:
    """``out / rel`` if it stays inside ``out`` (no ``..``, no absolute path, no symlink out)."""
    if not rel or Path(rel).is_absolute():
        return None
    p = out / rel
    try:
        if not p.resolve().is_relative_to(out.resolve()):
            return None
    except OSError:
        return None
    return p


def remove_stale_outputs(path: str | Path, keep_labels: Iterable[str] = ()) -> list[Path]:
    """Delete what an earlier comparison in ``path`` wrote (see the module docstring); run
    folders of the scenarios in ``keep_labels`` (the new comparison's) are kept. Returns the
    removed paths (sorted)."""
    out = Path(path)
    if not is_comparison_dir(out):
        return []
    removed: list[Path] = []
    old = _manifest(out) or {"files": [], "scenarios": []}
    for rel in old["files"]:
        p = _inside(out, str(rel))
        if p is not None and p.name != "comparison.json" and p.is_file() and not p.is_symlink():
            p.unlink()
            removed.append(p)
    plots = out / "plots"
    if plots.is_dir() and not plots.is_symlink():
        for p in sorted(plots.glob("*.png")):
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
    keep = set(keep_labels)
    for s in old["scenarios"]:
        label = s.get("label") if isinstance(s, dict) else None
        run = s.get("run") if isinstance(s, dict) else None
        if not isinstance(label, str) or label in keep or not isinstance(run, str):
            continue
        folder = _inside(out, f"runs/{label}")
        if folder is None or Path(label).name != label:
            continue
        rdir = folder / Path(run).name
        if rdir.is_dir() and not rdir.is_symlink() and (rdir / "manifest.json").is_file():
            shutil.rmtree(rdir)
            removed.append(rdir)
            try:
                folder.rmdir()  # only when nothing else is left in it
            except OSError:
                pass
    if removed:
        log.info("removed %d file(s)/folder(s) of an earlier comparison in %s", len(removed), out)
    return sorted(removed)
