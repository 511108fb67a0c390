"""``tomakomai-maas network info|plot|fetch``: look at and fetch road networks."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from tomakomai_maas.errors import NetworkError

__all__ = ["register"]

log = logging.getLogger(__name__)

_SOURCE_HELP = ("road network: 'embedded:tomakomai-central' (default), an OSM XML or GraphML "
                "file, 'place:<name>' or 'lat,lon,radius_m' (online, cached)")


def _add_common(p: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        p.add_argument("source", nargs="?", default="embedded:tomakomai-central",
                       metavar="SOURCE", help=_SOURCE_HELP)
        p.add_argument("--keep-largest-scc", action="store_true",
                       help="keep only the largest strongly connected component")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="cache folder for online downloads (default $TOMAKOMAI_MAAS_CACHE "
                        "or ~/.cache/tomakomai-maas)")
    p.add_argument("--timeout-s", type=float, default=10.0, metavar="S",
                   help="give up after S seconds when the OSM servers cannot be reached "
                        "(default 10)")


def register(subparsers: Any) -> None:
    """Add the ``network`` command group to the main parser."""
    net = subparsers.add_parser("network", help="inspect, plot or download road networks",
                                description="Inspect, plot or download road networks.")
    sub = net.add_subparsers(dest="network_command", metavar="ACTION")
    net.set_defaults(func=lambda args: _no_action(net))

    info = sub.add_parser("info", help="nodes, edges, km of road, bbox, connectivity")
    _add_common(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    plot = sub.add_parser("plot", help="draw the network with landmarks to an image")
    _add_common(plot)
    plot.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="image file to write (.png, .pdf, .svg)")
    plot.add_argument("--lang", choices=("ja", "en"), default="ja",
                      help="label language (ja: Japanese over English; default ja)")
    plot.add_argument("--landmarks", default=None, metavar="CSV",
                      help="landmarks CSV (default: the package's landmarks)")
    plot.add_argument("--no-landmarks", action="store_true", help="draw roads only")
    plot.add_argument("--dpi", type=int, default=150)
    plot.set_defaults(func=cmd_plot)

    fetch = sub.add_parser("fetch", help="download a network from OpenStreetMap and cache it",
                           description="Download the drivable network of a place (or "
                                       "'lat,lon,radius_m') with osmnx and cache it as GraphML.")
    fetch.add_argument("place", metavar="PLACE",
                       help="place name (e.g. 'Tomakomai, Hokkaido, Japan') or 'lat,lon,radius_m'")
    _add_common(fetch, source=False)
    fetch.add_argument("--refresh", action="store_true", help="download even if cached")
    fetch.set_defaults(func=cmd_fetch)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(args: argparse.Namespace, source: str, *, strict: bool) -> Any:
    from tomakomai_maas.network import load_network

    return load_network(source, cache_dir=args.cache_dir, timeout_s=args.timeout_s,
                        keep_largest_scc=getattr(args, "keep_largest_scc", False),
                        allow_disconnected=not strict,
                        refresh=getattr(args, "refresh", False))


def format_info(info: dict[str, Any]) -> str:
    """Human-readable lines for :func:`tomakomai_maas.network.network_info`."""
    bbox = info["bbox"]
    rows = [
        ("source", info["source"]),
        ("nodes", f"{info['nodes']:,}"),
        ("edges", f"{info['edges']:,}"),
        ("road km", f"{info['road_km']:,.2f} (directed edges: {info['directed_km']:,.2f} km)"),
        ("bbox W,S,E,N", ", ".join(f"{v:.5f}" for v in bbox) if bbox else "-"),
        ("strongly connected", f"{info['strongly_connected_share']:.1%} of nodes in the largest "
                               f"component ({info['strong_components']} component(s))"),
        ("maxspeed tagged", f"{info['maxspeed_tagged_share']:.1%} of edge length "
                            "(rest: assumed defaults by road class)"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def cmd_info(args: argparse.Namespace) -> int:
    from tomakomai_maas.network import network_info

    info = network_info(_load(args, args.source, strict=False))
    if args.json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(format_info(info) + "\n")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from tomakomai_maas.network import load_landmarks
    from tomakomai_maas.report._save import save_figure
    from tomakomai_maas.report.network_map import plot_network

    G = _load(args, args.source, strict=False)
    landmarks = None
    if not args.no_landmarks:
        try:
            landmarks = load_landmarks(args.landmarks)
        except NetworkError as exc:
            if args.landmarks is not None:
                raise
            log.warning("drawing without landmarks: %s", exc)
    fig, _ = plot_network(G, landmarks=landmarks, lang=args.lang)
    try:
        out = save_figure(fig, args.output, dpi=args.dpi)
    except ValueError as exc:
        raise NetworkError(f"--output {args.output}: {exc}") from exc
    sys.stdout.write(f"wrote {out}\n")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from tomakomai_maas.network import network_info
    from tomakomai_maas.network.load import parse_online

    query = parse_online(args.place)
    G = _load(args, query.label, strict=False)
    info = network_info(G)
    hit = "cache hit" if G.graph.get("cache_hit") else "downloaded"
    sys.stdout.write(f"{hit}: {G.graph.get('cache_file')}\n{format_info(info)}\n")
    return 0
