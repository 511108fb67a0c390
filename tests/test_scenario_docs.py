"""docs/scenarios.md is generated from the schema and kept in step with it."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field

from tomakomai_maas.cli import main
from tomakomai_maas.scenario import docs
from tomakomai_maas.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scenarios.md"


def test_committed_reference_is_up_to_date() -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert current == docs.scenario_reference(), (
        f"docs/scenarios.md is out of date with the scenario schema: run {docs.COMMAND}")


def _all_fields(model: type[BaseModel], path: str = "") -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        if name == "source_file":
            continue
        out.append(f"{path}{name}")
        sub = docs._model_in(f.annotation)
        if sub is not None:
            out += _all_fields(sub, f"{path}{name}.")
    return out


def test_every_field_and_section_is_documented() -> None:
    text = docs.scenario_reference()
    for dotted in _all_fields(Scenario):
        name = dotted.rsplit(".", 1)[-1]
        assert f"| `{name}` |" in text or f"## {name}" in text, dotted
    for name, f in Scenario.model_fields.items():
        if docs._model_in(f.annotation) is not None:
            assert f"\n## {name}\n" in text
            assert re.search(rf"```yaml\n(#[^\n]*\n)?{name}:", text), f"no example of {name}"


def _minimal() -> dict:
    return {"name": "x", "service": {"date": "2025-10-01"}}


@pytest.mark.parametrize("section", sorted(docs.EXAMPLES))
def test_worked_examples_validate_against_the_schema(section: str) -> None:
    data = yaml.safe_load(docs.EXAMPLES[section])
    data.pop("extends", None)  # handled by the loader, not the schema
    merged = {**_minimal(), **data}
    Scenario.model_validate(merged)


def test_every_section_has_an_example_and_docstring_examples_validate() -> None:
    for name, f in Scenario.model_fields.items():
        model = docs._model_in(f.annotation)
        if model is None or name in docs.EXAMPLES:
            continue
        data = yaml.safe_load(docs.section_example(name))
        assert list(data) == [name]
        if docs.docstring_example(name, model) is not None:  # an author's worked example
            Scenario.model_validate({**_minimal(), **data})


class _FleetConfig(BaseModel):
    """A new on-demand fleet section (test)."""

    fleet_size: int = Field(4, ge=1, description="Vehicles in service.")
    area: str = Field(description="Service area name.")
    mode: typing.Literal["door_to_door", "stop_based"] = "stop_based"


class _Future(Scenario):
    new_fleet: _FleetConfig | None = Field(None, description="A section added later.")


def test_a_new_section_is_documented_without_touching_the_generator() -> None:
    text = docs.scenario_reference(_Future)
    assert "- [`new_fleet:`](#new_fleet)" in text
    assert "\n## new_fleet\n" in text and "A section added later." in text
    assert "| `fleet_size` | integer | `4` | ≥ 1 | Vehicles in service. |" in text
    assert "| `area` | string | **required** |  | Service area name. |" in text
    assert "one of `door_to_door`, `stop_based`" in text
    example = yaml.safe_load(docs.section_example("new_fleet", _Future))
    _Future.model_validate({**_minimal(), **example})
    assert docs.scenario_reference(_Future) != docs.scenario_reference()


def test_cli_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scenarios.md"
    assert main(["docs", "scenarios", "-o", str(out), "--check"]) == 1
    assert docs.COMMAND in capsys.readouterr().err
    assert main(["docs", "scenarios", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == docs.scenario_reference()
    assert main(["docs", "scenarios", "-o", str(out), "--check"]) == 0
    assert docs.main(["-o", str(out), "--check"]) == 0
