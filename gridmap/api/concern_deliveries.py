"""The concern webhook's deliveries (/api/v1/concern-deliveries/<id>/retry): an admin makes a pending or failed
delivery due now (services/concerns/webhook.retry, audited). The list is the page /concerns/webhook/
(views/concerns.py). Scope from policy.concern_deliveries_for: 404 out of it, 403 for roles without the page;
the retry names the row's ETag (its status and attempts) in If-Match."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api import etags
from gridmap.api.jsonapi import endpoint, locked, reply
from gridmap.models import ConcernDelivery
from gridmap.services.concerns import webhook
from gridmap.services.refused import Refused


def row(d: ConcernDelivery) -> dict:
    """A delivery as the page lists it (no payload: codes only, but the page does not need them)."""
    return {
        "id": d.pk,
        "event_id": d.event_id,
        "concern_id": d.concern_id,
        "status": d.status,
        "status_label": d.get_status_display(),
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "last_attempt_at": d.last_attempt_at.isoformat() if d.last_attempt_at else None,
        "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
        "etag": etags.concern_delivery(d),
    }


@endpoint(residents=True, guards=("POST",), get=False)
@transaction.atomic
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send this delivery with the next sender run (now): scope (404), then rights (403), then If-Match."""
    user = request.user
    if not policy.sees_concern_deliveries(user):
        raise Refused(403, "forbidden", detail=_("只有系统管理员和街道管理员可以重发推送"))
    scope = policy.concern_deliveries_for(user)
    locked(request, scope, pk, field="delivery", etag=etags.concern_delivery, state=lambda d: {"current": row(d)})
    delivery = webhook.retry(user, scope, pk, request=request)
    return reply(row(delivery), etag=etags.concern_delivery(delivery))
