"""The grid editor page: street admins and community staff draw, reshape, split, merge and retire grids."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridmap import policy


@login_required
def grid_editor(request: HttpRequest) -> HttpResponse:
    communities = policy.grid_edit_communities_for(request.user).order_by("code")
    publish = set(policy.grid_publish_communities_for(request.user).values_list("pk", flat=True))
    context = {
        "profile": policy.profile_of(request.user),
        "communities": [
            {"id": c.pk, "code": c.code, "name": c.name, "street": c.street_id, "publish": c.pk in publish}
            for c in communities.select_related("street")
        ],
        "bands": {"min": settings.GRID_HOUSEHOLDS_MIN, "max": settings.GRID_HOUSEHOLDS_MAX},
    }
    # Readers (grid staff, planners) get the page's refusal, not an empty editor.
    return render(request, "gridmap/grid_editor.html", context, status=200 if context["communities"] else 403)
