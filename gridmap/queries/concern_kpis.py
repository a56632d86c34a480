"""Residents' concerns in figures, per grid, community or street of a scope, for a period (issue #17), with the
Chinese definitions: 应结案数 (due) = concerns reported in the period that were accepted (not rejected, not
void); 结案率 = closed / due; 按期结案率 = closed with no step after its deadline / due; 返工率 = concerns
reworked at least once / concerns handled at least once; 满意率 = satisfied or basically satisfied / rated;
open and overdue counts now; mean hours from report to close; per stage (受理、派遣、处置、核查) the concerns
that left it, the mean hours they spent in it and the share that left it on time; small wishes and projects
claimed (认领), their service hours and beneficiaries; and the 合计 of the whole scope."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import QuerySet

from gridmap.models import Community, Street
from gridmap.models.concerns import OPEN_STATES, STAGE_BITS, STAGES, Concern, ConcernState, Feedback
from gridmap.queries.grid_households import named_ids

S = ConcernState
LEVELS = ("grid", "community", "street")
_GROUPED = {"grid": ("grid_id", "gridmap_grid"), "community": ("community_id", "gridmap_community")}

# Why SQL: one grouped pass over the scope's concerns of the period with FILTERed counts, instead of a
# query per grid and figure; the state sets come from the state machine (services/concerns/states.py).
# Read from the concern row, not its history (a look-up per concern was 5 of the city's 8 s at a million):
# "handled at least once" follows from the transition table — only "handle" reaches handled, a handled case
# leaves it by verify (verified, or back to dispatch with rework + 1), a verified one by feedback (closed, or
# reopened + 1) — except a case voided afterwards, the one state that needs its history; a closed case's
# stage started when it was closed (every transition restarts the stage), so that is its closing time; the
# time per stage is kept on the row by each transition (workflow.stage_left).
# tests/test_concern_kpis.py checks these against the history. Grouped by the concern's own grid or community
# column and named afterwards, so the join touches one row per area, not one per concern; every column read is
# in the covering index concern_kpis (models/concerns.py), so a scope's period is read from the
# index alone (a street's year at a million concerns: 330 ms from the table, 165 ms from the index). Only sums
# and counts come back, so streets and the 合计 add up the communities' rows in Python (at most a few hundred).
_STAGE_SUMS = ",\n".join(
    f"       count(k.hours_{s}) AS left_{s},"
    f" count(*) FILTER (WHERE k.hours_{s} IS NOT NULL AND k.late_stages & {STAGE_BITS[s]} = 0) AS on_time_{s},"
    f" coalesce(sum(k.hours_{s}), 0) AS hours_{s}"
    for s in STAGES
)
_KPIS = """
SELECT a.id, a.code, a.name, f.*
  FROM (SELECT k.{key} AS area_key,
               count(*) FILTER (WHERE k.state NOT IN (%(rejected)s, %(void)s)) AS due,
               count(*) FILTER (WHERE k.state = %(closed)s) AS closed,
               count(*) FILTER (WHERE k.state = %(closed)s AND k.late_steps = 0) AS closed_on_time,
               count(*) FILTER (WHERE k.rework > 0) AS reworked,
               count(*) FILTER (WHERE k.rework > 0 OR k.reopened > 0
                                  OR k.state IN (%(handled)s, %(verified)s, %(closed)s)
                                  OR (k.state = %(void)s AND EXISTS (
                                        SELECT 1 FROM gridmap_concernevent e
                                         WHERE e.concern_id = k.id AND e.action = 'handle'))) AS handled,
               count(*) FILTER (WHERE k.feedback IN (%(satisfied)s, %(basic)s)) AS satisfied,
               count(*) FILTER (WHERE k.feedback <> '') AS rated,
               count(*) FILTER (WHERE k.claimed_by_id IS NOT NULL) AS claimed,
               coalesce(sum(k.service_hours), 0) AS service_hours,
               coalesce(sum(k.beneficiaries), 0) AS beneficiaries,
               count(*) FILTER (WHERE k.state = ANY(%(open)s)) AS open,
               count(*) FILTER (WHERE k.state = ANY(%(open)s) AND k.due_at < now()) AS overdue,
               coalesce(sum(date_part('epoch', k.stage_started_at - k.created_at) / 3600)
                        FILTER (WHERE k.state = %(closed)s), 0) AS close_hours,
{stages}
          FROM ({rows}) k
         GROUP BY 1) f
  LEFT JOIN {table} a ON a.id = f.area_key
 ORDER BY a.code
"""
ROW_COLUMNS = ("id", "state", "late_steps", "rework", "reopened", "feedback", "claimed_by_id", "service_hours",
               "beneficiaries", "due_at", "stage_started_at", "created_at", "grid_id", "community_id",
               "late_stages", *(f"hours_{s}" for s in STAGES))  # fmt: skip
SUMS = ("due", "closed", "closed_on_time", "reworked", "handled", "satisfied", "rated", "claimed", "service_hours",
        "beneficiaries", "open", "overdue", "close_hours",
        *(f"{part}_{s}" for s in STAGES for part in ("left", "on_time", "hours")))  # fmt: skip
COUNTS = ("due", "closed", "closed_on_time", "reworked", "handled", "satisfied", "rated", "open", "overdue", "claimed",
          "beneficiaries")  # fmt: skip


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _figures(sums: dict, *, pk=None, code=None, name=None) -> dict:
    """One area's row from its sums: the counts, the rates, the means and the four stages."""
    row = {"id": pk, "code": code, "name": name, **{k: sums[k] for k in SUMS if k != "close_hours"}}
    for s in STAGES:
        del row[f"left_{s}"], row[f"on_time_{s}"], row[f"hours_{s}"]
    row["service_hours"] = round(float(sums["service_hours"]), 1)
    row["mean_hours_to_close"] = _mean(sums["close_hours"], sums["closed"])
    row["closure_rate"] = _pct(sums["closed"], sums["due"])
    row["on_time_rate"] = _pct(sums["closed_on_time"], sums["due"])
    row["rework_rate"] = _pct(sums["reworked"], sums["handled"])
    row["satisfaction_rate"] = _pct(sums["satisfied"], sums["rated"])
    row["stages"] = {
        s: {"left": sums[f"left_{s}"], "on_time": sums[f"on_time_{s}"], "mean_hours": _mean(sums[f"hours_{s}"],
            sums[f"left_{s}"]), "on_time_rate": _pct(sums[f"on_time_{s}"], sums[f"left_{s}"])}
        for s in STAGES
    }  # fmt: skip
    return row


def _added(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) for k in SUMS}


def concern_kpis(
    concerns: QuerySet[Concern], *, by: str = "grid", since: dt.datetime | None = None, until: dt.datetime | None = None
) -> tuple[list[dict], dict]:
    """One row per grid, community or street (``by``) with concerns in ``concerns`` (a policy queryset)
    reported from ``since`` (default: a year ago) until before ``until``, and the 合计 row of them all."""
    since = since or dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    scoped = concerns.filter(created_at__gte=since)
    if until is not None:
        scoped = scoped.filter(created_at__lt=until)
    key, table = _GROUPED["grid" if by == "grid" else "community"]
    # The scope's rows themselves, not "id IN (scope)": its filters (community, grid) then reach the table's
    # indexes instead of a second pass over every concern to match ids.
    rows_sql, names = named_ids(scoped, "k", ROW_COLUMNS)
    params = {
        "rejected": S.REJECTED, "void": S.VOID, "closed": S.CLOSED, "handled": S.HANDLED, "verified": S.VERIFIED,
        "satisfied": Feedback.SATISFIED, "basic": Feedback.BASIC, "open": [str(s) for s in OPEN_STATES], **names,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_KPIS.format(key=key, table=table, stages=_STAGE_SUMS, rows=rows_sql), params)
        columns = [c.name for c in cursor.description]
        areas = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    for area in areas:
        area["service_hours"] = float(area["service_hours"])
    total = _figures(_added(areas))
    if by == "street":
        street_of = dict(Community.objects.filter(pk__in=[a["id"] for a in areas]).values_list("pk", "street_id"))
        streets = Street.objects.filter(pk__in=set(street_of.values())).order_by("code")
        return [
            _figures(_added([a for a in areas if street_of.get(a["id"]) == street.pk]), pk=street.pk,
                     code=street.code, name=street.name)
            for street in streets
        ], total  # fmt: skip
    return [_figures(a, pk=a["id"], code=a["code"], name=a["name"]) for a in areas], total
