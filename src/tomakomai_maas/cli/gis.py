"""``tomakomai-maas export-gis RUN_DIR -o FILE.gpkg``: a run's flows, stops, lines, DRT areas
and zone accessibility as GIS layers (see :mod:`tomakomai_maas.report.gis`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export-gis`` command to the main parser."""
    p = sub.add_parser(
        "export-gis", help="export a run to GeoPackage / GeoJSON layers (EPSG:4326)",
        description="Rebuild a run's World from its scenario.resolved.yaml and write the "
                    "layers network_edges (flows), stops, lines, drt_service_areas and zones "
                    "(accessibility) in WGS84.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run folder, e.g. results/<scenario>/<run-id>")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                   help="FILE.gpkg, or a folder for GeoJSON (one <layer>.geojson per layer)")
    p.add_argument("--format", dest="fmt", choices=("gpkg", "geojson"), default=None,
                   help="output format (default: gpkg for a .gpkg suffix, else geojson)")
    z = p.add_mutually_exclusive_group()
    z.add_argument("--zones", type=Path, default=None, metavar="FILE",
                   help="zone file (.csv/.geojson) for the zones layer (default: the "
                        "embedded zones when the run used the embedded network)")
    z.add_argument("--no-zones", action="store_true", help="do not write the zones layer")
    p.add_argument("--departure", action="append", default=None, metavar="HH:MM",
                   help="departure time for zone travel times (repeatable; default: the "
                        "scenario's accessibility.departure_times)")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="cache folder for travel-time tables")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from tomakomai_maas.errors import ScenarioError
    from tomakomai_maas.metrics.access import AccessConfig
    from tomakomai_maas.report.gis import export_gis

    try:  # without --departure: the scenario's own accessibility settings
        access = AccessConfig(departure_times=args.departure) if args.departure else None
    except ValueError as exc:
        raise ScenarioError(f"--departure: {exc}") from None
    zones: Path | bool | None = False if args.no_zones else args.zones
    counts = export_gis(args.run_dir, args.output, fmt=args.fmt, zones=zones,
                        access_config=access, cache_dir=args.cache_dir)
    for name, n in counts.items():
        sys.stdout.write(f"{name:20s} {n:6d} features\n")
    written = args.output
    if (args.fmt or ("gpkg" if args.output.suffix.lower() == ".gpkg" else "geojson")) \
            == "geojson":
        from tomakomai_maas.report.gis import geojson_folder

        written = geojson_folder(args.output)
    sys.stdout.write(f"written: {written}\n")
    return 0
