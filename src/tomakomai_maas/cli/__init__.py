"""Command-line interface: thin argument parsing over library calls.

``main(argv=None)`` is the single entry point (console script ``tomakomai-maas`` and
``python run_sim.py``). Sub-command groups live in sibling modules, each exposing
``register(subparsers)`` that adds its parsers and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code).

Errors derived from :class:`tomakomai_maas.errors.TomakomaiError`, and OS errors (a path
that is a file where a folder is needed, no permission, disk full, ...), are printed as one
clear ``error: ...`` message on stderr with exit code 2 (no traceback unless ``--debug``).

Exit codes (the same for every command; README "Exit codes"):

=====  ==========================================================================
0      done; for ``check``, ``validate`` and ``gtfs validate``: everything passed
1      ``check`` found a regression (a KPI outside its band, or not identical with
       ``--exact``); ``validate`` / ``gtfs validate`` found an invalid scenario / feed
2      bad input or usage: unknown option or bad option value (argparse), invalid
       scenario or feed given to a command that needs it, unusable output folder,
       run id taken, unreachable Dask scheduler, OS error reading or writing a file
130    interrupted (Ctrl-C)
=====  ==========================================================================

Logging goes to stderr: warnings by default, ``-v/--verbose`` adds progress notes (INFO),
``--debug`` everything (and tracebacks).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from tomakomai_maas.errors import TomakomaiError

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAIL", "EXIT_BAD_INPUT",
           "EXIT_INTERRUPTED"]

EXIT_OK = 0
EXIT_FAIL = 1  # a check ran and failed (check, validate, gtfs validate)
EXIT_BAD_INPUT = 2  # bad input or usage (also argparse's code)
EXIT_INTERRUPTED = 130

# Modules that contribute sub-commands (each has ``register(subparsers)``).
_COMMAND_MODULES = (
    "tomakomai_maas.cli.run",
    "tomakomai_maas.cli.network",
    "tomakomai_maas.cli.gtfs",
    "tomakomai_maas.cli.calibrate",
    "tomakomai_maas.cli.compare",
    "tomakomai_maas.cli.check",
    "tomakomai_maas.cli.sweep",
    "tomakomai_maas.cli.docs",
    "tomakomai_maas.cli.gis",
)

_KNOWN_COMMANDS = {"run", "network", "gtfs", "validate", "show", "compare", "check", "sweep",
                   "calibrate", "export-gis", "docs", "-h", "--help", "--version"}


def build_parser() -> argparse.ArgumentParser:
    from tomakomai_maas import __version__

    parser = argparse.ArgumentParser(
        prog="tomakomai-maas",
        description="Simulate autonomous buses, fixed-route buses and DRT around Tomakomai Station.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also log progress notes (INFO) on stderr; default: warnings only")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or KPI tables; only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name != modname:
                raise
            continue
        mod.register(sub)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """``tomakomai-maas scenarios/x.yaml`` is short for ``tomakomai-maas run scenarios/x.yaml``."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in _KNOWN_COMMANDS and (
        first.endswith((".yaml", ".yml"))
    ):
        i = argv.index(first)
        return argv[:i] + ["run"] + argv[i:]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(argv))
    level = (logging.DEBUG if args.debug
             else logging.INFO if args.verbose and not args.quiet else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except TomakomaiError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_INPUT
    except OSError as exc:
        if args.debug:
            raise
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return EXIT_INTERRUPTED


def describe_os_error(exc: OSError) -> str:
    """``path: reason`` of an OS error (``README.md/x: Not a directory``), with a hint for the
    usual causes."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = ": ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    hint = ""
    if isinstance(exc, NotADirectoryError):
        hint = " (a part of this path is a file where a folder is needed)"
    elif isinstance(exc, IsADirectoryError):
        hint = " (this is a folder; a file is needed)"
    elif isinstance(exc, PermissionError):
        hint = " (no permission: choose another place, e.g. with -o)"
    return f"{where}: {reason}{hint}" if where else f"{reason}{hint}"
