"""Scenario schema of generated demand and MaaS mode choice (``demand.generated``, ``maas``).

Owned by the demand & MaaS work; imported by :mod:`tomakomai_maas.scenario.schema`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["GeneratedDemandConfig", "MaasConfig"]


class GeneratedDemandConfig(BaseModel):
    """Zone-based generated demand (placeholder until the demand item fills it in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MaasConfig(BaseModel):
    """MaaS levers and mode-choice settings (placeholder until the demand item fills it in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
