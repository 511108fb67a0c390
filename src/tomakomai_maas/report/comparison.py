"""Write everything a comparison produces into one folder.

``write_comparison(comparison, out_dir, lang="ja")`` writes::

    kpis.csv          KPI table (scenario, kpi, mean, ci_low, ci_high, half_width, std, n)
    kpis.md           the KPI table and the differences as Markdown (mean [95% CI])
    differences.csv   paired differences from the baseline (see metrics.compare)
    changes.csv       fields of the resolved scenarios that differ from the baseline
    accessibility.csv coverage and travel times by age band per scenario, with the difference
                      to the baseline (metrics.compare.accessibility_comparison)
    accessibility_zones.csv   the per-zone accessibility tables, one block per scenario
    comparison.json   scenarios, seeds, replications, run folders, files written
    plots/*.png       KPI overview, wait CDF, boardings by hour, occupancy, mode shares,
                      CO2 (and cost) per passenger, one map per scenario, accessibility
                      choropleths (coverage, its change, travel time to the first destination)
    report.html       self-contained report (tables, changes, assumptions, figures)

The data for every plot is prepared by :mod:`tomakomai_maas.metrics.compare`; this module only
glues tables, figures and files together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tomakomai_maas.metrics import compare as mc
from tomakomai_maas.report import plots
from tomakomai_maas.report._save import save_figure
from tomakomai_maas.report.html import (
    ReportFigure,
    ScenarioInfo,
    fmt_number,
    render_comparison_html,
)
from tomakomai_maas.report.labels import access_label, check_lang, kpi_label, text
from tomakomai_maas.report.outdir import remove_stale_outputs

__all__ = ["write_comparison", "markdown_tables", "comparison_figures", "accessibility_rows",
           "accessibility_note", "caution_texts"]

log = logging.getLogger(__name__)


def markdown_tables(comp: mc.Comparison, *, lang: str = "ja") -> str:
    """The KPI table (and differences, with several scenarios) as Markdown."""
    from tomakomai_maas.metrics.stats import few_replications_warning

    labels = comp.labels
    kt = comp.kpi_table.set_index(["kpi", "scenario"])
    warn = few_replications_warning(comp.replications, lang)
    lines = [*(f"> **{text('caution', lang)}**: {c}\n" for c in caution_texts(comp, lang)),
             f"# {text('kpi_table', lang)}", "",
             f"{text('replications', lang)}: {comp.replications}, "
             f"{text('seeds', lang)}: {comp.base_seed}..{comp.base_seed + comp.replications - 1}",
             *(["", f"**{text('warning', lang)}**: {warn}"] if warn else []),
             "", "| " + " | ".join([text("kpi", lang), "name", *labels]) + " |",
             "|" + "---|" * (len(labels) + 2)]
    for k in dict.fromkeys(comp.kpi_table["kpi"]):
        cells = []
        for s in labels:
            r = kt.loc[(k, s)]
            ci = (f" [{fmt_number(r['ci_low'])}, {fmt_number(r['ci_high'])}]"
                  if pd.notna(r["ci_low"]) else "")
            cells.append(f"{fmt_number(r['mean'])}{ci}")
        lines.append(f"| {kpi_label(k, lang)} | `{k}` | " + " | ".join(cells) + " |")
    diff = comp.differences
    if len(diff):
        others = labels[1:]
        dt = diff.set_index(["kpi", "scenario"])
        lines += ["", f"# {text('differences', lang)}", "",
                  "| " + " | ".join([text("kpi", lang), "name",
                                     *[f"{s} − {labels[0]}" for s in others]]) + " |",
                  "|" + "---|" * (len(others) + 2)]
        for k in dict.fromkeys(diff["kpi"]):
            cells = []
            for s in others:
                r = dt.loc[(k, s)]
                ci = (f" [{fmt_number(r['ci_low'])}, {fmt_number(r['ci_high'])}]"
                      if pd.notna(r["ci_low"]) else "")
                star = " *" if r["significant"] else ""
                cells.append(f"{fmt_number(r['diff'])}{ci}{star}")
            lines.append(f"| {kpi_label(k, lang)} | `{k}` | " + " | ".join(cells) + " |")
        lines += ["", f"\\* {text('significant', lang)} (95%)"]
    rows = accessibility_rows(comp.accessibility)
    if len(rows):
        from tomakomai_maas.report.html import access_cells

        present, table = access_cells(rows, labels, lang)
        lines += ["", f"# {text('accessibility', lang)}", "",
                  accessibility_note(comp, lang), "",
                  "| " + " | ".join([text("band", lang), text("kpi", lang), *present]) + " |",
                  "|" + "---|" * (len(present) + 2)]
        for band, metric, cells in table:
            lines.append(f"| {band} | {metric} | " + " | ".join(
                v + (f" ({d})" if d else "") for v, d in cells) + " |")
    return "\n".join(lines) + "\n"


def caution_texts(comp: mc.Comparison, lang: str) -> list[str]:
    """The comparison's cautions (:func:`~tomakomai_maas.metrics.compare.demand_cautions`)
    as sentences."""
    return [text("demand_caution", lang).format(
        **{k: c[k] for k in ("scenario", "baseline", "kpi", "value", "baseline_value")},
        area=text("other_study_area", lang) if c["study_area"] else "")
        for c in comp.cautions]


def accessibility_rows(access: pd.DataFrame) -> pd.DataFrame:
    """The rows of the accessibility comparison the report shows: every metric for all
    residents (but the population), coverage and reach shares for residents aged 65+ and
    without a car (the equity view)."""
    if not len(access):
        return access
    m = access["metric"]
    keep = (access["band"] == "all") & (m != "population") & ~m.str.match(r"tt_.*_min")
    keep |= access["band"].isin(["65p", "no_car"]) & (
        m.str.match(r"covered_.*_share") | m.str.match(r"pt_reach_.*_share"))
    out = access[keep]
    band_rank = {"all": 0, "65p": 1, "no_car": 2}
    metric_rank = {k: i for i, k in enumerate(dict.fromkeys(m))}
    order = sorted(range(len(out)), key=lambda i: (band_rank[out["band"].iloc[i]],
                                                   metric_rank[out["metric"].iloc[i]]))
    return out.iloc[order].reset_index(drop=True)


def accessibility_note(comp: mc.Comparison, lang: str) -> str:
    """The method note of the accessibility section, with the departure times and walk limit
    used, and a warning when the age bands cannot differ (uniform age structure)."""
    have = [r for r in comp.results if r.accessibility is not None]
    times = sorted({t for r in have for t in r.scenario.accessibility.departure_times})
    walk = sorted({f"{r.scenario.accessibility.max_direct_walk_m:g}" for r in have})
    note = text("access_note", lang).format(times=", ".join(times) or "–",
                                            walk="/".join(walk) or "–")
    acc = comp.accessibility
    if len(acc) and _bands_alike(acc):
        note += " " + text("access_uniform_ages", lang)
    return note


def _bands_alike(acc: pd.DataFrame) -> bool:
    """Every share of residents aged 65+ within 0.5 points of all residents' share."""
    shares = acc[acc["metric"].str.endswith("_share")]
    a = shares[shares["band"] == "all"].set_index(["scenario", "metric"])["value"]
    b = shares[shares["band"] == "65p"].set_index(["scenario", "metric"])["value"]
    both = pd.concat([a, b], axis=1, keys=["all", "65p"]).dropna()
    return bool(len(both)) and bool(((both["all"] - both["65p"]).abs() < 0.005).all())


def _access_figures(comp: mc.Comparison, lang: str,
                    graph_for: Callable[[str], Any] | None = None
                    ) -> list[tuple[str, str, Any]]:
    from tomakomai_maas.metrics.access import compare_zones, drt_areas_of_world, served_stops
    from tomakomai_maas.report.choropleth import plot_zone_maps

    have = [r for r in comp.results if r.accessibility is not None]
    tables = {r.label: r.accessibility for r in have}
    if not tables:
        return []
    # context: the road network (of the first scenario's network), each scenario's served
    # stops (those the coverage counts) and DRT service areas
    roads = graph_for(have[0].scenario.network.source) if graph_for is not None else None
    stops: dict[str, pd.DataFrame] = {}
    areas: dict[str, list[Any]] = {}
    for r in have:
        if r.world is None:
            continue
        ids = served_stops(r.world, min_departures=r.scenario.accessibility.min_departures)
        stops[r.label] = pd.DataFrame([(r.world.stops[s].lat, r.world.stops[s].lon)
                                       for s in ids], columns=["lat", "lon"])
        areas[r.label] = [a.geometry for a in drt_areas_of_world(r.world)
                          if a.geometry is not None]
    context = {"roads": roads, "lang": lang}
    first = next(iter(tables.values()))
    cover = [c for c in first.columns if c.startswith("covered_") and c.endswith("m_share")]
    tts = [c for c in first.columns if c.startswith("pt_tt_") and c.endswith("_min")]
    out: list[tuple[str, str, Any]] = []
    if cover:
        col = cover[-1]  # the widest walk threshold
        cap = access_label(col, lang)
        fig, _ = plot_zone_maps(tables, col, cmap="YlGnBu", label=cap, stops=stops,
                                drt_areas=areas, **context)
        out.append(("access_coverage", cap, fig))
        if len(tables) > 1 and all(col in t.columns for t in tables.values()):
            cz = compare_zones(tables, col)
            base = next(iter(tables))
            names = {n: f"{n} − {base}" for n in list(tables)[1:]}
            deltas = {names[n]: cz.rename(columns={f"delta_{n}": "delta"}) for n in names}
            fig, _ = plot_zone_maps(deltas, "delta", diverging=True, cmap="RdBu",
                                    label=f"Δ {cap}",
                                    stops={names[n]: stops[n] for n in names if n in stops},
                                    drt_areas={names[n]: areas[n] for n in names if n in areas},
                                    **context)
            out.append(("access_coverage_change", f"Δ {cap}", fig))
    if tts:  # the destination most zones reach (the most informative map)
        col = max(tts, key=lambda c: (sum(int(t[c].notna().sum()) for t in tables.values()),
                                      -tts.index(c)))
        cap = access_label(col, lang)
        fig, _ = plot_zone_maps(tables, col, cmap="magma_r", label=cap, stops=stops,
                                drt_areas=areas, nan_label=text("unreachable", lang),
                                **context)
        out.append((f"access_{col}", f"{cap} ({text('unreachable_hatched', lang)})", fig))
    return out


def _graph_loader() -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def load(source: str) -> Any:
        if source not in cache:
            from tomakomai_maas.network import load_network

            try:
                cache[source] = load_network(source)
            except Exception as exc:  # a map is optional: never fail the comparison for it
                log.warning("no map for network %s: %s", source, exc)
                cache[source] = None
        return cache[source]

    return load


def comparison_figures(comp: mc.Comparison, *, lang: str = "ja",
                       graph_for: Callable[[str], Any] | None = None
                       ) -> list[tuple[str, str, Any]]:
    """``(name, caption, matplotlib Figure)`` for every figure of the report."""
    check_lang(lang)
    labels = comp.labels
    kt = comp.kpi_table
    out: list[tuple[str, str, Any]] = []
    fig, _ = plots.plot_kpi_overview(kt, plots.HEADLINE_KPIS, scenarios=labels, lang=lang)
    out.append(("kpi_overview", text("kpi_table", lang), fig))
    tables = {r.label: r.tables for r in comp.results}
    fig, _ = plots.plot_wait_cdf({s: mc.wait_cdf(t["trips"]) for s, t in tables.items()},
                                 lang=lang)
    out.append(("wait_cdf", text("wait_cdf", lang), fig))
    if all("vehicle_stops" in t for t in tables.values()):
        fig, _ = plots.plot_boardings_by_hour(
            {s: mc.boardings_by_hour(t["vehicle_stops"], replications=comp.replications)
             for s, t in tables.items()}, lang=lang,
            band=comp.replications >= 5)  # t-intervals of 2-4 replications swamp the means
        out.append(("boardings_by_hour", text("boardings_by_hour", lang), fig))
        fig, _ = plots.plot_occupancy(
            {s: mc.occupancy_by_hour(t["vehicle_stops"]) for s, t in tables.items()}, lang=lang)
        out.append(("occupancy", text("occupancy", lang), fig))
    fig, _ = plots.plot_mode_shares({s: mc.mode_shares(t["trips"]) for s, t in tables.items()},
                                    lang=lang)
    out.append(("mode_shares", text("mode_shares", lang), fig))
    cost = mc.cost_kpi(set(kt["kpi"]))
    fig, _ = plots.plot_co2_cost(kt, cost_kpi=cost, scenarios=labels, lang=lang)
    out.append(("co2_cost", text("co2_cost", lang) if cost else kpi_label(
        "co2_g_per_boarding", lang), fig))
    graph_for = graph_for or _graph_loader()
    out += _access_figures(comp, lang, graph_for)
    landmarks = None
    from tomakomai_maas.report.map_layers import drt_map_data, routed_line_patterns

    for r in comp.results:
        if r.world is None or "stops" not in r.tables:
            continue
        G = graph_for(r.scenario.network.source)
        if G is None:
            continue
        if landmarks is None and r.scenario.network.source.startswith("embedded:"):
            from tomakomai_maas.network import load_landmarks

            landmarks = load_landmarks()
        fig, _ = plots.plot_scenario_map(
            G, routed_line_patterns(r.world, G, speed_factor=r.scenario.network.speed_factor),
            mc.stop_boardings(r.tables["stops"], r.world, replications=comp.replications),
            landmarks=landmarks, lang=lang, title=f"{text('network_map', lang)}: {r.label}",
            drt=drt_map_data(r.world, mc.drt_stop_boardings(
                r.tables.get("drt_requests"), r.world, replications=comp.replications)))
        out.append((f"map_{r.label}", f"{text('network_map', lang)}: {r.label}", fig))
    return out


def write_comparison(comp: mc.Comparison, out_dir: str | Path, *, lang: str = "ja",
                     graph_for: Callable[[str], Any] | None = None) -> dict[str, Path]:
    """Write tables, plots and ``report.html`` of ``comp`` into ``out_dir``; returns the paths.

    Files an earlier comparison wrote into ``out_dir`` are removed first, anything else in it
    is kept (:func:`tomakomai_maas.report.outdir.remove_stale_outputs`).
    """
    from tomakomai_maas import __version__
    from tomakomai_maas.metrics.observed import observed_vs_simulated
    from tomakomai_maas.metrics.stats import few_replications_warning
    from tomakomai_maas.runner import write_json

    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_outputs(out, comp.labels)  # an earlier comparison's files (report/outdir.py)
    paths: dict[str, Path] = {}
    comp.kpi_table.to_csv(out / "kpis.csv", index=False, float_format="%.10g")
    paths["kpis.csv"] = out / "kpis.csv"
    comp.differences.to_csv(out / "differences.csv", index=False, float_format="%.10g")
    paths["differences.csv"] = out / "differences.csv"
    comp.changes.to_csv(out / "changes.csv", index=False)
    paths["changes.csv"] = out / "changes.csv"
    (out / "kpis.md").write_text(markdown_tables(comp, lang=lang), encoding="utf-8")
    paths["kpis.md"] = out / "kpis.md"
    access = comp.accessibility
    if len(access):
        access.to_csv(out / "accessibility.csv", index=False, float_format="%.10g")
        paths["accessibility.csv"] = out / "accessibility.csv"
        zones = pd.concat([r.accessibility.assign(scenario=r.label) for r in comp.results
                           if r.accessibility is not None], ignore_index=True)
        zones = zones[["scenario", *[c for c in zones.columns if c != "scenario"]]]
        zones.to_csv(out / "accessibility_zones.csv", index=False, float_format="%.10g")
        paths["accessibility_zones.csv"] = out / "accessibility_zones.csv"

    figures = []
    for name, caption, fig in comparison_figures(comp, lang=lang, graph_for=graph_for):
        p = save_figure(fig, out / "plots" / f"{name}.png", dpi=110)
        paths[f"plots/{name}.png"] = p
        figures.append(ReportFigure(caption, p.read_bytes(), name))
    colours = plots.scenario_colours(comp.labels)
    infos = [ScenarioInfo(r.label, r.scenario.title, r.scenario.description.strip(),
                          str(r.scenario.source_file or ""), list(r.scenario.assumptions),
                          colours[r.label]) for r in comp.results]
    meta = {text("replications", lang): comp.replications,
            text("seeds", lang): f"{comp.base_seed}..{comp.base_seed + comp.replications - 1}",
            "tomakomai-maas": __version__}
    warn = few_replications_warning(comp.replications, lang)
    if warn:
        meta[text("warning", lang)] = warn
    observed = observed_vs_simulated(comp.results)
    observed.to_csv(out / "observed.csv", index=False, float_format="%.10g")
    paths["observed.csv"] = out / "observed.csv"
    html_text = render_comparison_html(scenarios=infos, kpi_table=comp.kpi_table,
                                       differences=comp.differences, changes=comp.changes,
                                       figures=figures, lang=lang, meta=meta,
                                       observed=observed,
                                       accessibility=accessibility_rows(access),
                                       accessibility_note=accessibility_note(comp, lang),
                                       cautions=caution_texts(comp, lang))
    (out / "report.html").write_text(html_text, encoding="utf-8")
    paths["report.html"] = out / "report.html"
    write_json(out / "comparison.json", {
        "scenarios": [{"label": r.label, "file": str(r.scenario.source_file or ""),
                       "run": str(r.path) if r.path else None} for r in comp.results],
        "baseline": comp.labels[0], "base_seed": comp.base_seed,
        "replications": comp.replications,
        "replication_seeds": comp.results[0].seeds if comp.results else [],
        "files": sorted(paths),
    })
    paths["comparison.json"] = out / "comparison.json"
    return paths
