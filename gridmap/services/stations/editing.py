"""Placing, changing and removing service stations (党群服务站): street admins in their own street
(docs/domain.md, "Who uses it"), system admins anywhere; scoped by ``policy.station_edit_communities_for``.

Rules (docs/domain.md, "Things on the map"): a point inside one of the user's communities (the station's
community follows from its location, lowest code on a shared edge); a service radius in geodesic metres,
default STATION_RADIUS_M (500); radii outside the life-circle references (5-minute walk 300 m to
15-minute 1000 m) are accepted with a warning, as configurable numbers must be, and only radii outside
1..STATION_RADIUS_MAX_M (rules/fields.py) are refused, by the
body's serializer (api/bodies.StationBody). Optimistic concurrency: the ETag is a digest of the row's contents
(:func:`etag_of`); the API compares it by the one rule of api/jsonapi.py while :func:`station_to_edit`
holds the row lock, so of two writers holding the same ETag exactly one wins.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import ServiceStation
from gridmap.rules.fields import plain_number
from gridmap.services.refused import Refused, not_found

LIFE_CIRCLE_M = (300, 1000)


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


def may_edit(user) -> None:
    """403 unless ``user`` may place stations somewhere (checked before the body: rights come first)."""
    if not policy.station_edit_communities_for(user).exists():
        raise Refused(403, "forbidden", detail=_("只有街道管理员可以管理服务站"))


@transaction.atomic
def create_station(user, clean: dict) -> ServiceStation:
    """A new station from ``clean`` (validated by api/bodies.StationBody), in the community its point is in."""
    may_edit(user)
    clean = dict(clean)
    clean.setdefault("radius_m", settings.STATION_RADIUS_M)
    clean["community_id"] = _community_at(user, clean["location"])
    return ServiceStation.objects.create(**clean)


def station_to_edit(user, pk) -> ServiceStation:
    """The station ``user`` may change, row-locked (call inside a transaction): 404 out of scope, 403
    without the right. The API compares the ETag (:func:`etag_of`) after this, by the one concurrency rule
    (api/jsonapi.py), so a refusal for scope or rights never depends on If-Match."""
    if not plain_number(pk) or int(pk) >= 2**63:
        raise not_found("station")
    station = policy.stations_for(user).select_for_update(of=("self",)).filter(pk=int(pk)).first()
    if station is None:
        raise not_found("station")
    may_edit(user)
    if not policy.station_edit_communities_for(user).filter(pk=station.community_id).exists():
        raise Refused(403, "forbidden", detail=_("该服务站不在您管理的街道内"))
    return station


def update_station(user, station: ServiceStation, clean: dict) -> ServiceStation:
    """Change the station held by :func:`station_to_edit` (in the same transaction) by ``clean``
    (validated by api/bodies.StationBody)."""
    clean = dict(clean)
    if "location" in clean:
        clean["community_id"] = _community_at(user, clean["location"])
    for key, value in clean.items():
        setattr(station, key, value)
    station.save()
    return station


def delete_station(station: ServiceStation) -> None:
    """Remove the station held by :func:`station_to_edit` (in the same transaction)."""
    station.delete()
