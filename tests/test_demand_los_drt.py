"""DRT skims for mode choice: a stop-based service is only available near its stops."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tomakomai_maas.demand.los import drt_level_of_service


def test_stop_based_drt_needs_a_different_stop_in_reach_at_both_ends() -> None:
    stops = (SimpleNamespace(lat=42.6400, lon=141.6000),
             SimpleNamespace(lat=42.6300, lon=141.6100))
    drt = SimpleNamespace(virtual_stops=stops, max_walk_m=390.0, max_wait_min=10.0,
                          max_detour_factor=1.5, fare_yen=0.0, service_hours_s=None,
                          area=None)
    # 1: stop 0 -> stop 1 (served); 2: origin ~555 m from stop 0 (too far for 390/1.3 = 300 m);
    # 3: both ends nearest to stop 0 (same stop: no ride); 4: 0.002 deg lat ~222 m: in reach
    o_lat = np.array([42.6400, 42.6450, 42.6400, 42.6420])
    o_lon = np.array([141.6000, 141.6000, 141.6000, 141.6000])
    d_lat = np.array([42.6300, 42.6300, 42.6401, 42.6300])
    d_lon = np.array([141.6100, 141.6100, 141.6001, 141.6100])
    n = len(o_lat)
    _, avail = drt_level_of_service(
        drt, car_ivt_min=np.full(n, 5.0), car_available=np.ones(n, bool),
        depart_s=np.full(n, 36000.0), o_lat=o_lat, o_lon=o_lon, d_lat=d_lat, d_lon=d_lon)
    assert avail.tolist() == [True, False, False, True]


def test_without_a_service_drt_is_unavailable() -> None:
    fields, avail = drt_level_of_service(None, car_ivt_min=np.ones(3),
                                         car_available=np.ones(3, bool),
                                         depart_s=np.zeros(3))
    assert not avail.any() and set(fields) >= {"wait_min", "ivt_min"}
