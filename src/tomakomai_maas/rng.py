"""Named, seeded random streams (no global random state).

One scenario seed gives independent generators per named stream ("demand", "dwell",
"links", "av_faults", "weather", "drt", ...). A stream depends only on ``(seed, name)``,
so adding a new stream never changes the draws of existing ones, and two scenarios with the
same seed and demand settings draw the same demand (common random numbers).

Replication ``i`` of a scenario with seed ``s`` uses seed ``replication_seed(s, i) = s + i``.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream", "replication_seed", "STREAM_NAMES"]

STREAM_NAMES = ("demand", "dwell", "links", "av_faults", "weather", "drt", "choice")


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator of stream ``name`` for ``seed`` (stable across versions)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed), key]))


def replication_seed(seed: int, replication: int) -> int:
    """Seed of replication ``replication`` (0-based) of a scenario with seed ``seed``."""
    return int(seed) + int(replication)
