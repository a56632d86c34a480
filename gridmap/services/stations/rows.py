"""The rows of a service-station import: points inside a community of the importer's streets.

A station's community is the one named in 社区代码 (the point must lie in it) or else the community whose
boundary covers the point. A station with the same name in the same community is updated, not duplicated.
"""

from __future__ import annotations

import json

import shapely
from django.contrib.gis.geos import Point

from geodata.validation import GeometryRejected
from gridmap.models import Community, ServiceStation
from gridmap.rules.fields import station_radius_ok
from gridmap.services.layers.rows import Rows, boolean, column, number_text, text

NAME = ("名称", "name")
KIND = ("类型", "kind")
RADIUS = ("服务半径(米)", "服务半径", "radius_m", "radius")
HOURS = ("开放时间", "hours", "opening_hours")
SERVICES = ("服务项目", "services")
COMMUNITY = ("社区代码", "comm_code", "community_code", "community")
ACTIVE = ("运行中", "active")


def _point(geom) -> shapely.Point:
    if geom is None or geom.is_empty:
        raise GeometryRejected("empty")
    if geom.geom_type == "MultiPoint":
        if len(geom.geoms) != 1:
            raise GeometryRejected("geometry_type", detail="MultiPoint")
        geom = geom.geoms[0]
    x, y = geom.x, geom.y
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise GeometryRejected("looks_projected" if abs(x) > 1000 or abs(y) > 1000 else "out_of_range", location=(x, y))
    return shapely.Point(x, y)


def _radius(value, rows: Rows, i: int, default: int) -> int | None:
    raw = number_text(value).strip() if value is not None and value == value else ""
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not station_radius_ok(int(raw)):
        rows.error(i, "radius_m", "bad_number", raw[:20])
        return None
    return int(raw)


def check_stations(frame, rows: Rows, locked: dict, *, default_radius: int, kinds: dict):
    cols = {
        key: column(frame, *names)
        for key, names in (
            ("name", NAME),
            ("kind", KIND),
            ("radius", RADIUS),
            ("hours", HOURS),
            ("services", SERVICES),
            ("community", COMMUNITY),
            ("active", ACTIVE),
        )
    }
    if cols["name"] is None:
        rows.error(1, "name", "column_missing", "名称/name")
        return [], lambda: (0, 0)
    communities = {c.code: c for c in Community.objects.filter(street__in=list(locked.values()))}
    shapes = {code: shapely.from_wkb(bytes(c.boundary.wkb)) for code, c in communities.items()}
    shapely.prepare(list(shapes.values()))
    stored = {(s.community_id, s.name): s for s in ServiceStation.objects.filter(community__in=communities.values())}
    accepted, preview, seen = [], [], {}
    for record, geom in zip(frame.to_dict("records"), frame.geometry.values):
        i = int(record["_row"])
        get = lambda key, record=record: record.get(cols[key]) if cols[key] is not None else None  # noqa: E731
        name = text(get("name"), rows, i, "name", max_length=100, required=True)
        hours = text(get("hours"), rows, i, "opening_hours", max_length=100)
        services = text(get("services"), rows, i, "services", max_length=500)
        code = text(number_text(get("community")), rows, i, "community", max_length=12)
        kind_raw = text(get("kind"), rows, i, "kind", max_length=20)
        kind = kinds.get(kind_raw or "station")
        if kind_raw is not None and kind is None:
            rows.error(i, "kind", "bad_kind", kind_raw)
        radius = _radius(get("radius"), rows, i, default_radius)
        active = boolean(get("active"), rows, i, "active", True)
        try:
            point = _point(geom)
        except GeometryRejected as exc:
            rows.geometry_error(i, exc)
            continue
        if None in (name, hours, services, code, kind, radius, active):
            continue
        if code:
            if code not in communities:
                rows.error(i, "community", "community_not_in_scope", code)
                continue
            if not shapes[code].covers(point):
                rows.error(i, "geometry", "outside_community", f"{point.x:.6f} {point.y:.6f}")
                continue
        else:
            code = next((c for c in sorted(shapes) if shapes[c].covers(point)), None)
            if code is None:
                rows.error(i, "geometry", "outside_scope", f"{point.x:.6f} {point.y:.6f}")
                continue
        community = communities[code]
        key = (community.pk, name)
        if key in seen:
            rows.error(i, "name", "duplicate_name", f"row {seen[key]}")
            continue
        seen[key] = i
        fields = dict(
            name=name,
            kind=kind,
            radius_m=radius,
            opening_hours=hours,
            services=services,
            active=active,
            community=community,
            location=Point(point.x, point.y, srid=4326),
        )
        accepted.append((key, fields))
        preview.append(
            {
                "row": i,
                "name": name,
                "community": code,
                "action": "update" if key in stored else "create",
                "geometry": json.loads(shapely.to_geojson(point)),
            }
        )

    def write():
        new, changed = [], []
        for key, fields in accepted:
            if key in stored:
                for attr, value in fields.items():
                    setattr(stored[key], attr, value)
                changed.append(stored[key])
            else:
                new.append(ServiceStation(**fields))
        ServiceStation.objects.bulk_create(new)
        ServiceStation.objects.bulk_update(
            changed, ["kind", "radius_m", "opening_hours", "services", "active", "location"]
        )
        return len(new), len(changed)

    return preview, write
