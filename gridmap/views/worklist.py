"""Where each role starts (``home``) and the work list of street admins and community staff: staffing gaps,
grids outside the household band, topology problems, drafts waiting to be published and central households
outside their band, each item one click from the page that fixes it (staffing map or editor, deep-linked)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from gridmap import policy
from gridmap.queries import worklist

WARNING_LABELS = {
    "no_leader": gettext_lazy("未配网格长"),
    "several_leaders": gettext_lazy("网格长多于一人"),
    "no_fulltime": gettext_lazy("无专职网格员"),
    "overloaded": gettext_lazy("专职网格员负担过重"),
    "size_low": gettext_lazy("户数低于标准"),
    "size_high": gettext_lazy("户数高于标准"),
}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """/: sign in, then each role's own start page (policy.start_page)."""
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(policy.start_page(request.user))


@require_safe
@login_required
def work_list(request: HttpRequest) -> HttpResponse:
    if not policy.sees_work_list(request.user):
        raise PermissionDenied(_("此角色没有待办清单"))
    grids = policy.grids_for(request.user)
    staffing, size = worklist.staffing_items(grids)
    for row in (*staffing, *size):
        row["labels"] = [WARNING_LABELS[w] for w in row["warnings"]]
    sections = {
        "staffing": staffing,
        "size": size,
        "topology": worklist.topology_items(policy.grid_edit_communities_for(request.user)),
        "drafts": worklist.draft_items(grids),
        "central": worklist.central_items(grids.published()),
    }
    concerns = worklist.concern_counts(policy.concerns_for(request.user))
    concerns.pop("open")  # the list names what waits on a manager
    context = {
        **sections,
        "concerns": concerns if any(concerns.values()) else None,
        "total": sum(len(items) for items in sections.values()) + (1 if any(concerns.values()) else 0),
        "band": (settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX),
        "central_band": (settings.CENTRAL_LINKS_MIN, settings.CENTRAL_LINKS_MAX),
    }
    return render(request, "gridmap/work_list.html", context)
