"""tomakomai-maas: scenario simulation of autonomous buses, fixed buses and DRT in Tomakomai.

Public API (everything else is internal and may change)::

    from tomakomai_maas import load_network, TravelTimes

"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "__version__",
]
