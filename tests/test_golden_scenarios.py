"""CI regression check: every shipped scenario against its golden (tests/golden/<stem>.json).

Each ``scenarios/*.yaml`` (new ones are discovered) is run with its golden's ``--set``
overrides (a short service horizon), seed and ``check_replications`` (5), and its KPIs must
lie within the golden's tolerance bands (``tomakomai_maas.metrics.check``: pooled
replication variance, family-wise false-alarm rate 1%). The same replication seeds as the
golden's first five are used, so the outcome is deterministic for given code.

Regenerate goldens explicitly when a change is intended: ``python tools/update_goldens.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tomakomai_maas.metrics.check import (
    check_summary,
    format_report,
    load_golden,
    scenario_differences,
)
from tomakomai_maas.runner import run
from tomakomai_maas.scenario.load import load_scenario, resolved_dict

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_scenarios_are_discovered() -> None:
    assert SCENARIOS, "no scenarios/*.yaml found"


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_matches_its_golden(path: Path, tmp_path: Path) -> None:
    stem = path.stem
    golden_path = GOLDEN_DIR / f"{stem}.json"
    if not golden_path.is_file():
        pytest.fail(f"no golden for {stem}: run python tools/update_goldens.py {stem} "
                    f"(and commit tests/golden/{stem}.json)")
    golden = load_golden(golden_path)
    sc = load_scenario(path, golden.get("overrides", []))
    # a field the golden's scenario lacks is a schema field added since (with its default):
    # the KPI check below decides whether it changed anything
    changed = scenario_differences(resolved_dict(sc), golden, ignore_new_fields=True)
    if changed:
        fields = ", ".join(p for p, _, _ in changed[:8]) + (" ..." if len(changed) > 8 else "")
        pytest.fail(f"scenarios/{stem}.yaml changed since its golden was made ({fields}): "
                    f"run python tools/update_goldens.py {stem}")
    out = run(sc, replications=int(golden.get("check_replications", 5)),
              seed=golden.get("seed"), out_root=tmp_path, run_id="ci", workers=1,
              write_tables=False)
    report = check_summary(out.summary, golden)
    assert report.passed, (
        format_report(report, show="moved")
        + f"\nIf this change of the model is intended: python tools/update_goldens.py {stem}")
