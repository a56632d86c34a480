"""Party-member central households: designate, retire, suggestions, links (/api/v1/households/<id>/central).
Thin wrappers of services/people/central.py; the URL names the central household by its household id.
Retiring it and changing its links name its ETag (``etag`` of its GET) in ``If-Match``."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from gridmap.api import etags
from gridmap.api.jsonapi import body, endpoint, precondition, reply
from gridmap.models import CentralHousehold
from gridmap.services.people import central as service


def _status(pk: int) -> dict:
    return {**service.central_status(pk), "etag": etags.central(pk)}


def _hold(request: HttpRequest, pk: int) -> None:
    """404/409 as the service says, then the central household locked and its ETag compared (412)."""
    found = service.central_of(request.user, pk)
    CentralHousehold.objects.select_for_update().filter(pk=found.pk).first()
    precondition(request, etags.central(pk), {"current": _status(pk)})


@endpoint(residents=True, creates=("POST",), guards=("DELETE",))
@transaction.atomic
def central_household(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: load and warnings. POST: designate. DELETE: no longer central (its links are removed)."""
    if request.method == "POST":
        return reply({**service.designate_central_household(request.user, pk), "etag": etags.central(pk)}, 201)
    if request.method == "DELETE":
        _hold(request, pk)
        return reply({**service.retire_central_household(request.user, pk), "etag": etags.central(pk)})
    service.central_of(request.user, pk)
    status = _status(pk)
    return reply(status, etag=status["etag"])


@endpoint(residents=True)
def suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    return reply({"household_id": pk, "suggestions": service.suggest_links(request.user, pk)})


@endpoint(residents=True, guards=("POST", "DELETE"), get=False)
@transaction.atomic
def links(request: HttpRequest, pk: int) -> HttpResponse:
    """{household_ids: [...]}: POST links them, DELETE unlinks them."""
    _hold(request, pk)
    ids = body(request).get("household_ids")
    if request.method == "DELETE":
        return reply({**service.unlink_households(request.user, pk, ids), "etag": etags.central(pk)})
    return reply({**service.link_households(request.user, pk, ids), "etag": etags.central(pk)}, 201)
