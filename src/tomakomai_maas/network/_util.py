"""Small internal helpers shared by the network modules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


@contextlib.contextmanager
def osmnx_settings(**values: Any) -> Iterator[None]:
    """Temporarily set ``osmnx.settings`` values and restore them afterwards."""
    import osmnx as ox

    old = {k: getattr(ox.settings, k) for k in values}
    for k, v in values.items():
        setattr(ox.settings, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in metres (numpy-vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
