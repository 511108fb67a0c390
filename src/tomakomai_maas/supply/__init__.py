"""Supply: GTFS / GTFS-JP feeds, timetabled lines and vehicle type presets.

Nothing here runs in time. See :mod:`.gtfs` (read/validate/write feeds), :mod:`.lines`
(feed -> TripSchedule, synthetic line -> feed) and :mod:`.vehicles` (VehicleType presets).
"""

from tomakomai_maas.supply.gtfs import (
    Feed,
    active_service_ids,
    build_feed,
    merge_feeds,
    read_feed,
    service_dates,
    trips_on,
    validate_feed,
    write_feed,
)
from tomakomai_maas.supply.lines import schedules_from_feed, synthetic_line_feed
from tomakomai_maas.supply.vehicles import ASSUMPTIONS, SOURCES, VEHICLE_TYPES, vehicle_type

__all__ = [
    "Feed",
    "read_feed",
    "write_feed",
    "build_feed",
    "merge_feeds",
    "validate_feed",
    "active_service_ids",
    "trips_on",
    "service_dates",
    "schedules_from_feed",
    "synthetic_line_feed",
    "VEHICLE_TYPES",
    "ASSUMPTIONS",
    "SOURCES",
    "vehicle_type",
]
