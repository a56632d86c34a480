"""The overdue sweep (督办): flag every open concern whose stage deadline has passed and that is not flagged yet,
with one history row each and one audit event for the run. Set-based: one UPDATE … RETURNING and one INSERT of
the history rows, whatever the number of concerns. Overdue itself needs no sweep (``due_at < now()`` is read
on every list); the sweep records the escalation so the level above sees it and the webhook's outbox tells a
12345 platform (services/concerns/outbox.py). Run it
from cron or a systemd timer: ``manage.py concern_sweep`` (docs/operations.md)."""

from __future__ import annotations

from django.db import connection, transaction

from gridmap.models import AuditAction
from gridmap.rules.sql import literal
from gridmap.services import audit
from gridmap.services.concerns import outbox
from gridmap.services.concerns.states import OPEN, S

# Why SQL: a sweep over every open concern of a city must stay one statement per table, never a row loop.
_ESCALATE = f"""
WITH due AS (
    UPDATE gridmap_concern SET escalated = TRUE, version = version + 1
     WHERE state IN ({", ".join(literal(s) for s in OPEN if s != S.PARKED)})
       AND due_at < now() AND NOT escalated
 RETURNING id, state
)
INSERT INTO gridmap_concernevent (concern_id, at, user_id, actor, action, from_state, to_state, note)
SELECT id, now(), NULL, %(actor)s, 'escalate', state, state, %(note)s FROM due
RETURNING id
"""


@transaction.atomic
def escalate_overdue(*, actor: str = "system", note: str = "超期督办") -> int:
    """Flag the overdue open concerns (parked ones wait by definition); the number flagged."""
    with connection.cursor() as cursor:
        cursor.execute(_ESCALATE, {"actor": actor, "note": note})
        events = [row[0] for row in cursor.fetchall()]
    flagged = len(events)
    outbox.announce(events)  # the escalations a 12345 platform hears of, in this transaction
    if flagged:
        audit.record(None, AuditAction.CONCERN, "concern", "", username=actor, reason=f"escalate {flagged}")
    return flagged
