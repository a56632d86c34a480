"""Planner what-if and proposal endpoints (issue #6), and the coverage figures per community, street and
selection. Thin: check the role, scope through the policy, parse, call one query or service, reply.
Aggregates only: no endpoint here returns a household."""

from __future__ import annotations

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from geodata.validation import GeometryRejected, validate_geojson
from gridmap import policy
from gridmap.api.jsonapi import body, endpoint, reply
from gridmap.api.planning import check_dashboard, choice  # the dashboard's role check and choice parser
from gridmap.planner import metrics as planning
from gridmap.planner import scenarios
from gridmap.queries.aggregate_cache import cached_aggregate
from gridmap.queries.coverage_areas import area_coverage
from gridmap.queries.coverage_store import stored_coverage
from gridmap.services.refused import Refused, checked_text, not_found
from gridmap.services.stations.proposals import changes_of, save_proposal

MAX_SELECTION = 5000


def _planner(request: HttpRequest) -> bool:
    return policy.small_counts_suppressed(request.user)


def _suppressed(rows: list[dict], planner: bool) -> list[dict]:
    for row in rows:
        for key in ("vulnerable", "vulnerable_uncovered"):
            row[key] = planning.suppress(row[key], planner)
    return rows


@endpoint()
def areas(request: HttpRequest) -> HttpResponse:
    """?level=community|street: the coverage figures summed per area of the published grids in scope."""
    check_dashboard(request)
    level = choice(request, "level", ("community", "street"), "community")
    grids = policy.grids_for(request.user).published()
    per_grid = cached_aggregate("coverage", request.user, grids, lambda: stored_coverage(grids))  # the metrics' rows
    rows = cached_aggregate(f"areas:{level}", request.user, grids, lambda: area_coverage(grids, level, per_grid))
    return reply({"level": level, "areas": _suppressed(rows, _planner(request))})


def _selection_grids(request: HttpRequest, data: dict):
    grids = policy.grids_for(request.user).published()
    if "polygon" in data:
        try:  # the one polygon validator: structure, ranges, validity, named reasons
            polygon = validate_geojson(data["polygon"], field="polygon")
        except GeometryRejected as exc:
            raise Refused.from_geometry(exc, "polygon") from None
        shape = GEOSGeometry(memoryview(shapely.to_wkb(polygon)))
        shape.srid = 4326
        return grids.filter(boundary__relate=(shape, "T********"))  # interiors overlap: a shared edge is not enough
    ids = data.get("grids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_SELECTION
        or any(isinstance(i, bool) or not isinstance(i, int) or not 0 < i < 2**31 for i in ids)
    ):
        raise Refused(400, "bad_value", field="grids", detail=_("应为网格编号列表，或提供 polygon"))
    chosen = grids.filter(pk__in=ids)
    found = set(chosen.values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"grids[{ids.index(missing[0])}]")
    return chosen


@endpoint(reads=("POST",), get=False)
def selection(request: HttpRequest) -> HttpResponse:
    """{"grids": [ids]} or {"polygon": GeoJSON}: the figures of that selection of published grids in scope."""
    check_dashboard(request)
    grids = _selection_grids(request, body(request))
    row = _suppressed(area_coverage(grids, "selection", stored_coverage(grids)), _planner(request))[0]
    row["grid_ids"] = sorted(grids.values_list("pk", flat=True))
    return reply(row)


@endpoint(reads=("POST",), get=False)
def what_if(request: HttpRequest) -> HttpResponse:
    """{"stations": [{"station": id|null, "lon", "lat", "radius_m"}]}: before/after, nothing saved."""
    check_dashboard(request)
    changes = scenarios.parse_changes(body(request).get("stations"), policy.stations_for(request.user))
    return reply(scenarios.what_if(policy.grids_for(request.user).published(), changes, planner=_planner(request)))


def _summary(proposal) -> dict:
    return {
        "id": proposal.pk,
        "name": proposal.name,
        "street": proposal.street.code,
        "author": proposal.author.get_full_name() or proposal.author.get_username(),
        "created": proposal.created.isoformat(),
        "stations": proposal.stations.count(),
    }


@endpoint(creates=("POST",))
def proposals(request: HttpRequest) -> HttpResponse:
    """GET: the proposals of the streets in scope. POST {"name", "street"?, "stations"}: save one (audited)."""
    check_dashboard(request)
    if request.method == "GET":
        return reply(
            {"proposals": [_summary(p) for p in policy.proposals_for(request.user).select_related("street", "author")]}
        )
    data = body(request)
    name = checked_text(data.get("name"), "name", 100)  # the one text rule: hidden characters too
    streets = policy.streets_for(request.user)
    code = data.get("street")
    if code is None:
        if streets.count() != 1:
            raise Refused(400, "required", field="street", detail=_("请指定街道代码"))
        street = streets.get()
    else:
        street = streets.filter(code=str(code)).first() if isinstance(code, (str, int)) else None
        if street is None:
            raise not_found("street")
    changes = scenarios.parse_changes(data.get("stations"), policy.stations_for(request.user))
    proposal = save_proposal(request.user, name, street, changes, request=request)
    return reply(_summary(proposal), 201)


@endpoint()
def proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """One proposal of a street in scope with its what-if figures recomputed against today's data."""
    check_dashboard(request)
    found = policy.proposals_for(request.user).select_related("street", "author").filter(pk=pk).first()
    if found is None:
        raise not_found()
    result = scenarios.what_if(policy.grids_for(request.user).published(), changes_of(found), planner=_planner(request))
    return reply({**_summary(found), "what_if": result})
