"""``docs``: generate reference documents (``docs scenarios -o docs/scenarios.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("docs", help="generate reference documentation",
                       description="Generate reference documents from the code.")
    dsub = p.add_subparsers(dest="docs_command", metavar="WHAT", required=True)
    s = dsub.add_parser("scenarios", help="the scenario-file reference (from the schema)",
                        description="Write the scenario-file reference generated from the "
                                    "pydantic schema (every section and field, with examples).")
    s.add_argument("-o", "--out", type=Path, default=None,
                   help="output file, e.g. docs/scenarios.md (default: stdout)")
    s.add_argument("--check", action="store_true",
                   help="exit 1 if --out is not up to date (nothing is written)")
    s.set_defaults(func=_cmd_scenarios)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from tomakomai_maas.scenario.docs import write_or_check

    return write_or_check(args.out, check=args.check)
