"""Labels for plots and reports in Japanese (``ja``) and English (``en``).

``kpi_label("wait_mean_min", "ja")`` → ``"平均待ち時間 (分)"``; ``text("hour", "en")`` →
``"hour of day"``. Unknown KPI names (new KPIs, ``boardings.<route_id>``) fall back to a
readable form of the name, so a new KPI never breaks a plot.
"""

from __future__ import annotations

__all__ = ["LANGS", "KPI_LABELS", "TEXT", "kpi_label", "text", "check_lang", "access_label",
           "BAND_LABELS"]

LANGS = ("ja", "en")

#: KPI name → (Japanese, English), units in brackets.
KPI_LABELS: dict[str, tuple[str, str]] = {
    "requests": ("シミュレーション対象の移動 (公共交通+徒歩のみ, 件)",
                 "Journeys simulated (public transport + walk-only)"),
    "served": ("目的地に到着した移動 (徒歩のみを含む, 件)",
               "Journeys completed (incl. walk-only)"),
    "served_share": ("到着した移動の割合 (徒歩のみを含む)", "Completed share (incl. walk-only)"),
    "pt_requests": ("公共交通を要する移動 (バス・デマンド, 件)",
                    "Journeys needing a vehicle (bus, AV, DRT)"),
    "pt_served": ("公共交通で到着した移動 (件)", "Journeys completed by public transport"),
    "pt_served_share": ("公共交通の移動完了率 (徒歩のみを除く)",
                        "Public-transport completed share (excl. walk-only)"),
    "gave_up": ("断念した利用者 (人)", "Gave up"),
    "no_route": ("経路なし (件)", "No route"),
    "denied_boardings": ("満員で乗れなかった回数", "Denied boardings"),
    "boardings": ("乗車人数 (路線バス・自動運転バス, 人)", "Boardings (timetabled buses)"),
    "wait_mean_min": ("平均待ち時間 (分)", "Mean wait (min)"),
    "wait_p95_min": ("待ち時間 95%値 (分)", "95th percentile wait (min)"),
    "journey_mean_min": ("平均所要時間 (分)", "Mean journey time (min)"),
    "walk_mean_min": ("平均徒歩時間 (分)", "Mean walk (min)"),
    "ivt_mean_min": ("平均乗車時間 (分)", "Mean in-vehicle time (min)"),
    "transfers_mean": ("平均乗換回数", "Mean transfers"),
    "on_time_share": ("定時運行率", "On-time share"),
    "dep_delay_mean_min": ("平均出発遅延 (分)", "Mean departure delay (min)"),
    "vehicle_km": ("走行距離 (路線バス・自動運転バス, 台km)", "Vehicle-km (timetabled buses)"),
    "pax_km": ("人キロ (路線バス・自動運転バス)", "Passenger-km (timetabled buses)"),
    "load_factor_max": ("最大乗車率", "Max load factor"),
    "energy_kwh": ("電力量 (路線バス・自動運転バス, kWh)", "Electricity (timetabled buses, kWh)"),
    "fuel_l": ("軽油 (路線バス・自動運転バス, L)", "Diesel (timetabled buses, l)"),
    "co2_kg": ("CO2排出量 (路線バス・自動運転バス, kg)", "CO2 (timetabled buses, kg)"),
    "co2_g_per_pax_km": ("人キロあたりCO2 (路線バス・自動運転バス, g)",
                         "CO2 per passenger-km (timetabled buses, g)"),
    "co2_g_per_boarding": ("乗車1人あたりCO2 (全手段, g)", "CO2 per boarding (all modes, g)"),
    "total_boardings": ("乗車人数 (全手段: バス+デマンド, 人)",
                        "Boardings, all modes (bus + DRT)"),
    "total_vehicle_km": ("走行距離 (全手段, 台km)", "Vehicle-km, all modes"),
    "total_pax_km": ("人キロ (全手段)", "Passenger-km, all modes"),
    "total_energy_kwh": ("電力量 (全手段, kWh)", "Electricity, all modes (kWh)"),
    "total_fuel_l": ("燃料 (全手段, L)", "Fuel, all modes (l)"),
    "total_co2_kg": ("CO2排出量 (全手段, kg)", "CO2, all modes (kg)"),
    "total_co2_g_per_pax_km": ("人キロあたりCO2 (全手段, g)",
                               "CO2 per passenger-km, all modes (g)"),
    "takeovers": ("手動介入 (回)", "Manual takeovers"),
    "takeovers_per_100km": ("100kmあたり手動介入 (回)", "Takeovers per 100 km"),
    "sudden_stops": ("急停止 (回)", "Sudden stops"),
    "trips_cancelled": ("運休便数", "Trips cancelled"),
}

#: Other words used by the plots and the report.
TEXT: dict[str, tuple[str, str]] = {
    "scenario": ("シナリオ", "Scenario"),
    "baseline": ("基準", "baseline"),
    "kpi": ("指標", "KPI"),
    "mean": ("平均", "mean"),
    "ci95": ("95%信頼区間", "95% CI"),
    "difference": ("差 (対基準)", "Difference vs baseline"),
    "relative": ("変化率", "relative"),
    "significant": ("有意", "significant"),
    "hour": ("時刻 (時)", "hour of day"),
    "wait_min": ("待ち時間 (分)", "wait (min)"),
    "cum_share": ("累積割合", "cumulative share"),
    "wait_cdf": ("待ち時間の分布", "Waiting time distribution"),
    "boardings_by_hour": ("時間帯別乗車人数", "Boardings by hour"),
    "boardings_per_hour": ("乗車人数 (人/時)", "boardings per hour"),
    "occupancy": ("時間帯別平均乗車人数", "Mean vehicle load over the day"),
    "mean_load": ("平均乗車人数 (人/台)", "mean load (passengers per vehicle)"),
    "mode_shares": ("交通手段分担率", "Mode shares"),
    "share": ("割合", "share"),
    "co2_cost": ("環境負荷と費用", "CO2 and cost per passenger"),
    "network_map": ("路線と需要", "Lines and demand"),
    "stop_boardings": ("円の面積: 停留所の乗車人数 (1日平均)",
                       "circle area: boardings at the stop (mean per day)"),
    "drt_area": ("デマンド交通の運行区域", "DRT service area"),
    "drt_whole_network": ("道路網全域", "whole road network"),
    "drt_stops": ("デマンド交通の乗降地点", "DRT pick-up/drop-off points"),
    "drt_depot": ("デマンド交通の車両基地", "DRT depot"),
    "report_title": ("シナリオ比較レポート", "Scenario comparison report"),
    "kpi_table": ("指標一覧 (平均 [95%信頼区間])", "KPIs (mean [95% CI])"),
    "differences": ("基準シナリオとの差 (共通乱数による対応のある差, 95%信頼区間)",
                    "Differences from the baseline (paired, common random numbers, 95% CI)"),
    "changes": ("シナリオ設定の違い", "What changed between the scenarios"),
    "field": ("項目", "field"),
    "assumptions": ("前提条件 (仮定)", "Assumptions"),
    "no_assumptions": ("(記載なし)", "(none declared)"),
    "figures": ("図", "Figures"),
    "replications": ("反復回数", "replications"),
    "seeds": ("乱数シード", "seeds"),
    "warning": ("注意", "warning"),
    "observed_rule": (
        "一致の判定: 観測値の範囲がシミュレーションの95%信頼区間と重なれば○、重ならなければ×。"
        "較正目標 (モデルをこの値に合わせたもの) は一致が当然のため判定しません。"
        "信頼区間の半幅が観測値の25%を超える場合 (または反復が2回未満) は判定不能とします。"
        "期間全体の利用者数は、シミュレーションした曜日区分 (平日=月〜金、週末=土日; "
        "docs/calibration.md と同じ規則) が期間の全運行日を含む場合のみ比較します。",
        "Agreement: yes when the observed range overlaps the simulated 95% CI, no when it "
        "does not. A calibration target (the model was fitted to it) is not judged: agreement "
        "is by construction. When the CI half-width exceeds 25% of the observed value (or "
        "there are fewer than 2 replications) the comparison is inconclusive. Riders over a "
        "whole period are compared only when the simulated kind of day (weekday = Mon-Fri, "
        "weekend = Sat/Sun, the rule of docs/calibration.md) covers every operating day of "
        "the period."),
    "identical": ("設定の違いはありません", "no differences in the resolved scenarios"),
    "absent": ("(なし)", "(absent)"),
    "file": ("ファイル", "file"),
    "method": ("比較方法", "Method"),
    "method_text": (
        "各シナリオを同じ乱数シード (共通乱数) で反復実行し、反復ごとの差の平均と95%信頼区間"
        "(t分布) を示します。信頼区間が0を含まない差を「有意」としています。",
        "Every scenario ran the same replication seeds (common random numbers); differences "
        "are means of per-replication differences with Student-t 95% confidence intervals. "
        "A difference whose interval excludes 0 is marked significant."),
    "mode.pt": ("公共交通", "public transport"),
    "mode.walk": ("徒歩", "walk"),
    "mode.drt": ("デマンド交通", "DRT"),
    "mode.car": ("自動車", "car"),
    "mode.bike": ("自転車", "bike"),
    "mode.taxi": ("タクシー", "taxi"),
    "value": ("値", "value"),
    "sweep": ("パラメータ感度", "Parameter sweep"),
    "accessibility": ("アクセシビリティ (徒歩圏・所要時間)",
                      "Accessibility (walk coverage and travel times)"),
    "band": ("年齢層", "age band"),
    "unreachable_hatched": ("斜線のゾーンは公共交通・徒歩で到達できない",
                            "hatched zones: not reachable by public transport or on foot"),
    "access_note": (
        "ゾーン人口を各ゾーン内の点に配分し、運行のある停留所までの道路網上の徒歩距離、"
        "またはデマンド交通の運行区域 (停留所型は乗降場所まで徒歩圏内) で判定します。"
        "所要時間はゾーン中心から出発時刻 {times} に出発した場合の徒歩・待ち・乗車時間の合計で、"
        "デマンド交通は含みません。到達割合は公共交通 (または徒歩圏) で到達できる住民の割合です。"
        "所要時間は到達できる住民の平均のため、到達割合が基準と同じ場合のみ差を示します。"
        "時刻表・道路網・人口から決まる値のため信頼区間はありません。",
        "Zone residents are spread over points in each zone; a point is covered within a "
        "distance of a served stop (walk along the road network) or inside a DRT service "
        "area (for stop-based DRT: within its walk limit of a virtual stop). Travel times run "
        "from zone centroids leaving at {times}: walk, wait and ride by the timetabled lines "
        "(DRT not included); the reach share is the share of residents whose zone reaches the "
        "destination. A mean travel time covers the residents who reach the destination, so "
        "its difference is shown only where the reach share equals the baseline's. The "
        "values follow from timetables, network and population, so they have no confidence "
        "interval."),
}

#: Age band of the accessibility summaries → (Japanese, English).
BAND_LABELS: dict[str, tuple[str, str]] = {
    "all": ("全住民", "all residents"),
    "0_14": ("0〜14歳", "aged 0-14"),
    "15_64": ("15〜64歳", "aged 15-64"),
    "65p": ("65歳以上", "aged 65+"),
    "no_car": ("自動車なし", "without a car"),
}

_DEST_NAMES: dict[str, tuple[str, str]] = {}


def _dest_name(key: str, lang: str) -> str:
    """Landmark name of a destination key (``landmarks.csv``), else the key."""
    if not _DEST_NAMES:
        try:
            from tomakomai_maas.network import load_landmarks

            lm = load_landmarks()
            _DEST_NAMES.update({str(k): (str(a), str(b)) for k, a, b in
                                zip(lm["key"], lm["name"], lm["name_en"], strict=True)})
        except Exception:  # labels must never break a report
            _DEST_NAMES["_"] = ("", "")
    pair = _DEST_NAMES.get(key)
    return pair[LANGS.index(lang)] if pair else key


def access_label(metric: str, lang: str = "ja") -> str:
    """Label of an accessibility metric (``covered_500m_share``, ``tt_city_hospital_min``,
    ``reach_aeon_mall_share`` ...; see :mod:`tomakomai_maas.metrics.access`)."""
    import re

    ja = check_lang(lang) == "ja"
    fixed = {"population": ("人口 (人)", "Population"),
             "drt_share": ("デマンド交通区域内の割合", "Share inside a DRT area"),
             "walk_to_stop_m": ("最寄り停留所までの徒歩距離 (m)",
                                "Walk to the nearest served stop (m)")}
    if metric in fixed:
        return fixed[metric][0 if ja else 1]
    if m := re.fullmatch(r"stop_(\w+?)m_share", metric):
        d = m.group(1).replace("_", ".")
        return f"停留所{d}m圏内の割合" if ja else f"Share within {d} m of a stop"
    if m := re.fullmatch(r"covered_(\w+?)m_share", metric):
        d = m.group(1).replace("_", ".")
        return (f"停留所{d}m圏内またはDRT区域の割合" if ja
                else f"Share within {d} m of a stop or in a DRT area")
    if m := re.fullmatch(r"tt_(.+)_min", metric):
        name = _dest_name(m.group(1), lang)
        return f"{name}までの所要時間 (分)" if ja else f"Travel time to {name} (min)"
    if m := re.fullmatch(r"reach_(.+)_share", metric):
        name = _dest_name(m.group(1), lang)
        return f"{name}へ到達できる割合" if ja else f"Share reaching {name}"
    return metric


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ``ValueError`` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def kpi_label(kpi: str, lang: str = "ja") -> str:
    """Human label of a KPI (falls back to the name, e.g. ``boardings.r15`` → route label)."""
    i = LANGS.index(check_lang(lang))
    if kpi in KPI_LABELS:
        return KPI_LABELS[kpi][i]
    if kpi.startswith("boardings."):
        route = kpi.split(".", 1)[1]
        return f"乗車人数: {route}系統" if lang == "ja" else f"Boardings, route {route}"
    return kpi


def text(key: str, lang: str = "ja") -> str:
    """A word or phrase of the plots/report (``mode.<name>`` falls back to the mode name)."""
    i = LANGS.index(check_lang(lang))
    if key in TEXT:
        return TEXT[key][i]
    if key.startswith("mode."):
        return key.split(".", 1)[1]
    raise KeyError(f"no label {key!r}; known: {', '.join(sorted(TEXT))}")
