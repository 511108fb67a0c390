"""Load, override and validate scenario files.

``load_scenario(path, overrides=["operations.holding=false"])`` reads YAML safely, applies
``--set`` style overrides, validates against :class:`~tomakomai_maas.scenario.schema.Scenario`
and resolves relative paths against the scenario file's folder. Every problem is collected and
reported at once in a :class:`~tomakomai_maas.errors.ScenarioError` naming the file, the field
path, the bad value and what is allowed (with a "did you mean" for misspelt keys).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.scenario.schema import TIME_FORMAT_HELP, Scenario

_CLOCK_RE = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
# the time-of-day patterns of the schema (scenario/schema*.py TimeOfDay)
_CLOCK_PATTERNS = re.compile(re.escape(r"\d{1,2}:[0-5]\d(:[0-5]\d)?"))


class _ScenarioLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose dates that do not exist (``2023-02-30``) stay strings.

    PyYAML turns every ``YYYY-MM-DD`` into a :class:`datetime.date` while parsing and raises
    a bare ``ValueError`` for an impossible one; kept as a string, the schema reports it with
    the field's path and the allowed form instead. Real dates load as before.
    """


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_ScenarioLoader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def yaml_load(text: str) -> Any:
    """Parse scenario YAML (and ``--set`` values) safely; impossible dates stay strings."""
    return yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - a SafeLoader subclass

__all__ = ["load_scenario", "scenario_from_dict", "apply_overrides", "resolved_dict"]


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """Read, override, validate and resolve a scenario file."""
    path = Path(path)
    data = _read_with_extends(path, ())
    data = apply_overrides(data, overrides, source=str(path))
    return scenario_from_dict(data, source=path)


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir()
                       if p.suffix in (".yaml", ".yml") and p.is_file())
        listing = (f"; scenario files in it: {', '.join(found[:5])}"
                   + (f" (+{len(found) - 5} more)" if len(found) > 5 else "")) if found else ""
        example = path / found[0] if found else path / "<scenario>.yaml"
        raise ScenarioError(f"{path}: is a folder, not a scenario file; give a .yaml file, "
                            f"e.g. {example}{listing}")
    if not path.is_file():
        hint = ""
        if path.parent.is_dir():
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], 3)
            if near:
                hint = f" Did you mean: {', '.join(near)}?"
        raise ScenarioError(f"{path}: scenario file not found.{hint}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file: {exc}") from exc
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}: not valid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: a scenario file must be a mapping of sections (name:, service:, lines:, ...),"
            f" got {type(data).__name__}"
        )
    return data


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """Read ``path`` and merge it over the file its ``extends:`` names (recursively).

    Paths in each file are made absolute against that file's folder before merging, so a
    base scenario's relative paths keep pointing where its author meant.
    """
    real = path.resolve()
    if real in chain:
        cycle = " -> ".join(str(p) for p in (*chain, real))
        raise ScenarioError(f"{chain[-1]}: extends: cycle in scenario inheritance: {cycle}")
    data = _absolutise(_read_yaml_mapping(path), real.parent)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(f"{path}: extends: must be the path of a base scenario file "
                            f"(relative to this file), got {parent!r}")
    base_path = Path(parent) if Path(parent).is_absolute() else real.parent / parent
    if not base_path.is_file():
        raise ScenarioError(f"{path}: extends: base scenario {parent!r} not found "
                            f"(looked for {base_path})")
    base = _read_with_extends(base_path, (*chain, real))
    return _deep_merge(base, data)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists and scalars in ``over`` replace those in ``base``."""
    out = _deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = _deepcopy(v)
    return out


def _absolutise(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the known path fields of one raw scenario file absolute (before merging)."""
    def fix(v: Any) -> Any:
        if isinstance(v, str) and v and not Path(os.path.expanduser(v)).is_absolute():
            return str((base / v).resolve())
        return v

    out = _deepcopy(data)
    for line in out.get("lines") or []:
        if isinstance(line, dict) and "gtfs" in line:
            line["gtfs"] = fix(line["gtfs"])
    for sec, key in (("demand", "trips_csv"), ("output", "dir")):
        if isinstance(out.get(sec), dict) and out[sec].get(key) is not None:
            out[sec][key] = fix(out[sec][key])
    gen = (out.get("demand") or {}).get("generated") if isinstance(out.get("demand"), dict) else None
    if isinstance(gen, dict) and gen.get("zones_file") is not None:
        gen["zones_file"] = fix(gen["zones_file"])
    acc = out.get("accessibility")
    if isinstance(acc, dict) and acc.get("zones_file") is not None:
        acc["zones_file"] = fix(acc["zones_file"])
    net = out.get("network")
    if isinstance(net, dict) and isinstance(net.get("source"), str):
        src = net["source"]
        if (not src.startswith(("embedded:", "place:")) and not _looks_like_point(src)
                and (base / src).exists()):
            net["source"] = str((base / src).resolve())
    return out


def apply_overrides(data: dict[str, Any], overrides: Iterable[str], *,
                    source: str = "scenario") -> dict[str, Any]:
    """Apply ``key.path=value`` overrides (values parsed as YAML) to a raw scenario dict."""
    out = _deepcopy(data)
    problems = []
    for item in overrides:
        if "=" not in item:
            problems.append(f"--set {item!r}: expected KEY=VALUE, e.g. operations.holding=false")
            continue
        key, raw = item.split("=", 1)
        try:
            # "12:30" is a time of day, not YAML 1.1's sexagesimal integer 750
            value = (raw.strip() if _CLOCK_RE.match(raw.strip())
                     else yaml_load(raw) if raw.strip() else "")
        except yaml.YAMLError:
            value = raw
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            problems.append(f"--set {item!r}: empty key")
            continue
        node: Any = out
        for part in parts[:-1]:
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    problems.append(f"--set {key}: index {part!r} out of range (list of {len(node)})")
                    break
                node = node[int(part)]
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node = node[part]
        else:
            last = parts[-1]
            if isinstance(node, list):
                if not last.isdigit() or int(last) >= len(node):
                    problems.append(f"--set {key}: index {last!r} out of range (list of {len(node)})")
                    continue
                node[int(last)] = value
            else:
                node[last] = value
    if problems:
        raise ScenarioError(f"{source}: invalid overrides", problems)
    return out


def scenario_from_dict(data: Mapping[str, Any], *, source: str | os.PathLike[str] | None = None,
                       label: str | None = None) -> Scenario:
    """Validate a raw dict; relative paths resolve against ``source``'s folder (or the cwd).

    ``label``: how messages name the scenario (default: ``source`` as given).
    """
    label = label or (str(source) if source is not None else "<scenario>")
    try:
        sc = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_describe(err, label) for err in exc.errors()]
        raise ScenarioError(f"{label}: {len(problems)} problem(s) in the scenario", problems) from None
    base = Path(source).resolve().parent if source is not None else Path.cwd()
    out = _resolve_paths(sc, base, Path(source).resolve() if source is not None else None)
    if source is not None:
        out._given_path = label  # messages name the file the way the user did
    return out


def resolved_dict(sc: Scenario) -> dict[str, Any]:
    """The fully resolved scenario (every default applied) as JSON-ready data."""
    return sc.model_dump(mode="json")


# ----------------------------------------------------------------------------- internals

def _deepcopy(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _deepcopy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_deepcopy(v) for v in x]
    return x


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for listing valid keys)."""
    import typing

    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return model
        ann = field.annotation
        model = _unwrap_model(ann, typing)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(ann: Any, typing: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _unwrap_model(arg, typing)
        if m is not None:
            return m
    return None


def _describe(err: Mapping[str, Any], label: str) -> str:
    loc = tuple(err.get("loc", ()))
    where = _fmt_loc(loc)
    typ = err.get("type", "")
    value = err.get("input")
    if typ == "extra_forbidden":
        parent = _model_at(loc[:-1])
        key = str(loc[-1])
        valid = sorted(parent.model_fields) if parent else []
        valid = [v for v in valid if v != "source_file"]
        near = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        return (f"{label}: {where}: unknown key '{key}'.{hint} "
                f"Allowed keys here: {', '.join(valid)}")
    if typ == "missing":
        return f"{label}: {where}: required field is missing"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):  # pydantic's prefix for our validators' ValueErrors
        msg = msg[len("Value error, "):]
    ctx = err.get("ctx") or {}
    if typ == "string_pattern_mismatch" and _CLOCK_PATTERNS.search(str(ctx.get("pattern", ""))):
        msg = f"not a time of day; allowed: {TIME_FORMAT_HELP}"
    elif typ.startswith(("date_", "datetime_")):
        msg = (f"not a valid date ({msg[msg.find(',') + 2:] if ',' in msg else msg}); "
               "allowed: a real calendar date written YYYY-MM-DD, e.g. 2023-09-20")
    if isinstance(value, Mapping | list | tuple) or typ == "missing":
        # the value of a whole section: the message names what is wrong, never dump it
        return f"{label}: {where}: {msg}"
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{label}: {where}: {msg} (got {shown})"


def _resolve_paths(sc: Scenario, base: Path, source: Path | None) -> Scenario:
    def res(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = Path(os.path.expanduser(str(p)))
        return p if p.is_absolute() else (base / p).resolve()

    lines = [ln.model_copy(update={"gtfs": res(ln.gtfs)}) for ln in sc.lines]
    demand = sc.demand.model_copy(update={"trips_csv": res(sc.demand.trips_csv)})
    if demand.generated is not None and demand.generated.zones_file is not None:
        demand = demand.model_copy(update={"generated": demand.generated.model_copy(
            update={"zones_file": res(demand.generated.zones_file)})})
    output = sc.output.model_copy(update={"dir": res(sc.output.dir)})
    accessibility = sc.accessibility
    if accessibility.zones_file is not None:
        accessibility = accessibility.model_copy(
            update={"zones_file": res(accessibility.zones_file)})
    network = sc.network
    src = network.source
    if not src.startswith(("embedded:", "place:")) and not _looks_like_point(src):
        candidate = res(Path(src))
        if candidate is not None and candidate.exists():
            network = network.model_copy(update={"source": str(candidate)})
    return sc.model_copy(update={"lines": lines, "demand": demand, "output": output,
                                 "network": network, "accessibility": accessibility,
                                 "source_file": source})


def _looks_like_point(s: str) -> bool:
    parts = s.split(",")
    if len(parts) != 3:
        return False
    try:
        [float(p) for p in parts]
    except ValueError:
        return False
    return True
