"""The member registry page (人员库): search, register one member, XLSX import and its template.

For the people who manage members (system admin, street admin, community staff); grid staff and planners
get 403. The page only renders the frame: searching, adding and importing go through /api/members/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.services.people import members as member_service
from gridmap.services.people.members import MAX_ROWS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def members_page(request: HttpRequest) -> HttpResponse:
    communities = policy.member_communities_for(request.user)
    allowed = communities.exists()
    context = {
        "profile": policy.profile_of(request.user),
        "allowed": allowed,
        "max_rows": MAX_ROWS,
        "communities": list(communities.order_by("code").values("pk", "code", "name")[:2000]) if allowed else [],
    }
    return render(request, "gridmap/members.html", context, status=200 if allowed else 403)


@login_required
def members_template(request: HttpRequest) -> HttpResponse:
    if not policy.member_communities_for(request.user).exists():
        raise PermissionDenied(_("无权导入人员"))
    response = HttpResponse(member_service.template_xlsx(request.user), content_type=XLSX)
    response["Content-Disposition"] = (
        'attachment; filename="members-template.xlsx"; '
        "filename*=UTF-8''%E4%BA%BA%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
