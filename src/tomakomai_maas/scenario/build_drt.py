"""Build the on-demand (DRT) part of a World from the scenario's ``drt:`` section."""

from __future__ import annotations

from typing import Any

from tomakomai_maas.errors import ScenarioError

__all__ = ["build_drt"]


def build_drt(sc: Any, ctx: Any, stops: Any, vtypes: Any, problems: list[str]) -> Any:
    """Validate the ``drt:`` section and return the World's DRT service (not yet available)."""
    raise ScenarioError(f"{sc.source_file or sc.name}: drt: on-demand service is not "
                        f"implemented in this version")
