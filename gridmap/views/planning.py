"""The planner dashboard page (issue #6): choropleth, ranking, reasons, heat layer; data from api/planning."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridmap import planning, policy


@login_required
def planner_dashboard(request: HttpRequest) -> HttpResponse:
    allowed = policy.sees_dashboard(request.user)
    context = {"profile": policy.profile_of(request.user), "allowed": allowed,
               "metrics": [(m.key, m.label) for m in planning.METRICS.values()]}
    return render(request, "gridmap/planner_dashboard.html", context, status=200 if allowed else 403)
