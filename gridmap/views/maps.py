"""The street map: communities, grids, households, central-household links and stations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from gridmap import policy


@login_required
def street_map(request: HttpRequest) -> HttpResponse:
    profile = policy.profile_of(request.user)
    context = {
        "profile": profile,
        "sees_residents": policy.sees_residents(request.user),
        "bands": {"min": settings.GRID_HOUSEHOLDS_MIN, "max": settings.GRID_HOUSEHOLDS_MAX},
    }
    return render(request, "gridmap/street_map.html", context, status=200 if profile else 403)


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the compose healthcheck and load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        postgis = cursor.fetchone()[0]
    return JsonResponse({"status": "ok", "postgis": postgis})
