"""Road network layer: loading OSM, speeds, snapping and the ``TravelTimes`` oracle.

Knows nothing about buses or passengers. Public API::

    from tomakomai_maas.network import load_network, TravelTimes, SpeedSettings

    G = load_network()                      # embedded central Tomakomai (offline)
    tt = TravelTimes(G, cache_dir=None)     # float32 tables, O(1) look-ups
    i, snap_m = tt.snap(42.6398, 141.5968)  # JR Tomakomai Station
    tt.time_s(i, j), tt.dist_m(i, j), tt.path(i, j)
"""

from __future__ import annotations

from tomakomai_maas.network.info import network_info
from tomakomai_maas.network.landmarks import LANDMARK_DTYPES, load_landmarks
from tomakomai_maas.network.load import DEFAULT_SOURCE, EMBEDDED_NETWORKS, load_network
from tomakomai_maas.network.online import default_cache_dir
from tomakomai_maas.network.oracle import TravelTimes
from tomakomai_maas.network.speeds import DEFAULT_SPEED_KPH, SpeedSettings, parse_maxspeed
from tomakomai_maas.network.synthetic import grid_network

__all__ = [
    "load_network",
    "SpeedSettings",
    "DEFAULT_SPEED_KPH",
    "TravelTimes",
    "load_landmarks",
    "network_info",
    "parse_maxspeed",
    "LANDMARK_DTYPES",
    "DEFAULT_SOURCE",
    "EMBEDDED_NETWORKS",
    "default_cache_dir",
    "grid_network",
]
