"""Time per stage from a concern's history, for concerns whose rows predate the per-stage columns (migration
0029) and for the demo's generated history; transitions keep the columns themselves (workflow.transition).

Why SQL: one pass over the history with a window (each step's time since the step before), grouped per concern
and stage, instead of walking every concern's events in Python. A step that does not change the state (the
sweep's 督办) does not end a stage. Which stages were late is read against the category's calendar hours
(urgent: half, an approved extension: double), as the demo's deadlines are; a street's own working-day hours of
the time are not in the history, so rows of such a street may count a stage on time that its deadline missed.
The per-concern sums are MATERIALIZED: inlined, a planner without statistics (a table just loaded) joined them
per concern row and recomputed the whole window for each (a test's 3,000 concerns ran for minutes).
"""

from __future__ import annotations

from django.db import connection

STAGE_OF_STATE = """CASE {state} WHEN 'reported' THEN 'accept'
                          WHEN 'accepted' THEN 'dispatch' WHEN 'returned' THEN 'dispatch' WHEN 'reopened' THEN 'dispatch'
                          WHEN 'dispatched' THEN 'handle' WHEN 'in_progress' THEN 'handle' WHEN 'extended' THEN 'handle'
                          WHEN 'handled' THEN 'verify' WHEN 'verified' THEN 'verify' END"""  # states.STAGE

FILL_SQL = f"""
WITH steps AS (
    SELECT e.concern_id, e.from_state, e.at - lag(e.at) OVER (PARTITION BY e.concern_id ORDER BY e.at, e.id) AS spent
      FROM gridmap_concernevent e
     WHERE e.from_state IS DISTINCT FROM e.to_state),
visits AS (
    SELECT s.concern_id, {STAGE_OF_STATE.format(state="s.from_state")} AS stage,
           extract(epoch FROM s.spent) / 3600.0 AS hours,
           extract(epoch FROM s.spent) / 3600.0 > CASE {STAGE_OF_STATE.format(state="s.from_state")}
                WHEN 'accept' THEN k.accept_hours WHEN 'dispatch' THEN k.dispatch_hours
                WHEN 'handle' THEN k.handle_hours ELSE k.verify_hours END
             * CASE WHEN s.from_state = 'extended' THEN 2 ELSE 1 END
             / CASE WHEN c.urgency = 'urgent' THEN 2.0 ELSE 1.0 END AS late
      FROM steps s JOIN gridmap_concern c ON c.id = s.concern_id JOIN gridmap_concerncategory k ON k.id = c.category_id
     WHERE s.spent IS NOT NULL),
per_concern AS MATERIALIZED (
    SELECT concern_id,
           sum(hours) FILTER (WHERE stage = 'accept') AS accept, sum(hours) FILTER (WHERE stage = 'dispatch') AS dispatch,
           sum(hours) FILTER (WHERE stage = 'handle') AS handle, sum(hours) FILTER (WHERE stage = 'verify') AS verify,
           (CASE WHEN bool_or(late) FILTER (WHERE stage = 'accept') THEN 1 ELSE 0 END
            | CASE WHEN bool_or(late) FILTER (WHERE stage = 'dispatch') THEN 2 ELSE 0 END
            | CASE WHEN bool_or(late) FILTER (WHERE stage = 'handle') THEN 4 ELSE 0 END
            | CASE WHEN bool_or(late) FILTER (WHERE stage = 'verify') THEN 8 ELSE 0 END) AS late_stages
      FROM visits WHERE stage IS NOT NULL GROUP BY concern_id)
UPDATE gridmap_concern c
   SET hours_accept = p.accept, hours_dispatch = p.dispatch, hours_handle = p.handle, hours_verify = p.verify,
       late_stages = p.late_stages
  FROM per_concern p
 WHERE p.concern_id = c.id
"""


def fill_stage_times() -> int:
    """Set every concern's time per stage and late stages from its history; the number of concerns set."""
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL)
        return cursor.rowcount
