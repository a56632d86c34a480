"""The planner's exports (issue #6): XLSX ledger, GeoJSON and GeoPackage of the figures per grid, and the
printable A4 landscape map page. Thin: check the role, scope through the policy, call the one coverage
query, format (``gridmap.planner.exports``), audit, reply with a safe ASCII file name."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gridmap import policy
from gridmap.models import AssignmentRole, AuditAction, GridAssignment
from gridmap.planner import exports as planner_exports
from gridmap.planner import metrics as planning
from gridmap.queries.coverage_areas import area_coverage
from gridmap.queries.coverage_store import stored_coverage
from gridmap.services import audit

GEO_FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
}


def _ensure_sees_dashboard(request: HttpRequest) -> None:
    """403 (the styled error page, views/errors.forbidden) for roles without the planner's dashboard."""
    if not policy.sees_dashboard(request.user):
        raise PermissionDenied(_("此角色无权查看规划看板"))


def _filename(stem: str, suffix: str) -> str:
    # ASCII only, no user input: nothing to escape in the header.
    return f'attachment; filename="{stem}-{timezone.localtime().strftime("%Y%m%d")}{suffix}"'


def _streets(user) -> str:
    return "、".join(policy.streets_for(user).order_by("code").values_list("name", flat=True)[:3])


def _title(user) -> str:
    return _("%(streets)s网格覆盖台账（%(date)s）") % {
        "streets": _streets(user),
        "date": timezone.localdate().isoformat(),
    }


def _leaders(grids) -> dict[int, tuple[str, str]]:
    """Each grid's active leader: name and masked phone (a member's, never a resident's)."""
    rows = (
        GridAssignment.objects.filter(grid__in=grids, role=AssignmentRole.LEADER, end_date__isnull=True)
        .order_by("grid_id", "start_date")
        .values_list("grid_id", "member__name", "member__phone_masked")
    )
    return {grid_id: (name, phone) for grid_id, name, phone in rows}


@require_GET
@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """台账 as XLSX: title row, Chinese headers, one row per published grid in scope, totals."""
    _ensure_sees_dashboard(request)
    planner = policy.small_counts_suppressed(request.user)
    grids = policy.grids_for(request.user).published()
    per_grid = stored_coverage(grids)
    rows = planner_exports.ledger_rows(per_grid, _leaders(grids), planner=planner)
    [totals] = area_coverage(grids, "selection", per_grid)
    content = planner_exports.ledger_xlsx(rows, totals, title=_title(request.user), planner=planner)
    audit.record(request.user, AuditAction.EXPORT, "planner_ledger", request=request, fields=f"grids={len(rows)}")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = _filename("grid-ledger", ".xlsx")
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def geo_file(request: HttpRequest, fmt: str) -> HttpResponse:
    """The figures per published grid in scope with the grid polygons, as GeoJSON or GeoPackage, streamed."""
    _ensure_sees_dashboard(request)
    driver, suffix, mime = GEO_FORMATS[fmt]
    planner = policy.small_counts_suppressed(request.user)
    grids = policy.grids_for(request.user).published()
    rows = stored_coverage(grids)
    shapes = {pk: bytes(shape.wkb) for pk, shape in grids.values_list("pk", "boundary")}
    frame = planner_exports.metrics_frame(rows, shapes, planner=planner)
    handle = planner_exports.write_file(frame, driver, suffix, "grid_coverage")
    audit.record(request.user, AuditAction.EXPORT, "planner_" + fmt, request=request, fields=f"grids={len(rows)}")
    response = FileResponse(handle, content_type=mime)
    response["Content-Disposition"] = _filename("grid-coverage", suffix)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def print_page(request: HttpRequest) -> HttpResponse:
    """?metric=: an A4 landscape page (title, map, legend, scale bar, north arrow, date) to print."""
    _ensure_sees_dashboard(request)
    metric = request.GET.get("metric", "covered_pct")
    if metric not in planning.METRICS:
        return HttpResponse(
            _("可选值：%(values)s") % {"values": ", ".join(planning.METRICS)},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    audit.record(request.user, AuditAction.EXPORT, "planner_print", request=request, fields=metric)
    title = _("%(streets)s网格服务覆盖图") % {"streets": _streets(request.user)}
    context = {
        "metric": metric,
        "metric_label": planning.METRICS[metric].label,
        "title": title,
        "today": timezone.localdate(),
    }
    return render(request, "gridmap/planner_print.html", context)
