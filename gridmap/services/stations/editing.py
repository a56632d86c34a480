"""Placing, changing and removing service stations (党群服务站): street admins in their own street
(docs/domain.md, "Who uses it"), system admins anywhere; scoped by ``policy.station_edit_communities_for``.

Rules (docs/domain.md, "Things on the map"): a point inside one of the user's communities (the station's
community follows from its location, lowest code on a shared edge); a service radius in geodesic metres,
default STATION_RADIUS_M (500); radii outside the life-circle references (5-minute walk 300 m to
15-minute 1000 m) are accepted with a warning, as configurable numbers must be, and only radii outside
1..MAX_RADIUS_M are refused. Optimistic concurrency: the ETag is a digest of the row's contents
(:func:`etag_of`); the API compares it by the one rule of api/jsonapi.py while :func:`station_to_edit`
holds the row lock, so of two writers holding the same ETag exactly one wins.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils.translation import gettext as _

from geodata.validation import GeometryRejected, validate_point
from gridmap import policy
from gridmap.models import ServiceStation
from gridmap.models.stations import StationKind
from gridmap.rules.fields import STATION_RADIUS_MAX_M, hidden_refusal, station_radius_ok
from gridmap.services.refused import Refused, not_found

MAX_RADIUS_M = STATION_RADIUS_MAX_M  # the one bound (rules/fields.py), the database check too
LIFE_CIRCLE_M = (300, 1000)
_TEXT = {"name": 100, "opening_hours": 100, "services": 500}
FIELDS = ("name", "kind", "radius_m", "opening_hours", "services", "active", "location")


def etag_of(station: ServiceStation) -> str:
    parts = [
        station.name,
        station.kind,
        station.radius_m,
        station.community_id,
        station.opening_hours,
        station.services,
        station.active,
        station.location.wkt if station.location else "",
    ]
    text = "\x1f".join(str(p) for p in parts)  # str: a fresh row's kind is an enum member, a loaded one text
    return '"' + hashlib.sha1(text.encode()).hexdigest()[:20] + '"'


def _point(value) -> Point:
    try:
        lon, lat = validate_point(value, field="location")
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc) from None
    return Point(lon, lat, srid=4326)


def _clean(data: dict, *, creating: bool) -> dict:
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise Refused(400, "unknown_field", field=unknown[0], detail=_("不能修改的字段"))
    if creating:
        for required in ("name", "location"):
            if required not in data:
                raise Refused(400, "required", field=required, detail=_("必填"))
    clean = {}
    for key, value in data.items():
        if key in _TEXT:
            if not isinstance(value, str) or len(value) > _TEXT[key] or (key == "name" and not value.strip()):
                raise Refused(400, "bad_value", field=key, detail=_("文字为空或过长"))
            if hidden_refusal(value):
                raise Refused(400, hidden_refusal(value), field=key)
            clean[key] = value.strip()
        elif key == "kind":
            if value not in StationKind.values:
                raise Refused(400, "bad_value", field=key, detail=", ".join(StationKind.values))
            clean[key] = value
        elif key == "radius_m":
            if not station_radius_ok(value):
                raise Refused(
                    400,
                    "bad_value",
                    field=key,
                    detail=_("服务半径应为 1 到 %(max)s 之间的整数（米）") % {"max": MAX_RADIUS_M},
                )
            clean[key] = value
        elif key == "active":
            if not isinstance(value, bool):
                raise Refused(400, "bad_value", field=key, detail=_("应为 true 或 false"))
            clean[key] = value
        elif key == "location":
            clean[key] = _point(value)
    return clean


def _community_at(user, point: Point) -> int:
    community = policy.station_edit_communities_for(user).filter(boundary__covers=point).order_by("code").first()
    if community is None:
        raise Refused(400, "outside_scope", field="location", detail=_("位置不在您可管理的社区内"))
    return community.pk


def warnings(station: ServiceStation) -> list[str]:
    low, high = LIFE_CIRCLE_M
    if not low <= station.radius_m <= high:
        return [
            _("服务半径 %(r)s 米不在生活圈参考范围 %(low)s–%(high)s 米内")
            % {"r": station.radius_m, "low": low, "high": high}
        ]
    return []


def _may_edit(user) -> None:
    if not policy.station_edit_communities_for(user).exists():
        raise Refused(403, "forbidden", detail=_("只有街道管理员可以管理服务站"))


@transaction.atomic
def create_station(user, data: dict) -> ServiceStation:
    _may_edit(user)
    clean = _clean(data, creating=True)
    clean.setdefault("radius_m", settings.STATION_RADIUS_M)
    clean["community_id"] = _community_at(user, clean["location"])
    return ServiceStation.objects.create(**clean)


def station_to_edit(user, pk) -> ServiceStation:
    """The station ``user`` may change, row-locked (call inside a transaction): 404 out of scope, 403
    without the right. The API compares the ETag (:func:`etag_of`) after this, by the one concurrency rule
    (api/jsonapi.py), so a refusal for scope or rights never depends on If-Match."""
    if not str(pk).isdigit() or int(pk) >= 2**63:
        raise not_found("station")
    station = policy.stations_for(user).select_for_update(of=("self",)).filter(pk=int(pk)).first()
    if station is None:
        raise not_found("station")
    _may_edit(user)
    if not policy.station_edit_communities_for(user).filter(pk=station.community_id).exists():
        raise Refused(403, "forbidden", detail=_("该服务站不在您管理的街道内"))
    return station


def update_station(user, station: ServiceStation, data: dict) -> ServiceStation:
    """Change the station held by :func:`station_to_edit` (in the same transaction)."""
    clean = _clean(data, creating=False)
    if not clean:
        raise Refused(400, "empty", field="body", detail=_("没有要修改的字段"))
    if "location" in clean:
        clean["community_id"] = _community_at(user, clean["location"])
    for key, value in clean.items():
        setattr(station, key, value)
    station.save()
    return station


def delete_station(station: ServiceStation) -> None:
    """Remove the station held by :func:`station_to_edit` (in the same transaction)."""
    station.delete()
