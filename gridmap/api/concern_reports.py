"""The KPI dashboard's weekly trend and the concern ledger (台账, issue #17). Thin: parse the period (the one
helper of the concern map and the KPIs: ``from``/``to`` whole days, a bad one is a 400 naming it), scope through
the policy, count in queries/concern_trend.py or list in queries/concern_ledger.py, format in
planner/concern_ledger.py, audit the export.

- /api/v1/concern-trend: aggregates of the KPIs' scope (policy.concern_aggregates_for); planners get the counts of
  1–4 as "<5".
- /api/v1/concern-ledger.xlsx: one row per concern of the user's concerns (policy.concerns_for), staff only
  (planners 403: aggregates only); past settings.CONCERN_LEDGER_MAX_ROWS rows it is a 400 naming the count, so
  a long export never runs inside a request."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api.concern_map import asked_period, day_bounds
from gridmap.api.jsonapi import endpoint, reply
from gridmap.models import AuditAction
from gridmap.planner.concern_ledger import ledger_xlsx
from gridmap.planner.metrics import suppress
from gridmap.queries.concern_ledger import in_period, ledger_rows
from gridmap.queries.concern_trend import FIGURES, concern_trend
from gridmap.services import audit
from gridmap.services.refused import Refused

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@endpoint()
def trend(request: HttpRequest) -> HttpResponse:
    """?from&to: per ISO week (its Monday) of the period the concerns reported, closed and (of those reported that
    week) open past their deadline now, and the totals (``closed_after``: of the period's concerns, closed after
    its last day); the KPIs' scope, for planners counts of 1–4 as "<5"."""
    since, until = asked_period(request)
    weeks, total = concern_trend(policy.concern_aggregates_for(request.user), since, until)
    planner = policy.small_counts_suppressed(request.user)
    for row in (*weeks, total):
        for key in (*FIGURES, "closed_after"):
            if key in row:
                row[key] = suppress(row[key], planner)
    return reply({"from": since.isoformat(), "to": until.isoformat(), "weeks": weeks, "total": total,
                  "suppressed_below": settings.SMALL_COUNT_MIN if planner else None})  # fmt: skip


@endpoint(residents=True)
def ledger(request: HttpRequest) -> HttpResponse:
    """?from&to: the ledger as XLSX, one row per concern of the user's scope reported in the period (no reporter,
    household, address or phone); more than CONCERN_LEDGER_MAX_ROWS is a 400 with the count."""
    since, until = asked_period(request)
    found = in_period(policy.concerns_for(request.user), *day_bounds(since, until))
    count, cap = found.count(), settings.CONCERN_LEDGER_MAX_ROWS
    if count > cap:
        raise Refused(400, "too_many_rows", field="from", detail=_(
            "时段内有 %(n)s 件诉求，超过导出上限 %(max)s 件，请缩短时段") % {"n": count, "max": cap})  # fmt: skip
    title = _("民情诉求台账（%(from)s 至 %(to)s）") % {"from": since.isoformat(), "to": until.isoformat()}
    content, rows = ledger_xlsx(ledger_rows(found), title=title)
    audit.record(request.user, AuditAction.EXPORT, "concern_ledger", request=request,
                 fields=f"rows={rows} from={since.isoformat()} to={until.isoformat()}")  # fmt: skip
    response = HttpResponse(content, content_type=XLSX)
    # ASCII only, no user input: nothing to escape in the header.
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="concern-ledger-{stamp}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response
