"""The outgoing webhook's outbox: the concern events a 12345 platform hears of (states.ANNOUNCED) become one
ConcernDelivery row each, in the same transaction as the event, so a rolled-back transition sends nothing and a
committed one is never lost; ``manage.py concern_webhooks`` sends them (services/concerns/webhook.py).

Every writer of concern history calls :func:`announce` with the ids it wrote (workflow.report, workflow.transition,
merge.merge, sweep.escalate_overdue; tests/test_concern_webhooks.py holds the source to it). The demo loader's year
of history is the past, not news, and announces nothing. Off while CONCERN_WEBHOOK_URL is empty: no rows at all.

The payload holds no personal data: no reporter, no household, no address and no description (free text names
people: "张大爷家门口" — a platform that needs the text asks for it through its own case, not through a push).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from gridmap.services.concerns.states import ANNOUNCED

SCHEMA_VERSION = 1

# Why SQL: one INSERT … SELECT for however many events (the sweep writes thousands at once), the payload built
# where the codes are. Timestamps are JSON strings in ISO 8601 with the zone (the connection's UTC: +00:00);
# the point is GeoJSON in WGS84 (EPSG:4326), six decimals (~0.1 m).
_ANNOUNCE = """
INSERT INTO gridmap_concerndelivery (event_id, concern_id, payload, status, attempts, next_attempt_at, last_error,
                                     created_at)
SELECT e.id, c.id, jsonb_build_object(
           'schema', %(schema)s,
           'event_id', e.id,
           'event', CASE WHEN e.action = 'escalate' THEN 'escalated' ELSE e.to_state END,
           'action', e.action,
           'concern_id', c.id,
           'concern_uid', c.uid,
           'state_from', NULLIF(e.from_state, ''),
           'state_to', e.to_state,
           'category', k.code,
           'urgency', c.urgency,
           'source', c.source,
           'handler_level', NULLIF(c.handler_level, ''),
           'escalated', c.escalated,
           'rework', c.rework,
           'merged_into', CASE WHEN e.action = 'merge' THEN c.merged_into_id END,
           'occurred_at', e.at,
           'reported_at', c.created_at,
           'due_at', c.due_at,
           'street', s.code,
           'community', m.code,
           'grid', g.code,
           'location', jsonb_build_object('type', 'Point', 'coordinates', jsonb_build_array(
               round(ST_X(c.location)::numeric, 6), round(ST_Y(c.location)::numeric, 6)))
       ), 'pending', 0, now(), '', now()
  FROM gridmap_concernevent e
  JOIN gridmap_concern c ON c.id = e.concern_id
  JOIN gridmap_concerncategory k ON k.id = c.category_id
  JOIN gridmap_community m ON m.id = c.community_id
  JOIN gridmap_street s ON s.id = m.street_id
  LEFT JOIN gridmap_grid g ON g.id = c.grid_id
 WHERE e.id = ANY(%(ids)s) AND e.action = ANY(%(actions)s)
ON CONFLICT (event_id) DO NOTHING
"""


def enabled() -> bool:
    """The webhook is configured (CONCERN_WEBHOOK_URL set)."""
    return bool(settings.CONCERN_WEBHOOK_URL)


def announce(event_ids: Sequence[int]) -> int:
    """One delivery row per announced event among ``event_ids`` (call inside the transaction that wrote them);
    the number written, 0 when the webhook is off."""
    if not enabled() or not event_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_ANNOUNCE, {"schema": SCHEMA_VERSION, "ids": list(event_ids), "actions": list(ANNOUNCED)})
        return cursor.rowcount


def configuration_problem() -> str:
    """Why the webhook settings cannot work ("" when they can, or when the webhook is off): an http(s) URL with
    a host, and a secret of at least 32 characters."""
    url = settings.CONCERN_WEBHOOK_URL
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "CONCERN_WEBHOOK_URL must be an http(s) URL with a host"
    if parts.username or parts.password:
        return "CONCERN_WEBHOOK_URL must not carry a user or password (the signature authenticates)"
    if len(settings.CONCERN_WEBHOOK_SECRET) < 32 or len(set(settings.CONCERN_WEBHOOK_SECRET)) < 8:
        return "CONCERN_WEBHOOK_SECRET must be a random secret of at least 32 characters"
    return ""
