"""Command-line interface: thin argument parsing over library calls.

``main(argv=None)`` is the single entry point (console script ``tomakomai-maas`` and
``python run_sim.py``). Sub-command groups live in sibling modules, each exposing
``register(subparsers)`` that adds its parsers and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code).

Errors derived from :class:`tomakomai_maas.errors.TomakomaiError` are printed as one clear
message on stderr with exit code 2 (no traceback unless ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from tomakomai_maas.errors import TomakomaiError

__all__ = ["main", "build_parser"]

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
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
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
    level = logging.DEBUG if args.debug else (logging.WARNING if args.quiet else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TomakomaiError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return 130
