"""Write a parameter sweep's outputs: ``sweep.csv``, ``sweep.md``, ``points.json`` and one
plot per requested KPI (``plots/sweep_<kpi>.png``: KPI against the first grid parameter, one
line per value of the other parameters, 95% CI whiskers)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tomakomai_maas.metrics.compare import SweepResult
from tomakomai_maas.report._save import save_figure
from tomakomai_maas.report.html import fmt_number
from tomakomai_maas.report.labels import check_lang, kpi_label
from tomakomai_maas.report.plots import plot_sweep

__all__ = ["write_sweep", "sweep_markdown"]


def sweep_markdown(table: pd.DataFrame, keys: Sequence[str], kpis: Sequence[str], *,
                   lang: str = "ja") -> str:
    """One row per grid point, one column per KPI: ``mean [ci_low, ci_high]``."""
    lines = ["| " + " | ".join([*keys, *[f"{kpi_label(k, lang)} (`{k}`)" for k in kpis]]) + " |",
             "|" + "---|" * (len(keys) + len(kpis))]
    for _, grp in table.groupby("point", sort=True):
        first = grp.iloc[0]
        cells = [str(first[k]) for k in keys]
        for k in kpis:
            r = grp[grp["kpi"] == k]
            if not len(r):
                cells.append("–")
                continue
            r = r.iloc[0]
            ci = (f" [{fmt_number(r['ci_low'])}, {fmt_number(r['ci_high'])}]"
                  if pd.notna(r["ci_low"]) else "")
            cells.append(f"{fmt_number(r['mean'])}{ci}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_sweep(result: SweepResult, out_dir: str | Path, *, kpis: Sequence[str],
                lang: str = "ja") -> dict[str, Path]:
    """Write the sweep table, Markdown, points and plots into ``out_dir``.

    Plots of an earlier sweep in the same folder (``plots/sweep_*.png``) are removed first,
    so a KPI dropped from ``--kpi`` does not leave a stale figure; nothing else is deleted."""
    from tomakomai_maas.runner import write_json

    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in sorted((out / "plots").glob("sweep_*.png")):  # an earlier sweep's plots
        stale.unlink()
    table = result.table
    keys = list(result.points[0].params) if result.points else []
    paths: dict[str, Path] = {}
    table.to_csv(out / "sweep.csv", index=False, float_format="%.10g")
    paths["sweep.csv"] = out / "sweep.csv"
    present = [k for k in kpis if (table["kpi"] == k).any()]
    (out / "sweep.md").write_text(sweep_markdown(table, keys, present, lang=lang),
                                  encoding="utf-8")
    paths["sweep.md"] = out / "sweep.md"
    write_json(out / "points.json", {
        "replication_seeds": result.seeds,
        "points": [{"point": p.index, "params": p.params, "overrides": list(p.overrides)}
                   for p in result.points]})
    paths["points.json"] = out / "points.json"
    if keys:
        x = keys[0]
        plot_table = table
        group = None
        if len(keys) > 1:
            rest = keys[1:]
            group = " ".join(rest) if len(rest) > 1 else rest[0]
            if len(rest) > 1:
                plot_table = table.assign(**{group: table[rest].astype(str).agg(", ".join,
                                                                                axis=1)})
        for k in present:
            fig, _ = plot_sweep(plot_table, k, x, group=group, lang=lang)
            name = f"plots/sweep_{k.replace('/', '_')}.png"
            paths[name] = save_figure(fig, out / name, dpi=110)
    return paths
