"""The concern ledger's rows (台账, issue #17): one row per concern of a scope reported in a period, with what a
ledger lists about the case and nothing about a person: no reporter, no household, no address, no point, no
contact phone (tests/test_concern_reports.py holds the columns to that).

One query with its three look-ups joined (category, grid, community), read in chunks by a server-side cursor,
so a period at the export cap (settings.CONCERN_LEDGER_MAX_ROWS) never holds all its model objects at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import QuerySet

from gridmap.models.concerns import Concern

# The fields read, in the ledger's column order (planner/concern_ledger.COLUMNS names them).
FIELDS = (
    "id", "category__name", "urgency", "source", "state", "grid__name", "community__name", "created_at", "due_at",
    "rework", "reopened", "escalated", "feedback", "handler_level", "handler_name", "description",
)  # fmt: skip
CHUNK = 2000


def in_period(concerns: QuerySet[Concern], start: dt.datetime, end: dt.datetime) -> QuerySet[Concern]:
    """``concerns`` (a policy queryset) reported from ``start`` until before ``end``."""
    return concerns.filter(created_at__gte=start, created_at__lt=end)


def ledger_rows(concerns: QuerySet[Concern]) -> Iterator[dict]:
    """The ledger's rows of ``concerns``, oldest report first."""
    return concerns.order_by("created_at", "id").values(*FIELDS).iterator(chunk_size=CHUNK)
