"""Scenario schema of the on-demand (DRT) service section ``drt:``.

Owned by the DRT work; imported by :mod:`tomakomai_maas.scenario.schema`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DrtConfig"]


class DrtConfig(BaseModel):
    """On-demand service (placeholder until the DRT item fills it in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
