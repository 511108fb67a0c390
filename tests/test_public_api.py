"""The public face stays small and documented (simpy keeps docs and API in step)."""

from __future__ import annotations

import subprocess
import sys

import tomakomai_maas


def test_all_names_exist_and_are_documented() -> None:
    doc = tomakomai_maas.__doc__ or ""
    for name in tomakomai_maas.__all__:
        assert hasattr(tomakomai_maas, name), name
        obj = getattr(tomakomai_maas, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    for name in ("load_scenario", "build", "simulate", "summarise", "run", "compare"):
        assert name in doc


def test_all_matches_lazy_exports() -> None:
    assert set(tomakomai_maas.__all__) == set(tomakomai_maas._EXPORTS) | {"__version__"}


def test_only_sim_imports_simpy() -> None:
    """DESIGN.md: the sim package is the only layer that imports simpy."""
    code = ("import sys, tomakomai_maas.dispatch, tomakomai_maas.demand, "
            "tomakomai_maas.network, tomakomai_maas.supply, tomakomai_maas.journey, "
            "tomakomai_maas.metrics.stats; print('simpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_main_runs_without_args() -> None:
    from tomakomai_maas.cli import main

    assert main([]) == 2  # prints help, exit 2 without a command
