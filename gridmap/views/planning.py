"""The planner dashboard page (issue #6): choropleth, ranking, reasons, heat layer; data from api/planning.
And its standalone report: one HTML file that opens from file:// with no network."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gridmap import policy
from gridmap.models import AuditAction
from gridmap.planner import metrics as planning
from gridmap.planner.report import build_report
from gridmap.queries import layers
from gridmap.queries.coverage_store import stored_coverage
from gridmap.queries.heat import heat_cells
from gridmap.services import audit
from gridmap.views import errors


@login_required
def planner_dashboard(request: HttpRequest) -> HttpResponse:
    allowed = policy.sees_dashboard(request.user)
    context = {
        "profile": policy.profile_of(request.user),
        "allowed": allowed,
        "metrics": [(m.key, m.label) for m in planning.METRICS.values()],
    }
    return render(request, "gridmap/planner_dashboard.html", context, status=200 if allowed else 403)


@require_GET
@login_required
def planner_report(request: HttpRequest) -> HttpResponse:
    """?metric=: the dashboard as a downloadable HTML file (aggregates only; the export is audited)."""
    if not policy.sees_dashboard(request.user):
        raise PermissionDenied(_("此角色无权查看规划看板"))
    metric = request.GET.get("metric", "covered_pct")
    if metric not in planning.METRICS:
        detail = _("可选值：%(values)s") % {"values": ", ".join(planning.METRICS)}
        return errors.answer(request, 400, "invalid_choice", detail, field="metric")
    planner = policy.small_counts_suppressed(request.user)
    grids = policy.grids_for(request.user).published()
    table = planning.metric_table(stored_coverage(grids), metric, planner=planner)
    points, _withheld = planning.heat_points(heat_cells(grids), "uncovered", planner=planner)
    page = build_report(
        table,
        json.loads(layers.grids_layer(grids, None)),
        json.loads(layers.stations_layer(policy.stations_for(request.user), None)),
        points,
        title=_("规划看板"),
    )
    audit.record(request.user, AuditAction.EXPORT, "planner_report", request=request, fields=metric)
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="planner-report-{metric}-{stamp}.html"'
    response["Cache-Control"] = "private, no-store"
    return response
