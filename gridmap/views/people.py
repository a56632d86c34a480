"""Pages: the staff-assignment map and the grid leader's own view (phone first)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from gridmap import policy


@login_required
def staffing_map(request: HttpRequest) -> HttpResponse:
    """Grids coloured by staffing; a grid's staff panel; central households and their links."""
    profile = policy.profile_of(request.user)
    allowed = bool(policy.assignable_roles(request.user))
    context = {
        "profile": profile,
        "allowed": allowed,
        "can_edit_central": policy.central_households_editable_for(request.user).exists() if allowed else False,
        "per_fulltime": settings.HOUSEHOLDS_PER_FULLTIME_MAX,
        "link_max_m": settings.LINK_DISTANCE_MAX_M,
    }
    return render(request, "gridmap/staffing_map.html", context, status=200 if allowed else 403)


@login_required
def my_grid(request: HttpRequest, household: int | None = None) -> HttpResponse:
    """The grid leader's view: his grid, its households (map + list), a household card."""
    profile = policy.profile_of(request.user)
    if not policy.sees_residents(request.user):
        return render(request, "gridmap/my_grid.html", {"profile": profile, "allowed": False}, status=403)
    grids = policy.grids_for(request.user).published().order_by("code")
    grid_id = None
    if household is not None:
        # Opening another grid's household by URL: 404, as for anything out of scope.
        grid_id = policy.households_for(request.user).filter(pk=household).values_list("grid_id", flat=True).first()
        if grid_id is None:
            raise Http404
    else:
        try:
            wanted = int(request.GET.get("grid", "0"))
        except ValueError:
            wanted = 0
        grid_id = (
            grids.filter(pk=wanted).values_list("pk", flat=True).first() or grids.values_list("pk", flat=True).first()
        )
    context = {
        "profile": profile,
        "allowed": True,
        "grid_id": grid_id,
        "household_id": household,
        "grids": list(grids.values("pk", "code", "name")[:200]),
        "can_move": policy.household_move_grids_for(request.user).exists(),
        "can_pair": policy.may_pair_help(request.user),
        "works_on_concerns": policy.concern_level(request.user) is not None,
    }
    return render(request, "gridmap/my_grid.html", context)
