"""A grid's households (the grid leader's page data) and one household: card, edit, move, reveal, visits,
help pairs (/api/v1/households/…). Thin: parse, call one service or query, answer JSON. Planners get 403
(aggregates only); a household out of the user's scope is 404.

Editing and moving a household name its ETag (``etag`` of the card or of its row in the grid page) in
``If-Match``; ending a help pair names the pair's. Reveals, visits and new help pairs create rows.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api import etags
from gridmap.api.bodies import HouseholdChanges, HouseholdMove, validated
from gridmap.api.jsonapi import body, client_ip, date_field, endpoint, locked, reply
from gridmap.queries.grid_households import household_card
from gridmap.queries.grid_page_cache import cached_grid_page
from gridmap.services.households import care as care
from gridmap.services.refused import Refused, not_found


def card(user, item) -> dict:
    """The household's card with the ETags of the household and of its help pairs."""
    data = household_card(user, item)
    for pair in data["help_pairs"]:
        pair["etag"] = etags.dated(pair["start_date"], None)  # the card lists active pairs only
    return {**data, "etag": etags.household(item)}


def _locked_household(request: HttpRequest, pk: int):
    return locked(
        request,
        policy.households_for(request.user),
        pk,
        field="household",
        etag=etags.household,
        state=lambda h: {"current": card(request.user, h)},
    )


@endpoint(residents=True)
def grid_households(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid's page data, from a freshness-checked cache; 304 when the client's If-None-Match is still the
    current revision. Each household row carries its ``etag``."""
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


@endpoint(residents=True, guards=("PATCH",))
@transaction.atomic
def household(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the card (phone and ID number masked). PATCH: edit details (not the location: see move)."""
    if request.method == "PATCH":
        _locked_household(request, pk)
        item = care.update_household(request.user, pk, validated(HouseholdChanges, body(request), partial=True))
    else:
        item = care.in_scope(request.user, pk)
    data = card(request.user, item)
    return reply(data, etag=data["etag"])


@endpoint(residents=True, guards=("POST",), get=False)
@transaction.atomic
def move(request: HttpRequest, pk: int) -> HttpResponse:
    _locked_household(request, pk)
    item = care.move_household(request.user, pk, validated(HouseholdMove, body(request))["location"])
    data = card(request.user, item)
    return reply(data, etag=data["etag"])


@endpoint(residents=True, creates=("POST",), get=False)
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Full phone and ID number for a typed ``reason``; every reveal writes an audit row (a create: the
    household itself is not changed, so no If-Match)."""
    data = body(request)
    return reply(care.reveal_personal_data(request.user, pk, data.get("reason"), client_ip(request)))


@endpoint(residents=True, creates=("POST",))
def visits(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        data = body(request)
        visit = care.record_visit(request.user, pk, date_field(data, "visited_on"), data.get("note"))
        return reply(
            {"id": visit.pk, "visited_on": visit.visited_on.isoformat(), "visitor": visit.visitor, "note": visit.note},
            201,
        )
    return reply({"visits": household_card(request.user, care.in_scope(request.user, pk))["visits"]})


@endpoint(residents=True, creates=("POST",), get=False)
def help_pairs(request: HttpRequest, pk: int) -> HttpResponse:
    """{member | unit, start_date}: pair the household with a helper."""
    data = body(request)
    pair = care.create_help_pair(request.user, pk, data, date_field(data, "start_date"))
    return reply(
        {
            "id": pair.pk,
            "member": pair.member_id,
            "unit": pair.unit,
            "start_date": pair.start_date.isoformat(),
            "etag": etags.help_pair(pair),
        },
        201,
    )


@endpoint(residents=True, guards=("POST",), get=False)
@transaction.atomic
def end_help_pair(request: HttpRequest, pk: int) -> HttpResponse:
    """Ending a pair needs the right to make one (policy.may_pair_help): 404 out of scope, then 403, then If-Match."""
    if not policy.help_pairs_for(request.user).filter(pk=pk).exists():
        raise not_found("help_pair")
    if not policy.may_pair_help(request.user):
        raise Refused(403, "forbidden", detail=_("无权结束帮扶对子"))
    locked(
        request,
        policy.help_pairs_for(request.user),
        pk,
        field="help_pair",
        etag=etags.help_pair,
        state=lambda p: {"current": {"id": p.pk, "end_date": p.end_date.isoformat() if p.end_date else None}},
    )
    data = body(request)
    pair = care.end_help_pair(request.user, pk, date_field(data, "end_date"))
    return reply({"id": pair.pk, "end_date": pair.end_date.isoformat(), "etag": etags.help_pair(pair)})
