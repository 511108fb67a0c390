"""A self-contained HTML report of a scenario comparison.

One file, nothing external: CSS is inline, figures are embedded as
``data:image/png;base64`` URIs, there is no script and no link to another server, so the
report can be mailed to a client or opened offline. Sections: scenarios (with seeds and
replications), the KPI table (mean [95% CI]), paired differences from the baseline, what
changed between the resolved scenarios, accessibility by age band (when the scenarios have
zones), the assumptions each scenario declares, and the figures. Every text is HTML-escaped.

:func:`render_comparison_html` only formats what it is given (tables from
:mod:`tomakomai_maas.metrics.compare`, PNG bytes of figures).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tomakomai_maas.report.labels import (
    BAND_LABELS,
    access_label,
    check_lang,
    good_direction,
    kpi_label,
    text,
)

__all__ = ["ScenarioInfo", "ReportFigure", "render_comparison_html", "png_data_uri", "fmt_number",
           "fmt_access", "access_delta_shown", "access_cells"]

_CSS = """
body { font-family: "Hiragino Sans", "Noto Sans CJK JP", "Yu Gothic", "IPAexGothic",
       Meiryo, system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em;
       color: #222; line-height: 1.5; }
h1 { font-size: 1.6em; border-bottom: 3px solid #1f77b4; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-left: 6px solid #1f77b4; padding-left: .4em; }
h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; }
th { background: #eef3f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.code, span.code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
td.sig { font-weight: bold; }
td.better { color: #2166ac; } td.worse { color: #b2182b; }
.ci { color: #666; font-size: .85em; }
.note { color: #555; font-size: .9em; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #444; font-size: .9em; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .4em;
          vertical-align: -0.1em; border-radius: 2px; }
ul.assumptions li { margin-bottom: .3em; }
div.caution { border: 2px solid #d08700; background: #fff8e6; padding: .4em .8em; margin: 1em 0; }
"""


@dataclass
class ScenarioInfo:
    """What the report says about one scenario."""

    label: str
    title: str = ""
    description: str = ""
    source: str = ""
    assumptions: Sequence[str] = field(default_factory=tuple)
    colour: str = "#888888"


@dataclass
class ReportFigure:
    """A PNG figure to embed, with a caption."""

    caption: str
    png: bytes
    name: str = ""


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes."""
    if not png.startswith(b"\x89PNG"):
        raise ValueError("not PNG data")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def fmt_number(x: Any, digits: int = 4) -> str:
    """Significant-digit formatting; NaN/None → an en dash; large values without exponent."""
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    if v != 0 and abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    s = f"{v:.{digits}g}"
    if "e" in s:
        s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return s


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _kpi_table_html(kpi_table: pd.DataFrame, labels: Sequence[str], lang: str) -> str:
    kpis = list(dict.fromkeys(kpi_table["kpi"]))
    t = kpi_table.set_index(["kpi", "scenario"])
    head = "".join(f"<th>{_e(s)}</th>" for s in labels)
    out = [f"<table class='kpis'><thead><tr><th>{_e(text('kpi', lang))}</th>"
           f"<th>{_e('name')}</th>{head}</tr></thead><tbody>"]
    for k in kpis:
        cells = []
        for s in labels:
            if (k, s) not in t.index:
                cells.append("<td class='num'>–</td>")
                continue
            r = t.loc[(k, s)]
            ci = ""
            if math.isfinite(float(r["ci_low"])) and math.isfinite(float(r["ci_high"])):
                ci = (f" <span class='ci'>[{fmt_number(r['ci_low'])}, "
                      f"{fmt_number(r['ci_high'])}]</span>")
            cells.append(f"<td class='num'>{fmt_number(r['mean'])}{ci}</td>")
        out.append(f"<tr><td>{_e(kpi_label(k, lang))}</td><td class='code'>{_e(k)}</td>"
                   + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _diff_table_html(diff: pd.DataFrame, lang: str) -> str:
    if not len(diff):
        return ""
    others = list(dict.fromkeys(diff["scenario"]))
    base = str(diff["baseline"].iloc[0])
    head = "".join(f"<th>{_e(s)} − {_e(base)}</th>" for s in others)
    out = [f"<table class='differences'><thead><tr><th>{_e(text('kpi', lang))}</th>"
           f"<th>{_e('name')}</th>{head}</tr></thead><tbody>"]
    t = diff.set_index(["kpi", "scenario"])
    for k in dict.fromkeys(diff["kpi"]):
        cells = []
        for s in others:
            r = t.loc[(k, s)]
            d = float(r["diff"])
            cls = ["num"]
            if bool(r["significant"]):
                cls.append("sig")
                g = good_direction(k) * (1 if d > 0 else -1)
                if g:
                    cls.append("better" if g > 0 else "worse")
            ci = ""
            if math.isfinite(float(r["ci_low"])) and math.isfinite(float(r["ci_high"])):
                ci = (f" <span class='ci'>[{fmt_number(r['ci_low'])}, "
                      f"{fmt_number(r['ci_high'])}]</span>")
            rel = float(r["rel_diff"])
            rel_s = f" ({rel:+.1%})" if math.isfinite(rel) and d != 0 else ""
            sign = "+" if math.isfinite(d) and d > 0 else ""
            cells.append(f"<td class='{' '.join(cls)}'>{sign}{fmt_number(d)}{_e(rel_s)}{ci}</td>")
        out.append(f"<tr><td>{_e(kpi_label(k, lang))}</td><td class='code'>{_e(k)}</td>"
                   + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(f"<p class='note'>{_e(text('diff_colours', lang))}</p>")
    return "".join(out)


def _changes_html(changes: pd.DataFrame, labels: Sequence[str], lang: str,
                  max_rows: int) -> str:
    out = []
    for s in labels[1:]:
        sub = changes[changes["scenario"] == s]
        out.append(f"<h3>{_e(s)} ⇔ {_e(labels[0])}</h3>")
        if not len(sub):
            out.append(f"<p class='note'>{_e(text('identical', lang))}</p>")
            continue
        out.append(f"<table class='changes'><thead><tr><th>{_e(text('field', lang))}</th>"
                   f"<th>{_e(labels[0])} ({_e(text('baseline', lang))})</th><th>{_e(s)}</th>"
                   "</tr></thead><tbody>")
        for r in sub.head(max_rows).itertuples(index=False):
            out.append(f"<tr><td class='code'>{_e(r.field)}</td><td class='code'>"
                       f"{_e(_absent(r.baseline, lang))}</td><td class='code'>"
                       f"{_e(_absent(r.value, lang))}</td></tr>")
        out.append("</tbody></table>")
        if len(sub) > max_rows:
            out.append(f"<p class='note'>… {len(sub) - max_rows} more (see changes.csv)</p>")
    return "".join(out)


def _absent(v: str, lang: str) -> str:
    return text("absent", lang) if v == "(absent)" else v


def fmt_access(metric: str, v: Any, *, delta: bool = False) -> str:
    """An accessibility value: shares as percent (points for differences), metres and
    minutes with one decimal at most, population as an integer."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(x):
        return "–"
    sign = "+" if delta and x > 0 else ""
    if metric.endswith("_share"):
        return f"{sign}{x * 100:.1f}" + (" pt" if delta else "%")
    if metric == "population":
        return f"{sign}{x:,.0f}"
    return f"{sign}{x:,.1f}"


def access_delta_shown(idx: pd.DataFrame, scenario: str, band: str, metric: str) -> bool:
    """Whether a difference is meaningful: a mean travel time is averaged over the residents
    who reach the destination, so its difference is shown only when the reach share is the
    same in both scenarios (``idx``: the long table indexed by scenario, band, metric)."""
    r = idx.loc[(scenario, band, metric)]
    if pd.isna(r["delta"]) or float(r["delta"]) == 0:
        return False
    for pre in ("pt_", ""):
        if metric.startswith(f"{pre}tt_") and metric.endswith("_min"):
            dest = metric[len(pre) + 3:-4]
            reach = (scenario, band, f"{pre}reach_{dest}_share")
            return reach in idx.index and float(idx.loc[reach, "delta"]) == 0
    return True


def access_cells(access: pd.DataFrame, labels: Sequence[str], lang: str
                 ) -> tuple[list[str], list[tuple[str, str, list[tuple[str, str]]]]]:
    """The accessibility table as text: ``(scenarios present, rows)`` with one row per
    (band, metric): ``(band label, metric label, [(value, delta), ...])`` — the delta text
    is ``""`` for the baseline and where :func:`access_delta_shown` says no."""
    present = [s for s in labels if s in set(access["scenario"])]
    idx = access.set_index(["scenario", "band", "metric"])
    bi = 0 if lang == "ja" else 1
    rows = []
    for band, metric in dict.fromkeys(zip(access["band"], access["metric"], strict=True)):
        cells = []
        for i, s in enumerate(present):
            if (s, band, metric) not in idx.index:
                cells.append(("–", ""))
                continue
            r = idx.loc[(s, band, metric)]
            d = (fmt_access(metric, r["delta"], delta=True)
                 if i and access_delta_shown(idx, s, band, metric) else "")
            cells.append((fmt_access(metric, r["value"]), d))
        rows.append((BAND_LABELS.get(band, (band, band))[bi], access_label(metric, lang), cells))
    return present, rows


def _access_html(access: pd.DataFrame, labels: Sequence[str], lang: str, note: str) -> str:
    """Rows = (band, metric), columns = scenarios: value, and Δ vs the first scenario."""
    present, rows = access_cells(access, labels, lang)
    if not present:
        return ""
    out = [f"<h2>{_e(text('accessibility', lang))}</h2><p class='note'>{_e(note)}</p>",
           "<table class='access'><thead><tr>"
           f"<th>{_e(text('band', lang))}</th><th>{_e(text('kpi', lang))}</th>"
           + "".join(f"<th>{_e(s)}" + (f" ({_e(text('baseline', lang))})" if i == 0 else
                                       "<br><span class='ci'>Δ</span>") + "</th>"
                     for i, s in enumerate(present)) + "</tr></thead><tbody>"]
    for band, metric, cells in rows:
        out.append(f"<tr><td>{_e(band)}</td><td>{_e(metric)}</td>" + "".join(
            f"<td class='num'>{_e(v)}" + (f" <span class='ci'>({_e(d)})</span>" if d else "")
            + "</td>" for v, d in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_VERDICT_TEXT: dict[str, tuple[str, str]] = {
    "agrees": ("○", "yes"),
    "disagrees": ("×", "no"),
    "inconclusive": ("判定不能 (信頼区間が広すぎる)", "inconclusive (CI too wide)"),
    "n/a (calibrated)": ("対象外 (較正目標)", "n/a (calibrated)"),
    "n/a (days not simulated)": ("対象外 (未シミュレーションの日あり)",
                                 "n/a (days not simulated)"),
}


def _observed_html(obs: pd.DataFrame, lang: str) -> str:
    ja = lang == "ja"
    head = (["シナリオ", "項目", "観測値", "シミュレーション (95%CI)", "一致", "役割", "出典"] if ja
            else ["scenario", "quantity", "observed", "simulated (95% CI)", "agrees", "role",
                  "source"])
    role = {"check": "検証" if ja else "check",
            "calibrated": "較正目標 (一致は当然)" if ja else "calibration target (agrees by "
            "construction)"}
    rows = []
    for r in obs.itertuples(index=False):
        o = (fmt_number(r.observed_low) if r.observed_low == r.observed_high
             else f"{fmt_number(r.observed_low)}–{fmt_number(r.observed_high)}")
        ci = (f" [{fmt_number(r.ci_low)}, {fmt_number(r.ci_high)}]"
              if pd.notna(r.ci_low) and pd.notna(r.ci_high) else "")
        v = str(getattr(r, "verdict", "") or ("agrees" if r.agrees else "disagrees"))
        ok = _VERDICT_TEXT.get(v, (v, v))[0 if ja else 1]
        note = str(getattr(r, "note", "") or "")
        note_html = f"<br><span class='note'>{_e(note)}</span>" if note else ""
        rows.append(f"<tr><td>{_e(r.scenario)}</td><td>{_e(r.quantity)}{note_html}</td>"
                    f"<td>{_e(o)}</td><td>{_e(fmt_number(r.simulated_mean))}{_e(ci)}</td>"
                    f"<td>{_e(ok)}</td><td>{_e(role.get(r.role, r.role))}</td>"
                    f"<td>{_e(r.source)}</td></tr>")
    title = "観測値との比較" if ja else "Simulated against observed"
    rule = text("observed_rule", lang)
    return (f"<h2>{_e(title)}</h2><p class='note'>{_e(rule)}</p><table class='observed'>"
            "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_comparison_html(*, scenarios: Sequence[ScenarioInfo], kpi_table: pd.DataFrame,
                           differences: pd.DataFrame, changes: pd.DataFrame,
                           figures: Sequence[ReportFigure] = (), lang: str = "ja",
                           title: str | None = None, meta: Mapping[str, Any] | None = None,
                           max_change_rows: int = 300,
                           observed: pd.DataFrame | None = None,
                           accessibility: pd.DataFrame | None = None,
                           accessibility_note: str = "",
                           cautions: Sequence[str] = ()) -> str:
    """The report as one HTML string (UTF-8, no external references).

    Args:
        scenarios: one entry per scenario, baseline first (labels as in the tables).
        kpi_table, differences, changes: frames from :mod:`tomakomai_maas.metrics.compare`.
        figures: PNG figures embedded in order.
        meta: shown as a small key/value list (e.g. seeds, replications, version).
        observed: :func:`tomakomai_maas.metrics.observed.observed_vs_simulated`; shown as
            the first table when it has rows.
        cautions: sentences shown in a box at the top (e.g. scenarios with other demand).
        accessibility: rows of :func:`tomakomai_maas.metrics.compare.accessibility_comparison`
            to show (long: scenario, band, metric, value, delta), with
            ``accessibility_note`` explaining the method.
    """
    check_lang(lang)
    labels = [s.label for s in scenarios]
    title = title or text("report_title", lang)
    parts = [
        "<!DOCTYPE html>",
        f"<html lang='{lang}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    if meta:
        parts.append("<p class='note'>" + " · ".join(
            f"{_e(k)}: {_e(v)}" for k, v in meta.items()) + "</p>")
    if cautions:
        parts.append(f"<div class='caution'><b>{_e(text('caution', lang))}</b><ul>"
                     + "".join(f"<li>{_e(c)}</li>" for c in cautions) + "</ul></div>")
    if observed is not None and len(observed):
        parts.append(_observed_html(observed, lang))
    parts.append(f"<h2>{_e(text('scenario', lang))}</h2><table class='scenarios'><thead><tr>"
                 f"<th>{_e(text('scenario', lang))}</th><th>title</th>"
                 f"<th>{_e(text('file', lang))}</th></tr></thead><tbody>")
    for i, s in enumerate(scenarios):
        base = f" ({_e(text('baseline', lang))})" if i == 0 else ""
        desc = f"<br><span class='note'>{_e(s.description)}</span>" if s.description else ""
        parts.append(f"<tr><td><span class='swatch' style='background:{_e(s.colour)}'></span>"
                     f"<b>{_e(s.label)}</b>{base}</td><td>{_e(s.title)}{desc}</td>"
                     f"<td class='code'>{_e(s.source)}</td></tr>")
    parts.append("</tbody></table>")
    parts.append(f"<h2>{_e(text('kpi_table', lang))}</h2>")
    parts.append(_kpi_table_html(kpi_table, labels, lang))
    if len(labels) > 1:
        parts.append(f"<h2>{_e(text('differences', lang))}</h2>")
        parts.append(f"<p class='note'>{_e(text('method_text', lang))}</p>")
        parts.append(_diff_table_html(differences, lang))
        parts.append(f"<h2>{_e(text('changes', lang))}</h2>")
        parts.append(_changes_html(changes, labels, lang, max_change_rows))
    if accessibility is not None and len(accessibility):
        parts.append(_access_html(accessibility, labels, lang, accessibility_note))
    parts.append(f"<h2>{_e(text('assumptions', lang))}</h2>")
    for s in scenarios:
        parts.append(f"<h3>{_e(s.label)}</h3>")
        if s.assumptions:
            parts.append("<ul class='assumptions'>" + "".join(
                f"<li>{_e(a)}</li>" for a in s.assumptions) + "</ul>")
        else:
            parts.append(f"<p class='note'>{_e(text('no_assumptions', lang))}</p>")
    if figures:
        parts.append(f"<h2>{_e(text('figures', lang))}</h2>")
        for f in figures:
            parts.append(f"<figure id='{_e(f.name)}'><img src='{png_data_uri(f.png)}' "
                         f"alt='{_e(f.caption)}'><figcaption>{_e(f.caption)}</figcaption>"
                         "</figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
