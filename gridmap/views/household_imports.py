"""The household import page (住户导入) and its XLSX template. Uploading, previewing, polling and
committing go through /api/household-imports/ (gridmap/api/household_imports.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.crs import SOURCE_CRS
from gridmap import policy
from gridmap.services.households.importing import MAX_ERRORS
from gridmap.services.households.template import household_template_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CRS_LABELS = {
    "WGS84": gettext_lazy("WGS84（GPS、天地图）"),
    "CGCS2000": gettext_lazy("CGCS2000（天地图）"),
    "GCJ02": gettext_lazy("GCJ-02（高德、腾讯）"),
    "BD09": gettext_lazy("BD-09（百度）"),
}


def _may_import(user) -> bool:
    communities = policy.household_import_communities_for(user)
    return communities is None and policy.role_of(user) is not None or communities is not None and communities.exists()


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    allowed = _may_import(request.user)
    context = {
        "profile": policy.profile_of(request.user),
        "allowed": allowed,
        "max_errors": MAX_ERRORS,
        "max_mb": settings.HOUSEHOLD_IMPORT_MAX_BYTES // (1024 * 1024),
        "crs_choices": [(name, CRS_LABELS.get(name, name)) for name in SOURCE_CRS],
    }
    return render(request, "gridmap/household_import.html", context, status=200 if allowed else 403)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    if not _may_import(request.user):
        raise PermissionDenied(_("无权导入住户"))
    response = HttpResponse(household_template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = (
        'attachment; filename="households-template.xlsx"; '
        "filename*=UTF-8''%E4%BD%8F%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
