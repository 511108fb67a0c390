"""Build generated demand (zones, trip generation, mode choice) for a World."""

from __future__ import annotations

from typing import Any

from tomakomai_maas.errors import ScenarioError

__all__ = ["build_generated_demand"]


def build_generated_demand(sc: Any, ctx: Any, stops: Any, trips: Any, vtypes: Any,
                           problems: list[str]) -> Any:
    """Return a picklable ``sample(rng) -> list[Request]`` (not yet available)."""
    raise ScenarioError(f"{sc.source_file or sc.name}: demand.generated: generated demand is "
                        f"not implemented in this version")
