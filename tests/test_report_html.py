"""The HTML report is self-contained, escapes its text and renders in headless Chromium."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from test_compare import write_cheap_scenario  # a sibling test module
from tomakomai_maas.metrics import compare as mc
from tomakomai_maas.report.comparison import write_comparison
from tomakomai_maas.report.html import ReportFigure, ScenarioInfo, render_comparison_html
from tomakomai_maas.scenario.load import load_scenario

URL_ATTRS = {"src", "href", "srcset", "action", "data", "poster", "background", "formaction",
             "xlink:href", "manifest", "cite", "longdesc", "usemap", "ping"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def _parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    c.close()
    return c


def assert_self_contained(html: str) -> _Collector:
    c = _parse(html)
    tags = [t for t, _ in c.tags]
    assert "script" not in tags, "the report must not need scripts"
    for tag, attrs in c.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), f"external <{tag}>"
        for name, value in attrs.items():
            v = (value or "").strip().lower()
            if name in URL_ATTRS:
                assert v.startswith("data:") or v.startswith("#"), f"<{tag} {name}={v[:60]}>"
            assert "http://" not in v and "https://" not in v, f"<{tag} {name}> links out"
            if name == "style":
                assert "url(" not in v
    css = "".join(c.styles).lower()
    assert "@import" not in css and "url(" not in css and "http" not in css
    return c


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    path = write_cheap_scenario(out)
    a = load_scenario(path)
    b = load_scenario(path, ["name=av_more_demand", "demand.scale=1.5"])
    comp = mc.compare([a, b], replications=2, workers=1)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        write_comparison(comp, out, lang="ja")
    return out


def test_report_is_self_contained_and_holds_the_tables(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    c = assert_self_contained(html)
    imgs = [a["src"] for t, a in c.tags if t == "img"]
    pngs = sorted((report_dir / "plots").glob("*.png"))
    assert len(imgs) == len(pngs) >= 7
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    kt = pd.read_csv(report_dir / "kpis.csv")
    tables = [a.get("class") for t, a in c.tags if t == "table"]
    assert {"scenarios", "kpis", "differences", "changes", "access"} <= set(tables)
    from tomakomai_maas.report.comparison import accessibility_rows

    acc = accessibility_rows(pd.read_csv(report_dir / "accessibility.csv"))
    access_html = html.split("<table class='access'>", 1)[1].split("</table>", 1)[0]
    assert access_html.count("<tr>") == 1 + len(acc) // 2  # header + (band, metric) rows
    assert "65歳以上" in access_html and "%" in access_html
    n_rows = html.split("<table class='kpis'>", 1)[1].split("</table>", 1)[0].count("<tr>")
    assert n_rows == 1 + kt["kpi"].nunique()  # header + one row per KPI
    text = "".join(c.text)
    assert "demand.scale" in text and "av_more_demand" in text  # what changed
    for a in load_scenario(report_dir / "av_line_test.yaml").assumptions:  # verbatim
        assert a in text
    assert "<html lang='ja'>" in html
    # 2 replications: the meta line says the intervals are unreliable
    meta = html.split("<p class='note'>", 1)[1].split("</p>", 1)[0]
    assert "反復回数: 2" in meta and "注意: 反復回数が2回と少ないため" in meta


def test_no_replication_warning_from_five_replications() -> None:
    kpi = pd.DataFrame({"kpi": ["boardings"], "scenario": ["a"], "mean": [1.0],
                        "ci_low": [0.5], "ci_high": [1.5]})
    html = render_comparison_html(scenarios=[ScenarioInfo("a")], kpi_table=kpi,
                                  differences=pd.DataFrame(), changes=pd.DataFrame(),
                                  lang="en", meta={"replications": 5})
    assert "unreliable" not in html


def test_text_is_escaped() -> None:
    kt = pd.DataFrame([{"scenario": "<b>x</b>", "kpi": "served", "mean": 1.0, "ci_low": 0.5,
                        "ci_high": 1.5, "half_width": 0.5, "std": 1.0, "n": 3}])
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    html = render_comparison_html(
        scenarios=[ScenarioInfo("<b>x</b>", title="a & b",
                                assumptions=["<script>alert(1)</script>"])],
        kpi_table=kt, differences=pd.DataFrame(columns=list(mc.DIFF_COLUMNS)),
        changes=pd.DataFrame(columns=list(mc.CHANGE_COLUMNS)),
        figures=[ReportFigure("cap <i>", png, "f")], lang="en")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a &amp; b" in html
    assert_self_contained(html)
    with pytest.raises(ValueError, match="not PNG"):
        render_comparison_html(scenarios=[], kpi_table=kt.iloc[:0], differences=kt.iloc[:0],
                               changes=kt.iloc[:0], figures=[ReportFigure("x", b"GIF89a")])


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_headless_chromium_without_console_errors(
        report_dir: Path, tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: CI must install it (apt-get install -y "
                        "chromium) so the report rendering test runs")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", "--dump-dom",
           (report_dir / "report.html").as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr[-2000:]
    console = [ln for ln in res.stderr.splitlines()
               if ":CONSOLE" in ln or "Uncaught" in ln or "net::ERR" in ln]
    assert not console, "\n".join(console)
    dom = res.stdout
    assert '<table class="kpis">' in dom and '<table class="differences">' in dom
    for label in ("av_line_test", "av_more_demand"):
        assert label in dom
    assert dom.count("data:image/png;base64,") >= 7


def test_differences_are_coloured_by_which_way_is_better() -> None:
    from tomakomai_maas.report.html import _diff_table_html

    rows = [("wait_mean_min", 2.0), ("boardings", 5.0), ("travellers", -100.0),
            ("co2_kg", -3.0), ("drt.rejected.battery", 1.0)]
    diff = pd.DataFrame([{"scenario": "b", "baseline": "a", "kpi": k, "baseline_mean": 1.0,
                          "mean": 1.0 + d, "diff": d, "ci_low": d - 0.1, "ci_high": d + 0.1,
                          "half_width": 0.1, "n": 5, "rel_diff": d, "significant": True}
                         for k, d in rows])
    html = _diff_table_html(diff, "en")
    cls = {k: html.split(f"<td class='code'>{k}</td>", 1)[1].split("'>", 1)[0]
           for k, _ in rows}
    assert cls["wait_mean_min"].endswith("sig worse")   # longer waits
    assert cls["boardings"].endswith("sig better")      # more riders
    assert cls["co2_kg"].endswith("sig better")         # less CO2
    assert cls["drt.rejected.battery"].endswith("sig worse")
    assert cls["travellers"].endswith("num sig")        # demand itself: no judgement
    assert "Blue: better, red: worse" in html
