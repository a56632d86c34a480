"""Sending the outbox (services/concerns/outbox.py) to the 12345 platform: ``manage.py concern_webhooks``.

- **Claimed set-based, never twice.** A sender claims a batch of due rows with one UPDATE over a
  ``SELECT … FOR UPDATE SKIP LOCKED`` (two senders skip each other's rows), marks them ``sending`` until a lease
  ends, commits, and only then talks HTTP (no transaction held open over the network). A sender that dies leaves
  its rows to be claimed again when the lease ends: at least once, so receivers deduplicate by event id.
- **Signed.** ``X-GridMap-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with
  ``X-GridMap-Timestamp`` (Unix seconds) and ``X-GridMap-Event-Id``; the body is the stored payload, the same
  bytes on every attempt (docs/operations.md shows a receiver's check).
- **Retried with backoff.** A 2xx delivers; anything else (a redirect too: none is followed) waits BACKOFF[n]
  after the n-th failed attempt, and the attempt after the last wait marks the row failed, shown on
  /concerns/webhook/ where an admin may retry it (:func:`retry`, audited).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.models import AuditAction, ConcernDelivery, DeliveryStatus
from gridmap.services import audit
from gridmap.services.concerns.outbox import configuration_problem, enabled
from gridmap.services.refused import Refused, not_found

BACKOFF = (60, 300, 1800, 7200, 43200)  # seconds after the 1st…5th failed attempt: 1 min, 5 min, 30 min, 2 h, 12 h
ATTEMPTS = len(BACKOFF) + 1  # the attempt after the last wait is the last
ERROR_CHARS = 300
RESPONSE_READ_BYTES = 1024

# Why SQL: the claim must be one statement so that SKIP LOCKED decides, row by row, which sender takes what.
_CLAIM = """
WITH due AS (
    SELECT id FROM gridmap_concerndelivery
     WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
     ORDER BY next_attempt_at, id
     LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
)
UPDATE gridmap_concerndelivery d
   SET status = 'sending', next_attempt_at = now() + make_interval(secs => %(lease)s)
  FROM due
 WHERE d.id = due.id
RETURNING d.id, d.event_id, d.payload::text
"""
# One UPDATE for a batch's outcomes; ``sent_at`` is when each request went out (the schedule counts from it).
_RECORD = """
UPDATE gridmap_concerndelivery d
   SET attempts = d.attempts + 1, last_attempt_at = r.sent_at, last_status = r.code, last_error = r.error,
       status = CASE WHEN r.ok THEN 'delivered' WHEN d.attempts + 1 >= %(attempts)s THEN 'failed' ELSE 'pending' END,
       delivered_at = CASE WHEN r.ok THEN r.sent_at END,
       next_attempt_at = CASE WHEN r.ok OR d.attempts + 1 >= %(attempts)s THEN d.next_attempt_at
                              ELSE r.sent_at + make_interval(secs => (%(backoff)s::int[])[d.attempts + 1]) END
  FROM unnest(%(ids)s::bigint[], %(ok)s::boolean[], %(codes)s::int[], %(errors)s::text[], %(sent)s::timestamptz[])
       AS r(id, ok, code, error, sent_at)
 WHERE d.id = r.id AND d.status = 'sending'
"""


@dataclass
class Outcome:
    ok: bool
    code: int | None
    error: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _clean(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:ERROR_CHARS]


def post(event_id: int, body: bytes) -> Outcome:
    """One signed POST of ``body`` to CONCERN_WEBHOOK_URL with the short timeout (http.client: no redirect is
    ever followed, no proxy from the environment); never raises."""
    url = urlsplit(settings.CONCERN_WEBHOOK_URL)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "GridMap-Webhook/1", "X-GridMap-Timestamp": timestamp,
        "X-GridMap-Event-Id": str(event_id),
        "X-GridMap-Signature": sign(settings.CONCERN_WEBHOOK_SECRET, timestamp, body),
    }  # fmt: skip
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = kind(url.hostname, url.port, timeout=settings.CONCERN_WEBHOOK_TIMEOUT)
    try:
        conn.request("POST", (url.path or "/") + (f"?{url.query}" if url.query else ""), body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read(RESPONSE_READ_BYTES).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, reset, timed out, DNS, TLS
        return Outcome(False, None, _clean(f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
    if 200 <= response.status < 300:
        return Outcome(True, response.status, "")
    if 300 <= response.status < 400:
        error = f"HTTP {response.status}: redirect to {response.getheader('Location', '?')} not followed"
    else:
        error = f"HTTP {response.status}: {answer}"
    return Outcome(False, response.status, _clean(error))


def send_due(*, batch: int = 50, max_batches: int = 1000) -> dict[str, int]:
    """Send every due delivery, a batch at a time, until none is due; counts of delivered and failed attempts."""
    problem = configuration_problem()
    if not enabled() or problem:
        return {"delivered": 0, "failed": 0, "skipped": 1 if problem else 0}
    lease = batch * settings.CONCERN_WEBHOOK_TIMEOUT + 60
    counts = {"delivered": 0, "failed": 0, "skipped": 0}
    for _batch in range(max_batches):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM, {"lease": lease, "batch": batch})
            claimed = cursor.fetchall()
        if not claimed:
            break
        outcomes, sent = [], []
        for _id, event_id, body in claimed:
            sent.append(timezone.now())
            outcomes.append(post(event_id, body.encode()))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_RECORD, {
                "attempts": ATTEMPTS, "backoff": list(BACKOFF), "ids": [row[0] for row in claimed],
                "ok": [o.ok for o in outcomes], "codes": [o.code for o in outcomes],
                "errors": [o.error for o in outcomes], "sent": sent,
            })  # fmt: skip
        counts["delivered"] += sum(o.ok for o in outcomes)
        counts["failed"] += sum(not o.ok for o in outcomes)
    return counts


@transaction.atomic
def retry(user, queryset, delivery_id: int, *, request=None) -> ConcernDelivery:
    """Make a pending or failed delivery of ``queryset`` (the user's scope: policy.concern_deliveries_for) due
    now; one more attempt for a failed one. 404 out of scope, 409 while a sender holds it or once delivered."""
    delivery = queryset.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        raise not_found("delivery")
    holding = delivery.status == DeliveryStatus.SENDING and delivery.next_attempt_at > timezone.now()
    if holding or delivery.status == DeliveryStatus.DELIVERED:
        raise Refused(409, "wrong_state", field="delivery", detail=_("该推送正在发送或已送达"))
    # The database's clock as the senders' claim reads it (now(): the transaction's start).
    ConcernDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING,
                                                          next_attempt_at=RawSQL("now()", ()))  # fmt: skip
    audit.record(user, AuditAction.CONCERN, "concern_delivery", delivery.pk, request=request, reason="webhook retry",
                 fields=f"event={delivery.event_id},attempts={delivery.attempts}")  # fmt: skip
    delivery.refresh_from_db()
    return delivery
