"""Party-member central households: designate, retire, suggestions, links. Thin wrappers of
services.central; the URL names the central household by its household id."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from gridmap.api.jsonapi import body, endpoint, reply
from gridmap.services.people import central as service


@require_http_methods(["GET", "POST", "DELETE"])
@endpoint(residents=True)
def central_household(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: load and warnings. POST: designate. DELETE: no longer central (its links are removed)."""
    if request.method == "POST":
        return reply(service.designate_central_household(request.user, pk), 201)
    if request.method == "DELETE":
        return reply(service.retire_central_household(request.user, pk))
    service.central_of(request.user, pk)
    return reply(service.central_status(pk))


@require_GET
@endpoint(residents=True)
def suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    return reply({"household_id": pk, "suggestions": service.suggest_links(request.user, pk)})


@require_http_methods(["POST", "DELETE"])
@endpoint(residents=True)
def links(request: HttpRequest, pk: int) -> HttpResponse:
    """{household_ids: [...]}: POST links them, DELETE unlinks them."""
    ids = body(request).get("household_ids")
    if request.method == "DELETE":
        return reply(service.unlink_households(request.user, pk, ids))
    return reply(service.link_households(request.user, pk, ids), 201)
