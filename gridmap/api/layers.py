"""GeoJSON layer endpoints for the map pages. Thin: parse, scope through the policy, query, respond."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api.jsonapi import endpoint
from gridmap.queries import layers
from gridmap.queries.aggregate_cache import cached_aggregate
from gridmap.queries.grid_page_cache import cached_households_layer
from gridmap.services.refused import Refused

GEOJSON = "application/geo+json"


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` → tuple; raises ValueError with a reason for anything else."""
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise ValueError(_("bbox 需要 4 个数：最小经度,最小纬度,最大经度,最大纬度"))
    values = tuple(float(p) for p in parts)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(_("bbox 含有非有限数值"))
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90):
        raise ValueError(_("bbox 超出经纬度范围或最小值大于最大值"))
    return values


def _layer_view(build, *, residents: bool = False):
    @endpoint(residents=residents)
    def view(request: HttpRequest) -> HttpResponse:
        try:
            bbox = parse_bbox(request.GET.get("bbox"))
        except ValueError as exc:
            raise Refused(400, "bad_value", field="bbox", detail=str(exc)) from None
        response = HttpResponse(build(request.user, bbox), content_type=GEOJSON)
        response["Cache-Control"] = "private, no-store"
        return response

    return view


def _grids(user, bbox) -> str:
    """The street map shows the published state; drafts and retired grids live in the grid editor. The whole
    scope (the planner's and the street map's first view) comes from the revision-checked cache: at a million
    households it is a 1 MB answer built from a pass over every household."""
    grids = policy.grids_for(user).published()
    if bbox is None:
        return cached_aggregate("layer:grids", user, grids, lambda: layers.grids_layer(grids))
    return layers.grids_layer(grids, bbox)


grids = _layer_view(_grids)
communities = _layer_view(lambda user, bbox: layers.communities_layer(policy.communities_for(user), bbox))
stations = _layer_view(lambda user, bbox: layers.stations_layer(policy.stations_for(user), bbox))
households = _layer_view(cached_households_layer, residents=True)  # revision-checked cache
links = _layer_view(lambda user, bbox: layers.links_layer(policy.households_for(user), bbox), residents=True)
