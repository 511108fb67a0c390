"""Labels for plots and reports in Japanese (``ja``) and English (``en``).

``kpi_label("wait_mean_min", "ja")`` → ``"平均待ち時間 (分)"``; ``text("hour", "en")`` →
``"hour of day"``. Unknown KPI names (new KPIs, ``boardings.<route_id>``) fall back to a
readable form of the name, so a new KPI never breaks a plot.
"""

from __future__ import annotations

__all__ = ["LANGS", "KPI_LABELS", "TEXT", "kpi_label", "text", "check_lang", "access_label",
           "BAND_LABELS", "REJECT_REASONS", "GOOD_DIRECTION", "good_direction"]

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
    # by vehicle kind and demand model
    "boardings_bus": ("乗車人数: 路線バス (人)", "Boardings, bus"),
    "boardings_av": ("乗車人数: 自動運転バス (人)", "Boardings, autonomous bus"),
    "travellers": ("生成された移動者 (人)", "Travellers generated"),
    "trips_generated": ("生成されたトリップ (件)", "Trips generated"),
    "trips_dropped_snap": ("道路網に接続できず除外したトリップ (件)",
                           "Trips dropped (not on the network)"),
    "choice_travellers": ("交通手段選択の対象者 (人)", "Travellers in mode choice"),
    "choice_iterations": ("交通手段選択の反復回数", "Mode-choice iterations"),
    "choice_converged": ("交通手段選択の収束 (1=収束)", "Mode choice converged (1 = yes)"),
    "choice_changed_share_last": ("最終反復で手段を変えた割合",
                                  "Share changing mode in the last iteration"),
    "last_mile_trips": ("ラストワンマイルの移動 (件)", "Last-mile trips"),
    # cost, revenue and subsidy (metrics.cost; unit costs assumed unless the scenario says)
    "cost_driver_yen": ("運転士人件費 (円/日)", "Driver cost (yen/day)"),
    "cost_operator_yen": ("保安運転手・オペレーター人件費 (円/日)",
                          "On-board operator cost (yen/day)"),
    "cost_remote_yen": ("遠隔監視人件費 (円/日)", "Remote supervision cost (yen/day)"),
    "cost_capital_yen": ("車両資本費 (円/日)", "Vehicle capital cost (yen/day)"),
    "cost_maintenance_yen": ("整備費 (円/日)", "Maintenance (yen/day)"),
    "cost_electricity_yen": ("電力費 (円/日)", "Electricity (yen/day)"),
    "cost_fuel_yen": ("燃料費 (円/日)", "Fuel (yen/day)"),
    "cost_depot_yen": ("車庫・充電設備費 (円/日)", "Depot and charging (yen/day)"),
    "cost_system_yen": ("自動運転システム費 (円/日)", "AV system fees (yen/day)"),
    "cost_overhead_yen": ("間接費 (円/日)", "Overhead (yen/day)"),
    "cost_total_yen": ("運行費用合計 (円/日)", "Operating cost (yen/day)"),
    "cost_per_boarding_yen": ("乗車1人あたり費用 (円)", "Cost per boarding (yen)"),
    "cost_per_pax_km_yen": ("人キロあたり費用 (円)", "Cost per passenger-km (yen)"),
    "cost_per_vehicle_km_yen": ("走行キロあたり費用 (円)", "Cost per vehicle-km (yen)"),
    "revenue_fare_yen": ("運賃収入 (円/日)", "Fare revenue (yen/day)"),
    "revenue_subscription_yen": ("定額制 (サブスク) 収入 (円/日)",
                                 "Subscription revenue (yen/day)"),
    "revenue_total_yen": ("収入合計 (円/日)", "Revenue (yen/day)"),
    "revenue_per_boarding_yen": ("乗車1人あたり収入 (円)", "Revenue per boarding (yen)"),
    "subsidy_required_yen": ("必要な補助額 (円/日)", "Subsidy required (yen/day)"),
    "subsidy_per_passenger_yen": ("利用者1人あたり補助額 (円)", "Subsidy per passenger (yen)"),
    "farebox_ratio": ("収支率 (収入÷費用)", "Farebox ratio (revenue / cost)"),
    "passengers": ("公共交通の利用者 (人)", "Passengers (boarded at least once)"),
    "vehicle_hours": ("車両稼働時間 (台時)", "Vehicle-hours"),
    "service_hours": ("営業運行時間 (台時)", "Revenue service hours"),
    "vehicles_in_service": ("運行車両数 (台)", "Vehicles in service"),
    "fleet_vehicles": ("保有車両数 (予備車 按分込み, 台)",
                       "Fleet incl. pro-rata spare vehicles"),
    "staff_hours_driver": ("運転士の勤務時間 (時)", "Driver hours"),
    "staff_hours_operator": ("オペレーターの勤務時間 (時)", "Operator hours"),
    "staff_hours_remote": ("遠隔監視者の勤務時間 (時)", "Remote supervisor hours"),
    # on-demand service (drt.*)
    "drt.requests": ("デマンド交通: 予約 (件)", "DRT: bookings"),
    "drt.served": ("デマンド交通: 運んだ予約 (件)", "DRT: bookings served"),
    "drt.served_share": ("デマンド交通: 予約成立率", "DRT: served share"),
    "drt.rejected": ("デマンド交通: 断った予約 (件)", "DRT: bookings rejected"),
    "drt.cancelled": ("デマンド交通: 取消 (件)", "DRT: cancellations"),
    "drt.passengers": ("デマンド交通: 乗車人数 (人)", "DRT: passengers"),
    "drt.wait_mean_min": ("デマンド交通: 平均待ち時間 (分)", "DRT: mean wait (min)"),
    "drt.wait_p95_min": ("デマンド交通: 待ち時間 95%値 (分)", "DRT: 95th percentile wait (min)"),
    "drt.ride_mean_min": ("デマンド交通: 平均乗車時間 (分)", "DRT: mean ride (min)"),
    "drt.detour_mean": ("デマンド交通: 平均迂回率 (乗車時間÷直行時間)",
                        "DRT: mean detour (ride / direct drive)"),
    "drt.shared_share": ("デマンド交通: 相乗りの割合", "DRT: shared-ride share"),
    "drt.vehicle_km": ("デマンド交通: 走行距離 (台km)", "DRT: vehicle-km"),
    "drt.empty_km_share": ("デマンド交通: 空車走行の割合", "DRT: empty-km share"),
    "drt.pax_km": ("デマンド交通: 人キロ", "DRT: passenger-km"),
    "drt.occupancy": ("デマンド交通: 平均乗車人数 (人キロ÷台キロ, 人/台)",
                      "DRT: mean load (pax-km / vehicle-km)"),
    "drt.vehicle_km_per_pax": ("デマンド交通: 利用者1人あたり走行距離 (km)",
                               "DRT: vehicle-km per passenger"),
    "drt.idle_share": ("デマンド交通: 待機時間の割合", "DRT: idle share of shift"),
    "drt.energy_kwh": ("デマンド交通: 電力量 (kWh)", "DRT: electricity (kWh)"),
    "drt.fuel_l": ("デマンド交通: 燃料 (L)", "DRT: fuel (l)"),
    "drt.co2_kg": ("デマンド交通: CO2排出量 (kg)", "DRT: CO2 (kg)"),
    "drt.fare_revenue_yen": ("デマンド交通: 運賃収入 (円)", "DRT: fare revenue (yen)"),
    "drt.cost_yen": ("デマンド交通: 運行費用 (円)", "DRT: operating cost (yen)"),
    "drt.cost_per_trip_yen": ("デマンド交通: 1予約あたり費用 (円)", "DRT: cost per trip (yen)"),
    "drt.subsidy_per_trip_yen": ("デマンド交通: 1予約あたり補助額 (円)",
                                 "DRT: subsidy per trip (yen)"),
    "drt.takeovers": ("デマンド交通: 手動介入 (回)", "DRT: manual takeovers"),
    "drt.takeovers_per_100km": ("デマンド交通: 100kmあたり手動介入 (回)",
                                "DRT: takeovers per 100 km"),
    "drt.sudden_stops": ("デマンド交通: 急停止 (回)", "DRT: sudden stops"),
    "drt.fault_delay_min": ("デマンド交通: 介入・急停止による遅れ (分)",
                            "DRT: delay from takeovers and stops (min)"),
    "drt.late_pickups": ("デマンド交通: 約束より遅い迎え (件)", "DRT: late pick-ups"),
    "drt.late_pickup_share": ("デマンド交通: 遅い迎えの割合", "DRT: late pick-up share"),
    "drt.over_max_ride": ("デマンド交通: 最大乗車時間超過 (件)", "DRT: rides over their maximum"),
    "drt.soc_min": ("デマンド交通: 最低充電率", "DRT: lowest state of charge"),
    "drt.charged_kwh": ("デマンド交通: 充電量 (kWh)", "DRT: energy charged (kWh)"),
    "drt.charging_h": ("デマンド交通: 充電時間 (時)", "DRT: charging hours"),
}

#: Which way is better for a KPI (+1: more is better, -1: less is better); KPIs not listed
#: (counts of demand, fleet sizes, revenue that may mean higher fares ...) have no good
#: direction, and the report does not colour their differences.
GOOD_DIRECTION: dict[str, int] = {
    **{k: +1 for k in ("served_share", "boardings", "boardings_bus", "boardings_av",
                       "on_time_share", "passengers", "farebox_ratio", "drt.served_share",
                       "drt.passengers", "drt.shared_share", "drt.occupancy", "drt.soc_min",
                       "total_boardings", "pt_served_share")},
    **{k: -1 for k in ("gave_up", "no_route", "denied_boardings", "wait_mean_min",
                       "wait_p95_min", "journey_mean_min", "walk_mean_min", "transfers_mean",
                       "dep_delay_mean_min", "energy_kwh", "fuel_l", "co2_kg",
                       "co2_g_per_pax_km", "co2_g_per_boarding", "takeovers",
                       "takeovers_per_100km", "sudden_stops", "trips_cancelled",
                       "cost_total_yen", "cost_per_boarding_yen", "cost_per_pax_km_yen",
                       "cost_per_vehicle_km_yen", "subsidy_required_yen",
                       "subsidy_per_passenger_yen", "drt.rejected", "drt.cancelled",
                       "drt.wait_mean_min", "drt.wait_p95_min", "drt.ride_mean_min",
                       "drt.detour_mean", "drt.empty_km_share", "drt.vehicle_km_per_pax",
                       "drt.energy_kwh", "drt.fuel_l", "drt.co2_kg", "drt.cost_per_trip_yen",
                       "drt.subsidy_per_trip_yen", "drt.takeovers", "drt.takeovers_per_100km",
                       "drt.sudden_stops", "drt.fault_delay_min", "drt.late_pickups",
                       "drt.late_pickup_share", "drt.over_max_ride", "total_co2_kg",
                       "total_energy_kwh")},
}


def good_direction(kpi: str) -> int:
    """+1 (more is better), -1 (less is better) or 0 (no judgement) for a KPI."""
    if kpi.startswith("drt.rejected."):
        return -1
    return GOOD_DIRECTION.get(kpi, 0)


#: Reasons a DRT booking is rejected (``drt.rejected.<reason>``) → (Japanese, English).
REJECT_REASONS: dict[str, tuple[str, str]] = {
    "battery": ("充電不足", "battery"),
    "capacity": ("定員", "capacity"),
    "no_stop_in_reach": ("徒歩圏に乗降場所なし", "no stop within walking distance"),
    "no_vehicle_in_time": ("時間内に配車できる車両なし", "no vehicle in time"),
    "outside_area": ("運行区域外", "outside the area"),
    "outside_hours": ("運行時間外", "outside service hours"),
    "ride_time": ("乗車時間の上限超過", "ride time limit"),
    "same_pickup_dropoff": ("乗車地と降車地が同じ", "same pick-up and drop-off"),
    "suspended_weather": ("悪天候による運休", "suspended for weather"),
    "time_window": ("希望時刻に間に合わない", "time window"),
    "unreachable": ("道路網で到達不可", "unreachable on the network"),
}

#: Per-route / per-mode KPI families ``<prefix>.<key>`` → (Japanese, English) label stem.
_FAMILIES: dict[str, tuple[str, str]] = {
    "cost_total_yen": ("運行費用 (円/日)", "Operating cost (yen/day)"),
    "revenue_fare_yen": ("運賃収入 (円/日)", "Fare revenue (yen/day)"),
    "mode_share": ("交通手段分担率", "Mode share"),
    "last_mile_share": ("ラストワンマイルの手段分担率", "Last-mile share"),
}

#: Other words used by the plots and the report.
TEXT: dict[str, tuple[str, str]] = {
    "scenario": ("シナリオ", "Scenario"),
    "baseline": ("基準", "baseline"),
    "kpi": ("指標", "KPI"),
    "mean": ("平均", "mean"),
    "ci95": ("95%信頼区間", "95% CI"),
    "ci95_band": ("網掛け: 95%信頼区間", "shaded: 95% CI"),
    "caution": ("注意", "Caution"),
    "demand_caution": (
        "{scenario} は基準 {baseline} と異なる需要を扱っています ({kpi}: {value:,.0f} 対 "
        "{baseline_value:,.0f}{area})。差には需要の違いと交通サービスの違いが混ざっています。",
        "{scenario} models other demand than the baseline {baseline} ({kpi}: {value:,.0f} vs "
        "{baseline_value:,.0f}{area}); its differences mix demand and supply."),
    "other_study_area": ("、対象ゾーン (keep_zones) が異なる", "; another study area (keep_zones)"),
    "diff_colours": ("太字は有意な差。青は改善、赤は悪化 (良し悪しが決まらない指標は色なし)。",
                     "Bold: significant. Blue: better, red: worse (no colour where no direction "
                     "is better)."),
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
    "drt_stops_sized": ("デマンド交通の乗降地点 (四角の面積: 乗車人数)",
                        "DRT pick-up points (square area: boardings)"),
    "drt_depot": ("デマンド交通の車両基地", "DRT depot"),
    "direction_note": ("矢印: 進行方向 (上下線は左側通行で並べて表示)",
                       "arrows: direction of travel (each direction on its left side)"),
    "size_legend": ("乗車人数 (人/日)", "boardings per day"),
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
    "mode.bus": ("路線バス", "bus"),
    "mode.av_bus": ("自動運転バス", "autonomous bus"),
    "mode.car_driver": ("自動車 (運転)", "car (driver)"),
    "mode.car_passenger": ("自動車 (同乗)", "car (passenger)"),
    "value": ("値", "value"),
    "sweep": ("パラメータ感度", "Parameter sweep"),
    "accessibility": ("アクセシビリティ (徒歩圏・所要時間)",
                      "Accessibility (walk coverage and travel times)"),
    "band": ("年齢層", "age band"),
    "access_uniform_ages": (
        "なお、ゾーン内の年齢構成を市全体と同じと仮定している (地区別の年齢データ未入手) ため、"
        "65歳以上などの値は全住民とほぼ同じになります。",
        "The zones assume the city-wide age structure (no district age data was found), so "
        "the 65+ and other band rows are nearly the same as all residents'."),
    "no_value": ("値なし", "no value"),
    "unreachable": ("公共交通・徒歩で到達できない", "not reachable by public transport or on foot"),
    "roads": ("道路", "roads"),
    "served_stops": ("運行のある停留所", "served stops"),
    "longitude": ("経度 longitude (°)", "longitude (°)"),
    "latitude": ("緯度 latitude (°)", "latitude (°)"),
    "unreachable_hatched": ("斜線のゾーンは公共交通・徒歩で到達できない",
                            "hatched zones: not reachable by public transport or on foot"),
    "access_note": (
        "ゾーン人口を各ゾーン内の点に配分し、運行のある停留所までの道路網上の徒歩距離、"
        "またはデマンド交通の運行区域 (停留所型は乗降場所まで徒歩圏内) で判定します。"
        "公共交通の所要時間はゾーン中心から {times} に出発した場合の徒歩・待ち・乗車時間の合計"
        "(1回以上乗車、デマンド交通は含まない) で、徒歩は {walk} m までを徒歩圏とします。"
        "所要時間は到達できる住民の平均のため、到達割合が基準と同じ場合のみ差を示します。"
        "時刻表・道路網・人口から決まる値のため信頼区間はありません。",
        "Zone residents are spread over points in each zone; a point is covered within a "
        "distance of a served stop (walk along the road network) or inside a DRT service "
        "area (for stop-based DRT: within its walk limit of a virtual stop). Public-transport "
        "travel times run from zone centroids leaving at {times}: walk, wait and ride with at "
        "least one ride on the timetabled lines (DRT not included); walking all the way counts "
        "up to {walk} m. A mean travel time covers the residents who reach the destination, so "
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
    if m := re.fullmatch(r"pt_tt_(.+)_min", metric):
        name = _dest_name(m.group(1), lang)
        return (f"公共交通で{name}までの所要時間 (待ち含む, 分)" if ja
                else f"Travel time to {name} by public transport, waits included (min)")
    if m := re.fullmatch(r"pt_reach_(.+)_share", metric):
        name = _dest_name(m.group(1), lang)
        return (f"公共交通で{name}へ行ける割合" if ja
                else f"Share reaching {name} by public transport")
    if m := re.fullmatch(r"walk_(.+)_min", metric):
        name = _dest_name(m.group(1), lang)
        return f"{name}まで徒歩の所要時間 (分)" if ja else f"Walk to {name} (min)"
    if m := re.fullmatch(r"tt_(.+)_min", metric):
        name = _dest_name(m.group(1), lang)
        return (f"{name}までの所要時間 (公共交通か徒歩の速い方, 分)" if ja
                else f"Travel time to {name}, public transport or on foot (min)")
    if m := re.fullmatch(r"reach_(.+)_share", metric):
        name = _dest_name(m.group(1), lang)
        return (f"公共交通か徒歩で{name}へ行ける割合" if ja
                else f"Share reaching {name} by public transport or on foot")
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
    if kpi.startswith("drt.rejected."):
        reason = kpi.split(".", 2)[2]
        r = REJECT_REASONS.get(reason, (reason, reason))[i]
        return f"デマンド交通: 断った予約 ({r})" if lang == "ja" else f"DRT: rejected ({r})"
    head, _, key = kpi.partition(".")
    if key and head in _FAMILIES:
        name = text(f"mode.{key}", lang) if head.endswith("share") else key
        return f"{_FAMILIES[head][i]}: {name}"
    return kpi


def text(key: str, lang: str = "ja") -> str:
    """A word or phrase of the plots/report (``mode.<name>`` falls back to the mode name)."""
    i = LANGS.index(check_lang(lang))
    if key in TEXT:
        return TEXT[key][i]
    if key.startswith("mode."):
        return key.split(".", 1)[1]
    raise KeyError(f"no label {key!r}; known: {', '.join(sorted(TEXT))}")
