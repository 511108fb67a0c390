"""``gtfs info`` and ``gtfs validate``: look at and check GTFS / GTFS-JP feeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tomakomai_maas.errors import GTFSError
from tomakomai_maas.supply.gtfs import feed_summary, read_feed

__all__ = ["register", "format_summary"]


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gtfs", help="inspect and validate GTFS / GTFS-JP feeds",
                       description="Inspect and validate GTFS / GTFS-JP feeds (folders or zips).")
    gsub = g.add_subparsers(dest="gtfs_command", metavar="GTFS_COMMAND")
    g.set_defaults(func=lambda args: _no_command(g))

    i = gsub.add_parser("info", help="agencies, routes, trips per service day, stops, dates")
    i.add_argument("feed", type=Path, help="feed folder or .zip")
    i.set_defaults(func=_cmd_info)

    v = gsub.add_parser("validate", help="report every problem of one or more feeds "
                                         "(exit 1 if any feed is invalid)")
    v.add_argument("feeds", type=Path, nargs="+", help="feed folders or .zip files")
    v.set_defaults(func=_cmd_validate)


def _no_command(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def format_summary(summary: dict) -> str:
    """Human-readable text of :func:`tomakomai_maas.supply.gtfs.feed_summary`."""
    lines = [f"feed:         {summary['source']}",
             f"agencies:     {', '.join(summary['agencies'])}",
             f"stops:        {summary['stops']}",
             f"trips:        {summary['trips']}"]
    if summary["first_date"]:
        lines.append(f"service:      {summary['first_date']} .. {summary['last_date']} "
                     f"({summary['service_days']} service days)")
        tpd = summary["trips_per_day"]
        lines.append(f"trips/day:    min {tpd['min']}, mean {tpd['mean']}, max {tpd['max']}")
        lines.append("by weekday:   " + ", ".join(
            f"{w[:3]} {n:g}" for w, n in summary["trips_by_weekday"].items()))
    else:
        lines.append("service:      no service days")
    lines.append(f"routes ({len(summary['routes'])}):")
    for r in summary["routes"]:
        name = " ".join(x for x in (r["short_name"], r["long_name"]) if x)
        lines.append(f"  {r['route_id']:<16} {name}  (route_type {r['route_type']}, "
                     f"{r['trips']} trips)")
    return "\n".join(lines)


def _cmd_info(args: argparse.Namespace) -> int:
    feed = read_feed(args.feed)
    sys.stdout.write(format_summary(feed_summary(feed)) + "\n")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.feeds:
        try:
            feed = read_feed(path)
        except GTFSError as exc:
            failed += 1
            sys.stderr.write(f"FAIL {path}\n{exc}\n")
            continue
        sys.stdout.write(f"ok   {path} ({len(feed.routes)} routes, {len(feed.trips)} trips, "
                         f"{len(feed.stops)} stops)\n")
    if failed:
        sys.stderr.write(f"{failed} of {len(args.feeds)} feed(s) invalid\n")
        return 1
    return 0
