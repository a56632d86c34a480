"""A grid's households (the grid leader's page data) and one household: card, edit, move, reveal, visits,
help pairs. Thin: parse, call one service or query, answer JSON. Planners get 403 (aggregates only);
a household out of the user's scope is 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridmap.api.jsonapi import body, client_ip, date_field, endpoint, reply
from gridmap.queries.grid_households import household_card
from gridmap.queries.grid_page_cache import cached_grid_page
from gridmap.services.households import care as care
from gridmap.services.refused import not_found


@require_GET
@endpoint(residents=True)
def grid_households(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid's page data, from the freshness-checked cache (queries/grid_page_cache.py); 304 when
    the client's If-None-Match is still the current revision."""
    page = cached_grid_page(request.user, pk)
    if page is None:
        raise not_found("grid")
    text, etag = page
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(text, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-store"  # ASVS V14.3.2: no personal data in browser caches
    return response


@require_http_methods(["GET", "PATCH"])
@endpoint(residents=True)
def household(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the card (phone and ID number masked). PATCH: edit details (not the location: see move)."""
    if request.method == "PATCH":
        item = care.update_household(request.user, pk, body(request))
    else:
        item = care.in_scope(request.user, pk)
    return reply(household_card(request.user, item))


@require_POST
@endpoint(residents=True)
def move(request: HttpRequest, pk: int) -> HttpResponse:
    item = care.move_household(request.user, pk, body(request))
    return reply(household_card(request.user, item))


@require_POST
@endpoint(residents=True)
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Full phone and ID number for a typed ``reason``; every reveal writes an audit row."""
    data = body(request)
    return reply(care.reveal_personal_data(request.user, pk, data.get("reason"), client_ip(request)))


@require_http_methods(["GET", "POST"])
@endpoint(residents=True)
def visits(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        data = body(request)
        visit = care.record_visit(request.user, pk, date_field(data, "visited_on"), data.get("note"))
        return reply(
            {"id": visit.pk, "visited_on": visit.visited_on.isoformat(), "visitor": visit.visitor, "note": visit.note},
            201,
        )
    return reply({"visits": household_card(request.user, care.in_scope(request.user, pk))["visits"]})


@require_POST
@endpoint(residents=True)
def help_pairs(request: HttpRequest, pk: int) -> HttpResponse:
    """{member | unit, start_date}: pair the household with a helper."""
    data = body(request)
    pair = care.create_help_pair(request.user, pk, data, date_field(data, "start_date"))
    return reply(
        {"id": pair.pk, "member": pair.member_id, "unit": pair.unit, "start_date": pair.start_date.isoformat()}, 201
    )


@require_POST
@endpoint(residents=True)
def end_help_pair(request: HttpRequest, pk: int) -> HttpResponse:
    data = body(request)
    pair = care.end_help_pair(request.user, pk, date_field(data, "end_date"))
    return reply({"id": pair.pk, "end_date": pair.end_date.isoformat()})
