"""Generate ``docs/scenarios.md``, the scenario-file reference, from the pydantic schema.

Run ``tomakomai-maas docs scenarios -o docs/scenarios.md`` (or
``python -m tomakomai_maas.scenario.docs -o docs/scenarios.md``) after changing the schema;
a test regenerates the text and fails if the committed file differs.

Every field of every section is listed with its type, default, constraints and description,
read from :class:`~tomakomai_maas.scenario.schema.Scenario` by introspection, so a new section
(``drt:``, ...) or field appears without touching this module. Each top-level section gets
one worked YAML example: a hand-written one from :data:`EXAMPLES`, else one written in the
docstring of the section's schema module or model (a literal block starting ``<section>:``;
tests validate both kinds against the schema), else a sketch made from the defaults.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import sys
import textwrap
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tomakomai_maas.scenario.schema import Scenario

__all__ = ["scenario_reference", "section_example", "docstring_example", "EXAMPLES", "COMMAND",
           "write_or_check", "FALLBACK_DESCRIPTIONS", "main"]

COMMAND = "tomakomai-maas docs scenarios -o docs/scenarios.md"
_HIDDEN_FIELDS = {"source_file"}
_TIME_PATTERN = r"^\d{1,2}:[0-5]\d(:[0-5]\d)?$"

#: Hand-written worked examples (YAML text) per top-level section; "" = the top-level fields.
EXAMPLES: dict[str, str] = {
    "": """\
name: av_trial_2023_snow        # used in result paths
title: 自動運転バス 降雪日
description: The 2023 trial line on a snowy day.
extends: av_trial_2023.yaml     # inherit everything else (paths relative to this file)
assumptions:
  - "Takeover rates in snowfall are assumed (no published counts)."
seed: 7
replications: 20
""",
    "network": """\
network:
  source: embedded:tomakomai-central   # or my_extract.osm, or "place:Tomakomai, Hokkaido"
  max_snap_m: 60
  speed_factor: 1.0
""",
    "service": """\
service:
  date: 2025-10-01
  day_type: weekday
  start_time: "05:00"     # quote times: YAML reads 05:00 unquoted as a number
  end_time: "21:30"
  calendar:
    start_date: 2025-04-01
    end_date: 2026-03-31
    weekdays: [mon, tue, wed, thu, fri]
    exclude_dates: [2025-12-31]
""",
    "vehicle_types": """\
vehicle_types:
  av_arma_2023:
    preset: av_navya_arma
    takeover_rate_per_km: 0.1       # assumed
    takeover_penalty_s: 20
  small_ev_bus:
    capacity: 25
    powertrain: ev
    energy_kwh_per_km: 0.6
    battery_kwh: 120
""",
    "lines": """\
lines:
  - gtfs: ../gtfs/tomakomai_av_trial_2023
    vehicle_type: av_arma_2023
    service_date: 2023-09-20          # replay the 2023 timetable on the simulated day
  - gtfs: ../gtfs/donan_city_subset
    routes: [donan_15, donan_25]
    vehicle_type: diesel_city_bus
""",
    "operations": """\
operations:
  dwell_fixed_s: 10
  dwell_per_boarding_s: 3
  dwell_per_alighting_s: 2
  holding: true
  patience_min: 30
  link_time_cv: 0.1
  speed_factor_by_hour: {7: 0.85, 8: 0.85, 17: 0.85}
""",
    "weather": """\
weather:
  day: snowfall
  hourly: {6: heavy_snowfall, 7: heavy_snowfall}
  states:
    snowfall:
      takeover_multiplier: 4.0
""",
    "demand": """\
demand:
  scale: 1.5
  stop_rates:
    - {from_stop: av23_01, to_stop: av23_07, per_day: 20, start_time: "09:30", end_time: "14:40"}
    - {from_stop: av23_07, to_stop: av23_01, per_hour: 4, arrival: random}
""",
    "journey": """\
journey:
  walk_speed_kph: 4.3
  max_walk_m: 600
  max_transfers: 1
  wait_weight: 2.5
  transfer_penalty_min: 8
""",
    "energy": """\
energy:
  grid_kg_co2_per_kwh: 0.55   # assumed; cite a source for a study
  diesel_kg_co2_per_l: 2.58
""",
    "output": """\
output:
  dir: ../results
  table_format: parquet
""",
}


#: Descriptions for schema fields that have none (the schema's own description wins).
#: Keys are field paths as in the reference (``section.field``, ``a.b[].c``, ``a.<name>.c``).
FALLBACK_DESCRIPTIONS: dict[str, str] = {
    "title": "Human-readable title (plots and reports).",
    "description": "Free text: what the scenario represents.",
    "seed": "Base seed; replication i uses seed + i (common random numbers across scenarios).",
    "replications": "Replications (simulated days) per run; --replications overrides it.",
    "service.day_type": "Kind of day simulated.",
    "service.start_time": "Start of the service window.",
    "service.end_time": "End of the service window (may exceed 24:00 as in GTFS).",
    "service.calendar.start_date": "First day of the operating period.",
    "service.calendar.end_date": "Last day of the operating period (inclusive).",
    "service.calendar.weekdays": "Weekdays on which the service operates.",
    "service.calendar.exclude_dates": "Dates without service (holidays, ...).",
    "service.calendar.include_dates": "Extra service dates outside the weekday pattern.",
    "vehicle_types.<name>.capacity": "Passengers (standing + seated, excluding the operator).",
    "vehicle_types.<name>.powertrain": "Energy source: electricity or diesel.",
    "vehicle_types.<name>.cruise_speed_kph": "Speed cap (e.g. 20 for the NAVYA ARMA trial).",
    "vehicle_types.<name>.automation_level": "SAE level: 0 driver, 2 operator on board, "
                                             "4 remote supervision.",
    "vehicle_types.<name>.energy_kwh_per_km": "Electricity per km (EV).",
    "vehicle_types.<name>.fuel_l_per_km": "Diesel per km.",
    "vehicle_types.<name>.battery_kwh": "Usable battery (EV); state of charge is reported.",
    "vehicle_types.<name>.takeover_rate_per_km": "Manual takeovers per km in clear weather "
                                                 "(automated vehicles).",
    "vehicle_types.<name>.takeover_penalty_s": "Time lost per takeover.",
    "vehicle_types.<name>.sudden_stop_rate_per_km": "Sudden stops per km in clear weather.",
    "vehicle_types.<name>.sudden_stop_penalty_s": "Time lost per sudden stop.",
    "operations.dwell_fixed_s": "Dwell time of every stop with boardings or alightings.",
    "operations.dwell_per_boarding_s": "Extra dwell per boarding passenger.",
    "operations.dwell_per_alighting_s": "Extra dwell per alighting passenger.",
    "operations.holding": "Never depart a timepoint before its scheduled time.",
    "operations.on_time_early_min": "A departure up to this early counts as on time.",
    "operations.on_time_late_min": "A departure up to this late counts as on time.",
    "operations.patience_min": "A waiting passenger gives up after this long in total.",
    "operations.link_time_cv": "Coefficient of variation of stop-to-stop times (lognormal); "
                               "0 = deterministic.",
    "weather.day": "Weather state of the whole day.",
    "weather.hourly": "Hour (0-23) → weather state, overriding `day` for that hour.",
    "weather.states": "Override the assumed effect of a weather state.",
    "weather.states.<name>.speed_factor": "Multiplies road speeds (0.8 = 20% slower).",
    "weather.states.<name>.takeover_multiplier": "Multiplies AV takeover rates.",
    "weather.states.<name>.sudden_stop_multiplier": "Multiplies AV sudden-stop rates.",
    "weather.states.<name>.suspend_autonomous": (
        "Cancel automated vehicles' trips; autonomous DRT vehicles carry no rider and wait at "
        "their depot (bookings they cannot give: suspended_weather)."),
    "demand.stop_rates": "Stop-to-stop Poisson demand.",
    "demand.stop_rates[].from_stop": "Boarding stop (a stop_id of the lines' feeds).",
    "demand.stop_rates[].to_stop": "Alighting stop (a stop_id of the lines' feeds).",
    "demand.stop_rates[].per_hour": "Wishes to travel per hour (give this or per_day).",
    "demand.stop_rates[].start_time": "Wishes to travel arise from this time ...",
    "demand.stop_rates[].end_time": "... until this time.",
    "demand.stop_rates[].arrival_margin_min": "With arrival: timetable, how long before "
                                              "the departure passengers reach the stop.",
    "journey.walk_speed_kph": "Walking speed.",
    "journey.max_walk_m": "Longest walk to or from a stop.",
    "journey.max_transfers": "Most transfers in an itinerary.",
    "journey.walk_weight": "Generalised-cost weight of walking time (per minute).",
    "journey.wait_weight": "Generalised-cost weight of waiting time.",
    "journey.ivt_weight": "Generalised-cost weight of in-vehicle time.",
    "journey.transfer_penalty_min": "Generalised-cost penalty per transfer (minutes).",
    "journey.max_transfer_walk_m": "Longest walk between two stops to transfer.",
    "energy.grid_kg_co2_per_kwh": "CO2 per kWh of grid electricity (assumed default).",
    "energy.diesel_kg_co2_per_l": "CO2 per litre of diesel (assumed default).",
    "output.table_format": "Format of the result tables.",
}


# ----------------------------------------------------------------------------- types

def _model_in(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        m = _model_in(a)
        if m is not None:
            return m
    return None


def _type_str(ann: Any, meta: Sequence[Any] = ()) -> str:
    pattern = next((getattr(m, "pattern", None) for m in meta if getattr(m, "pattern", None)),
                   None)
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_str(args[0], [*meta, *args[1:]])
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        s = " or ".join(_type_str(a, meta) for a in non_none)
        return s + " or null" if len(non_none) < len(args) else s
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (list, tuple, set, Sequence):
        return f"list of {_type_str(args[0]) if args else 'values'}"
    if origin is dict:
        return f"mapping {_type_str(args[0])} → {_type_str(args[1])}"
    if isinstance(ann, type):
        if issubclass(ann, BaseModel):
            return "section"
        if issubclass(ann, enum.Enum):
            return "one of " + ", ".join(f"`{e.value}`" for e in ann)
        if issubclass(ann, bool):
            return "boolean"
        if issubclass(ann, int):
            return "integer"
        if issubclass(ann, float):
            return "number"
        if issubclass(ann, str):
            if pattern == _TIME_PATTERN:
                return 'time "HH:MM[:SS]"'
            return "string"
        if issubclass(ann, Path):
            return "path"
        if issubclass(ann, dt.datetime):
            return "date-time"
        if issubclass(ann, dt.date):
            return "date YYYY-MM-DD"
    if ann is Any:
        return "any"
    return str(ann).replace("typing.", "")


def _constraints(f: FieldInfo) -> str:
    out = []
    symbols = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"), ("multiple_of", "multiple of"),
               ("min_length", "min length"), ("max_length", "max length"))
    for m in f.metadata:
        for attr, sym in symbols:
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {v}")
        pat = getattr(m, "pattern", None)
        if pat and pat != _TIME_PATTERN:
            out.append(f"matches `{pat}`")
    return ", ".join(out)


def _yamlish(v: Any) -> str:
    if isinstance(v, BaseModel):
        return "(defaults of its fields)"
    if isinstance(v, enum.Enum):
        v = v.value
    if v is None:
        return "`null`"
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    if isinstance(v, str):
        return f'`"{v}"`' if v else '`""`'
    if isinstance(v, Path | dt.date):
        return f"`{v}`"
    if isinstance(v, list | tuple | dict):
        return f"`{json.dumps(v, ensure_ascii=False, default=str)}`"
    return f"`{v}`"


def _default(f: FieldInfo) -> str:
    if f.default_factory is not None:
        return _yamlish(f.default_factory())  # type: ignore[call-arg]
    if f.default is PydanticUndefined:
        return "**required**"
    return _yamlish(f.default)


def _cell(s: str) -> str:
    return " ".join(str(s).split()).replace("|", "\\|")


def _doc(model: type[BaseModel]) -> str:
    d = model.__doc__ or ""
    return " ".join(d.split())


# ----------------------------------------------------------------------------- sections

def _sections(root: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    return [(n, f) for n, f in root.model_fields.items()
            if n not in _HIDDEN_FIELDS and _model_in(f.annotation) is not None]


def _sub_path(path: str, name: str, ann: Any) -> str:
    """Path of a nested section: ``a.b``, ``a.list[]`` or ``a.mapping.<name>``."""
    origin = typing.get_origin(ann)
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        origin = typing.get_origin(args[0])
    suffix = "[]" if origin is list else (".<name>" if origin is dict else "")
    return f"{path}.{name}{suffix}" if path else f"{name}{suffix}"


def _nested(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
    """``(path, model)`` of ``model`` and every model nested in it, depth first."""
    out = [(path, model)]
    for name, f in model.model_fields.items():
        if name in _HIDDEN_FIELDS:
            continue
        sub = _model_in(f.annotation)
        if sub is not None:
            out.extend(_nested(sub, _sub_path(path, name, f.annotation)))
    return out


def _description(f: FieldInfo, path: str) -> str:
    return f.description or FALLBACK_DESCRIPTIONS.get(path, "")


def _field_table(model: type[BaseModel], path: str) -> list[str]:
    fields = [(n, f) for n, f in model.model_fields.items() if n not in _HIDDEN_FIELDS]
    if not fields:
        return ["*(no fields yet)*"]
    rows = ["| field | type | default | constraints | description |",
            "|---|---|---|---|---|"]
    for name, f in fields:
        typ = _type_str(f.annotation, f.metadata)
        if _model_in(f.annotation) is not None:
            typ = typ.replace("section", f"section `{_sub_path(path, name, f.annotation)}`")
        rows.append(f"| `{name}` | {_cell(typ)} | {_cell(_default(f))} | "
                    f"{_cell(_constraints(f))} | {_cell(_description(f, f'{path}.{name}'))} |")
    return rows


def _placeholder(f: FieldInfo) -> Any:
    return _placeholder_for(f.annotation)


def _placeholder_for(ann: Any) -> Any:
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        return _placeholder_for(args[0]) if args else None
    if origin is typing.Annotated:
        return _placeholder_for(args[0])
    if origin is typing.Literal:
        return typing.get_args(ann)[0]
    if origin in (list, set, Sequence):
        return [_placeholder_for(args[0])] if args else []
    if origin is tuple:
        return [_placeholder_for(a) for a in args if a is not Ellipsis]
    if origin is dict:
        return {}
    if isinstance(ann, type):
        if issubclass(ann, BaseModel):
            return _model_example(ann)
        for typ, val in ((bool, False), (int, 1), (float, 1.0), (dt.date, "2025-10-01"),
                         (Path, "path/to/file"), (str, "text")):
            if issubclass(ann, typ):
                return val
    return None


def _model_example(model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        if name in _HIDDEN_FIELDS:
            continue
        if f.default is PydanticUndefined and f.default_factory is None:
            out[name] = _placeholder(f)
        elif f.default_factory is not None:
            out[name] = _plain(f.default_factory())  # type: ignore[call-arg]
        else:
            out[name] = _plain(f.default)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json", exclude=_HIDDEN_FIELDS)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, Path | dt.date):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def docstring_example(section: str, model: type[BaseModel]) -> str | None:
    """A YAML example of ``section`` found in the docstring of its model or of the model's
    module: an indented literal block whose first line is ``<section>:``."""
    for doc in (model.__doc__, getattr(sys.modules.get(model.__module__), "__doc__", None)):
        if not doc:
            continue
        lines = doc.splitlines()
        for i, line in enumerate(lines):
            indent = len(line) - len(line.lstrip())
            if indent < 4 or line.strip() != f"{section}:":
                continue
            block = [line]
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                block.append(nxt)
            return textwrap.dedent("\n".join(block)).strip("\n") + "\n"
    return None


def section_example(section: str, root: type[BaseModel] = Scenario) -> str:
    """The worked YAML example of a top-level section (``""`` = the top-level fields).

    In order: :data:`EXAMPLES`; an example in the section model's (or its module's)
    docstring (see :func:`docstring_example`); a sketch made from the defaults, with
    placeholders for required values.
    """
    if section in EXAMPLES:
        return EXAMPLES[section]
    f = root.model_fields[section]
    model = _model_in(f.annotation)
    assert model is not None
    found = docstring_example(section, model)
    if found is not None:
        return found
    body = _model_example(model)
    text = yaml.safe_dump({section: body}, allow_unicode=True, sort_keys=False,
                          default_flow_style=False)
    return "# sketch made from the defaults (replace the placeholder values)\n" + text


def scenario_reference(root: type[BaseModel] = Scenario) -> str:
    """The whole reference as Markdown (deterministic); ``root`` is the scenario model."""
    lines = [
        "<!-- Generated from the pydantic schema (src/tomakomai_maas/scenario/schema*.py) by",
        f"     `{COMMAND}`. Do not edit by hand: edit the schema's field",
        "     descriptions (or the examples in src/tomakomai_maas/scenario/docs.py) and rerun. -->",
        "",
        "# Scenario file reference",
        "",
        "A scenario is a YAML mapping of the sections below. Units are in field names "
        "(`*_s` seconds, `*_min` minutes, `*_m` metres, `*_kph` km/h). Unknown keys are "
        "errors (with the nearest valid key suggested). Relative paths are resolved against "
        "the scenario file's own folder.",
        "",
        "- **Inheritance**: `extends: base.yaml` (relative to this file) reads the base "
        "scenario first and merges this file over it: mappings merge key by key, lists and "
        "values replace. Chains are allowed; cycles are errors.",
        "- **Overrides**: `--set key.path=value` on any command (repeatable; values are YAML, "
        "list items by index, e.g. `--set lines.0.vehicle_type=av_arma_2023`). Quote times: "
        "`--set 'service.end_time=\"12:00\"'` (unquoted `12:00` is a number in YAML).",
        "- **Check and inspect**: `tomakomai-maas validate FILE` runs every check a run "
        "would; `tomakomai-maas show FILE` prints the scenario with every default applied.",
        "",
        "## Contents",
        "",
        "- [Top-level fields](#top-level-fields)",
    ]
    secs = _sections(root)
    for name, _ in secs:
        lines.append(f"- [`{name}:`](#{name})")
    lines += ["", "## Top-level fields", "", *_top_table(root), "", "Example:", "", "```yaml",
              section_example("", root).rstrip("\n"), "```", ""]
    for name, f in secs:
        model = _model_in(f.annotation)
        assert model is not None
        lines += [f"## {name}", ""]
        kind = _cell(_type_str(f.annotation, f.metadata)).replace(" or null", "")
        if f.default is PydanticUndefined and f.default_factory is None:
            need = "required"
        elif f.default is None:
            need = "optional (absent = none)"
        elif isinstance(f.default, BaseModel):
            need = "optional (the defaults below apply)"
        else:
            need = f"optional (default {_cell(_default(f))})"
        lines += [f"`{name}:` — {kind}, {need}. {_description(f, name)}".rstrip(), ""]
        for path, sub in _nested(model, name):
            if path != name:
                lines += [f"### `{path}`", ""]
            lines += [_doc(sub), "", *_field_table(sub, path), ""]
        lines += ["Example:", "", "```yaml", section_example(name, root).rstrip("\n"), "```",
                  ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _top_table(root: type[BaseModel]) -> list[str]:
    rows = ["| field | type | default | constraints | description |",
            "|---|---|---|---|---|",
            "| `extends` | path or null | `null` | | Base scenario file to inherit from "
            "(handled by the loader). |"]
    for name, f in root.model_fields.items():
        if name in _HIDDEN_FIELDS or _model_in(f.annotation) is not None:
            continue
        rows.append(f"| `{name}` | {_cell(_type_str(f.annotation, f.metadata))} | "
                    f"{_cell(_default(f))} | {_cell(_constraints(f))} | "
                    f"{_cell(_description(f, name))} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tomakomai_maas.scenario.docs [-o FILE] [--check]``."""
    p = argparse.ArgumentParser(prog="python -m tomakomai_maas.scenario.docs",
                                description="Write the scenario-file reference (Markdown).")
    p.add_argument("-o", "--out", type=Path, default=None, help="output file (default: stdout)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if --out differs from what would be written")
    args = p.parse_args(argv)
    return write_or_check(args.out, check=args.check)


def write_or_check(out: Path | None, *, check: bool = False) -> int:
    """Write the reference to ``out`` (stdout if ``None``); with ``check``, compare only."""
    text = scenario_reference()
    if out is None:
        sys.stdout.write(text)
        return 0
    if check:
        current = out.read_text(encoding="utf-8") if out.is_file() else ""
        if current != text:
            sys.stderr.write(f"{out} is out of date: run {COMMAND}\n")
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
