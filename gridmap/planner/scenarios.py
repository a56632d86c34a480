"""What-if station scenarios (issue #6): read the stations a planner moved or dropped, and turn the coverage
delta of ``queries.what_if`` into before/after figures. No SQL of its own: the "before" figures of the
touched grids come from ``queries.coverage.grid_coverage`` (the one implementation), the "after" ones are
those plus the delta, so a what-if and a later report of the built station give the same numbers.

Planners see aggregates only: counts per grid, and cells of newly covered households with at least
SMALL_COUNT_MIN of them (smaller cells are withheld and counted); small vulnerable counts read "<5".
"""

from __future__ import annotations

import math
from collections import defaultdict

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geodata.validation import GeometryRejected, validate_point
from gridmap.planner.metrics import suppress
from gridmap.queries.coverage import grid_coverage, ratio
from gridmap.queries.what_if import StationChange, coverage_delta
from gridmap.rules.fields import STATION_RADIUS_MAX_M
from gridmap.services.refused import Refused, not_found

MAX_CHANGES = 50
MAX_RADIUS_M = STATION_RADIUS_MAX_M


def _number(item: dict, key: str, field: str, low: float, high: float) -> float:
    value = item.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise Refused(
            400,
            "bad_value",
            field=f"{field}.{key}",
            detail=_("应为 %(low)s 到 %(high)s 之间的数") % {"low": low, "high": high},
        )
    return float(value)


def parse_changes(items, stations: QuerySet) -> list[StationChange]:
    """``[{"station": id or null, "lon", "lat", "radius_m"}, ...]`` → changes; 400 naming the entry at fault,
    404 for a station id that is not an active station the user may see."""
    if not isinstance(items, list) or not items:
        raise Refused(400, "required", field="stations", detail=_("至少需要一个服务站"))
    if len(items) > MAX_CHANGES:
        raise Refused(400, "too_many", field="stations", detail=_("最多 %(n)s 个服务站") % {"n": MAX_CHANGES})
    changes, seen = [], set()
    for index, item in enumerate(items):
        field = f"stations[{index}]"
        if not isinstance(item, dict):
            raise Refused(400, "not_an_object", field=field, detail=_("应为 JSON 对象"))
        station = item.get("station")
        if station is not None:
            if isinstance(station, bool) or not isinstance(station, int) or not 0 < station < 2**31:
                raise Refused(400, "bad_value", field=f"{field}.station", detail=_("应为正整数"))
            if station in seen:
                raise Refused(400, "duplicate", field=f"{field}.station", detail=_("同一服务站只能出现一次"))
            seen.add(station)
        radius = _number(item, "radius_m", field, 1, MAX_RADIUS_M)
        if not radius.is_integer():
            raise Refused(400, "bad_value", field=f"{field}.radius_m", detail=_("应为整数米"))
        try:
            lon, lat = validate_point({"lon": item.get("lon"), "lat": item.get("lat")}, field=field)
        except GeometryRejected as exc:
            raise Refused.from_geometry(exc) from None
        changes.append(StationChange(station, lon, lat, radius))
    known = set(stations.filter(active=True, pk__in=seen).values_list("pk", flat=True))
    for index, change in enumerate(changes):
        if change.station_id is not None and change.station_id not in known:
            raise not_found(f"stations[{index}].station")
    return changes


def _isolating(count: int) -> bool:
    """A change of 1..SMALL_COUNT_MIN-1 households: shown to a planner, it would single them out."""
    return 0 < abs(count) < settings.SMALL_COUNT_MIN


def _signed(change: int, planner: bool):
    """A signed change as a planner may see it: "+<5" / "-<5" for 1-4 either way."""
    if planner and _isolating(change):
        return f"{'-' if change < 0 else '+'}<{settings.SMALL_COUNT_MIN}"
    return change


def what_if(grids: QuerySet, changes: list[StationChange], *, planner: bool) -> dict:
    """Before/after figures of the grids the changes touch, the totals of the change and where it lands."""
    delta = coverage_delta(grids, changes)
    per_grid = defaultdict(lambda: {"gained": 0, "lost": 0, "needy_gained": 0, "needy_lost": 0})
    per_cell = defaultdict(int)
    for row in delta:
        for key in ("gained", "lost", "needy_gained", "needy_lost"):
            per_grid[row["grid_id"]][key] += row[key]
        per_cell[(row["lat"], row["lon"])] += row["gained"]
    before = grid_coverage(grids.filter(pk__in=list(per_grid)), few=True) if per_grid else []
    out_grids = []
    for row in before:
        d = per_grid[row["grid_id"]]
        covered = row["covered"] + d["gained"] - d["lost"]
        needy = row["vulnerable_uncovered"] - d["needy_gained"] + d["needy_lost"]
        entry = {
            "grid_id": row["grid_id"],
            "code": row["code"],
            "name": row["name"],
            "households": row["households"],
            "covered_before": row["covered"],
            "covered_after": covered,
            "gained": d["gained"],
            "lost": d["lost"],
            "covered_pct_before": row["covered_pct"],
            "covered_pct_after": ratio(covered, row["households"], 100.0),
            "vulnerable_uncovered_before": suppress(row["vulnerable_uncovered"], planner),
            "vulnerable_uncovered_after": suppress(needy, planner),
            "suppressed": False,
        }
        if planner and any(_isolating(d[k]) for k in d):  # before and after would tell 1-4 households apart
            entry.update(covered_after=None, covered_pct_after=None, vulnerable_uncovered_after=None, suppressed=True)
            entry.update(gained=suppress(d["gained"], True), lost=suppress(d["lost"], True))
        out_grids.append(entry)
    floor = settings.SMALL_COUNT_MIN if planner else 1
    cells = [[round(lat, 6), round(lon, 6), n] for (lat, lon), n in sorted(per_cell.items()) if n >= floor]
    withheld = sum(1 for n in per_cell.values() if 0 < n < floor)
    gained = sum(d["gained"] for d in per_grid.values())
    lost = sum(d["lost"] for d in per_grid.values())
    needy_change = sum(d["needy_lost"] - d["needy_gained"] for d in per_grid.values())
    return {
        "stations": [
            {"station": c.station_id, "lon": c.lon, "lat": c.lat, "radius_m": int(c.radius_m)} for c in changes
        ],
        "gained": suppress(gained, planner),
        "lost": suppress(lost, planner),
        "net": _signed(gained - lost, planner) if not planner or not (_isolating(gained) or _isolating(lost)) else None,
        "vulnerable_uncovered_change": _signed(needy_change, planner),
        "grids": out_grids,
        "cells": cells,
        "withheld_cells": withheld,
        "suppressed_below": settings.SMALL_COUNT_MIN if planner else None,
    }
