"""The concern webhook's page (/concerns/webhook/): the deliveries of a scope that still need attention, failed
first, with their counts per status. The scope comes from policy.concern_deliveries_for."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from gridmap.models import ConcernDelivery, DeliveryStatus

LIST_LIMIT = 200
WAITING = (DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def delivery_etag(d: ConcernDelivery) -> str:
    """A delivery's ETag (api/etags.concern_delivery): its status and attempts, which a sender and a retry move."""
    return f'"{d.pk}-{d.status}-{d.attempts}"'


def delivery_board(scope: QuerySet[ConcernDelivery], status: str = "") -> dict:
    """``rows``: up to LIST_LIMIT deliveries of ``status`` (default: failed, pending and sending), failed first,
    then the longest waiting; ``counts``: the scope's deliveries per status (one grouped query)."""
    wanted = [status] if status in DeliveryStatus.values else list(WAITING)
    rows = (
        scope.filter(status__in=wanted)
        .select_related("event")
        .annotate(failed_first=Case(When(status=DeliveryStatus.FAILED, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
        .order_by("failed_first", "created_at", "id")[:LIST_LIMIT]
    )  # fmt: skip
    rows = list(rows)
    for d in rows:
        d.etag = delivery_etag(d)  # the retry button's If-Match
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    counts.update(scope.order_by().values_list("status").annotate(n=Count("id")))
    return {"rows": rows, "counts": counts, "limit": LIST_LIMIT}
