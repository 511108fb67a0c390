"""Summary figures of a road graph (``network info``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx

__all__ = ["network_info"]


def network_info(G: nx.MultiDiGraph) -> dict[str, Any]:
    """Size and shape of a road graph, as plain JSON-ready data.

    Keys: ``source``; ``nodes``; ``edges`` (directed); ``road_km`` (each road counted once,
    whichever directions it can be driven); ``directed_km`` (sum over directed edges);
    ``bbox`` ``[west, south, east, north]`` in degrees; ``strongly_connected_share`` (share of
    nodes in the largest strongly connected component); ``strong_components``;
    ``weak_components``; ``maxspeed_tagged_share`` (share of edge length whose speed comes
    from a ``maxspeed`` tag rather than an assumed default).
    """
    n = G.number_of_nodes()
    by_pair: dict[tuple[Any, Any], dict[bool, float]] = defaultdict(lambda: {True: 0.0,
                                                                          False: 0.0})
    directed_m = 0.0
    tagged_m = 0.0
    for u, v, d in G.edges(data=True):
        length = float(d.get("length_m", d.get("length", 0.0)))
        directed_m += length
        if d.get("speed_source") == "maxspeed":
            tagged_m += length
        key = (u, v) if repr(u) <= repr(v) else (v, u)
        by_pair[key][key == (u, v)] += length
    road_m = sum(max(d.values()) for d in by_pair.values())
    xs = [float(d["x"]) for _, d in G.nodes(data=True) if "x" in d]
    ys = [float(d["y"]) for _, d in G.nodes(data=True) if "y" in d]
    if n:
        largest = max((len(c) for c in nx.strongly_connected_components(G)), default=0)
        n_strong = nx.number_strongly_connected_components(G)
        n_weak = nx.number_weakly_connected_components(G)
    else:
        largest = n_strong = n_weak = 0
    return {
        "source": str(G.graph.get("source", "")),
        "nodes": n,
        "edges": G.number_of_edges(),
        "road_km": round(road_m / 1000.0, 3),
        "directed_km": round(directed_m / 1000.0, 3),
        "bbox": [round(min(xs), 6), round(min(ys), 6), round(max(xs), 6), round(max(ys), 6)]
        if xs and ys else None,
        "strongly_connected_share": round(largest / n, 4) if n else 0.0,
        "strong_components": n_strong,
        "weak_components": n_weak,
        "maxspeed_tagged_share": round(tagged_m / directed_m, 4) if directed_m else 0.0,
    }
