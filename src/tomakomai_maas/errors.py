"""Exception hierarchy.

Every error a user can cause by bad input is a subclass of :class:`TomakomaiError`
(itself a ``ValueError``), carries a message that names the input (file, field path),
the bad value and what is allowed, and is printed by the CLI without a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

__all__ = [
    "TomakomaiError",
    "NetworkError",
    "ScenarioError",
    "GTFSError",
    "DispatchError",
    "SimulationError",
    "CheckFailed",
    "OutputError",
]


class TomakomaiError(ValueError):
    """Base class for all user-facing errors of tomakomai-maas."""


class NetworkError(TomakomaiError):
    """A road network could not be loaded, built or queried."""


class ScenarioError(TomakomaiError):
    """A scenario file is invalid. ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class GTFSError(TomakomaiError):
    """A GTFS / GTFS-JP feed is missing, malformed or inconsistent."""


class DispatchError(TomakomaiError):
    """A DRT dispatch policy or its input is invalid."""


class SimulationError(TomakomaiError):
    """The simulation could not run (invalid world, inconsistent state)."""


class CheckFailed(TomakomaiError):
    """A regression check found KPIs outside their tolerance band."""


class OutputError(TomakomaiError):
    """Results cannot be written where asked (the output folder is a file, a run id is taken,
    ...). Nothing already written is touched."""
