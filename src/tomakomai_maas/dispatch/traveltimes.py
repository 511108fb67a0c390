"""The travel-time provider the dispatcher needs, and a matrix implementation for tests.

Any object with ``time_s(i, j)`` and ``dist_m(i, j)`` works (the network layer's
``TravelTimes`` oracle does): both take compact node indices as ints or numpy integer arrays
(broadcast together) and return seconds / metres as floats or float arrays, ``inf`` when
unreachable. The dispatcher assumes ``time_s(i, j) >= 0`` and ``time_s(i, i) == 0``; it does
not need the triangle inequality.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from tomakomai_maas.errors import DispatchError

__all__ = ["TravelTimeProvider", "MatrixTravelTimes"]


@runtime_checkable
class TravelTimeProvider(Protocol):
    """O(1) travel-time/distance look-ups on compact node indices (broadcasting)."""

    def time_s(self, i: Any, j: Any) -> Any: ...

    def dist_m(self, i: Any, j: Any) -> Any: ...


class MatrixTravelTimes:
    """A :class:`TravelTimeProvider` backed by dense ``n x n`` matrices.

    Args:
        time_matrix_s: travel times (s), ``inf`` = unreachable, zero diagonal.
        dist_matrix_m: road distances (m); defaults to zeros.
    """

    def __init__(self, time_matrix_s: Any, dist_matrix_m: Any | None = None) -> None:
        t = np.asarray(time_matrix_s, dtype=np.float64)
        if t.ndim != 2 or t.shape[0] != t.shape[1]:
            raise DispatchError(f"time_matrix_s must be square, got shape {t.shape}")
        if np.isnan(t).any() or (t < 0).any():
            raise DispatchError("time_matrix_s must be >= 0 (inf = unreachable), no NaN")
        if (np.diag(t) != 0).any():
            raise DispatchError("time_matrix_s must have a zero diagonal")
        d = np.zeros_like(t) if dist_matrix_m is None else np.asarray(dist_matrix_m, np.float64)
        if d.shape != t.shape:
            raise DispatchError(f"dist_matrix_m shape {d.shape} != time_matrix_s {t.shape}")
        self._t = t
        self._d = d
        self._t.setflags(write=False)
        self._d.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return int(self._t.shape[0])

    def time_s(self, i: Any, j: Any) -> Any:
        """Travel time (s) from ``i`` to ``j`` (ints or broadcastable int arrays)."""
        return self._t[i, j]

    def dist_m(self, i: Any, j: Any) -> Any:
        """Distance (m) from ``i`` to ``j``."""
        return self._d[i, j]
