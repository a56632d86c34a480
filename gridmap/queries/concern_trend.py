"""The weekly trend of the KPI dashboard (issue #17): per ISO week (its Monday, in the site's time zone) of a
period, the concerns of a scope reported that week, how many of the period's concerns were closed that week, and
how many of those reported that week are open and past their deadline now.

A closed concern's closing time is its ``stage_started_at`` (every transition restarts the stage, and closing is
its last), as in queries/concern_kpis.py, so the weeks' "closed" add up to the KPIs' ``closed`` and their
"reported" to every concern of the period; a concern of the period closed after its last day (a period that ended
before today) is counted once, in ``closed_after``, not in a week.

Why SQL: one statement groups the scope's concerns of the period by week, instead of a count per week and
figure; the weeks without a concern come from generate_series in the same statement (a 0 is a point on the
chart). It reads only community_id, created_at, grid_id, state, due_at and stage_started_at, all in the KPIs'
covering index on (community, created_at) (models/concerns.py), so a street's year at a million concerns is read
from the index alone, as the KPIs are (tests/test_concern_reports.py checks the columns). On the bench's million
(EXPLAIN ANALYZE, a street's year of 147,000 concerns): one index-only scan of concern_kpis, 47 heap fetches,
about 220 ms, most of it the weeks' grouping; the scope read once (MATERIALIZED) for both groupings.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from gridmap.models.concerns import OPEN_STATES, Concern, ConcernState
from gridmap.queries.grid_households import named_ids

_TREND = """
WITH k AS MATERIALIZED ({rows}),
weeks AS (SELECT generate_series(%(first)s::date, %(last)s::date, interval '7 days')::date AS week),
reported AS (
    SELECT date_trunc('week', k.created_at AT TIME ZONE %(zone)s)::date AS week, count(*) AS reported,
           count(*) FILTER (WHERE k.state = ANY(%(open)s) AND k.due_at < now()) AS overdue
      FROM k GROUP BY 1),
closed AS (
    SELECT CASE WHEN k.stage_started_at < %(end)s
                THEN date_trunc('week', k.stage_started_at AT TIME ZONE %(zone)s)::date END AS week,
           count(*) AS closed
      FROM k WHERE k.state = %(closed)s GROUP BY 1)
SELECT w.week, coalesce(r.reported, 0), coalesce(c.closed, 0), coalesce(r.overdue, 0)
  FROM weeks w LEFT JOIN reported r ON r.week = w.week LEFT JOIN closed c ON c.week = w.week
UNION ALL
SELECT NULL, 0, coalesce((SELECT closed FROM closed WHERE week IS NULL), 0), 0
 ORDER BY 1 NULLS LAST
"""
ROW_COLUMNS = ("created_at", "state", "due_at", "stage_started_at")
FIGURES = ("reported", "closed", "overdue")


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def concern_trend(concerns: QuerySet[Concern], since: dt.date, until: dt.date) -> tuple[list[dict], dict]:
    """Per week from the one holding ``since`` to the one holding ``until`` (whole days, both included):
    ``{"week": Monday's date, "reported", "closed", "overdue"}`` of ``concerns`` (a policy queryset) reported in
    the period; and the period's totals with ``closed_after`` (closed after ``until``)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, zone)
    scoped = concerns.filter(created_at__gte=start, created_at__lt=end)
    rows_sql, names = named_ids(scoped, "k", ROW_COLUMNS)
    params = {"first": monday(since), "last": monday(until), "zone": str(zone), "end": end,
              "open": [str(s) for s in OPEN_STATES], "closed": ConcernState.CLOSED, **names}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_TREND.format(rows=rows_sql), params)
        found = cursor.fetchall()
    weeks = [dict(zip(("week", *FIGURES), (w.isoformat(), *counts), strict=True)) for w, *counts in found[:-1]]
    total = {key: sum(w[key] for w in weeks) for key in FIGURES}
    total["closed_after"] = found[-1][2]
    total["closed"] += total["closed_after"]
    return weeks, total
