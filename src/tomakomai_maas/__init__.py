"""tomakomai-maas: scenario simulation of autonomous buses, fixed buses and DRT in Tomakomai.

Public API (everything else is internal and may change)::

    from tomakomai_maas import load_scenario, build, simulate, run, compare

    sc = load_scenario("scenarios/av_trial_2023.yaml", overrides=["weather.day=snowfall"])
    world = build(sc)                 # every check happens here, before simulated time
    result = simulate(world, seed=1)  # one replication: event log + tables
    kpis = summarise(result.tables, world)
    out = run(sc, replications=10)    # replications, CIs, results folder

Layers (see docs/DESIGN.md): ``network`` → ``supply`` / ``demand`` → ``scenario.build`` →
``sim`` → ``metrics`` → ``report``; ``cli`` is a thin shell over them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Public names are loaded lazily (PEP 562), so that importing a light layer such as
# ``tomakomai_maas.dispatch`` does not pull in simpy, osmnx or matplotlib.
_EXPORTS = {
    "load_scenario": "tomakomai_maas.scenario.load",
    "build": "tomakomai_maas.scenario.build",
    "World": "tomakomai_maas.world",
    "simulate": "tomakomai_maas.sim",
    "summarise": "tomakomai_maas.metrics.kpi",
    "run": "tomakomai_maas.runner",
    "compare": "tomakomai_maas.metrics.compare",
    "sweep": "tomakomai_maas.metrics.compare",
    "check_summary": "tomakomai_maas.metrics.check",
    "mean_ci": "tomakomai_maas.metrics.stats",
    "paired_difference": "tomakomai_maas.metrics.stats",
    "load_network": "tomakomai_maas.network",
    "TravelTimes": "tomakomai_maas.network",
    "read_feed": "tomakomai_maas.supply.gtfs",
    "write_feed": "tomakomai_maas.supply.gtfs",
    "TomakomaiError": "tomakomai_maas.errors",
    "ScenarioError": "tomakomai_maas.errors",
    "NetworkError": "tomakomai_maas.errors",
    "GTFSError": "tomakomai_maas.errors",
    "DispatchError": "tomakomai_maas.errors",
    "SimulationError": "tomakomai_maas.errors",
    "CheckFailed": "tomakomai_maas.errors",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tomakomai_maas' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from tomakomai_maas.errors import (
        CheckFailed,
        DispatchError,
        GTFSError,
        NetworkError,
        ScenarioError,
        SimulationError,
        TomakomaiError,
    )
    from tomakomai_maas.metrics.check import check_summary
    from tomakomai_maas.metrics.compare import compare, sweep
    from tomakomai_maas.metrics.kpi import summarise
    from tomakomai_maas.metrics.stats import mean_ci, paired_difference
    from tomakomai_maas.network import TravelTimes, load_network
    from tomakomai_maas.runner import run
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario
    from tomakomai_maas.sim import simulate
    from tomakomai_maas.supply.gtfs import read_feed, write_feed
    from tomakomai_maas.world import World

__all__ = [
    "__version__",
    # scenario → world → simulation → results
    "load_scenario",
    "build",
    "World",
    "simulate",
    "summarise",
    "run",
    "compare",
    "sweep",
    "check_summary",
    "mean_ci",
    "paired_difference",
    # data
    "load_network",
    "TravelTimes",
    "read_feed",
    "write_feed",
    # errors
    "TomakomaiError",
    "ScenarioError",
    "NetworkError",
    "GTFSError",
    "DispatchError",
    "SimulationError",
    "CheckFailed",
]
