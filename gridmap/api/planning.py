"""Planner dashboard endpoints (issue #6). Thin: check the role, scope through the policy, compute, reply.

Both answer aggregates only: per-grid figures from ``grid_coverage`` and per-cell counts from
``heat_cells``; never a household.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api.jsonapi import endpoint, reply
from gridmap.planner import metrics as planning
from gridmap.queries.aggregate_cache import cached_aggregate
from gridmap.queries.coverage_store import stored_coverage
from gridmap.queries.heat import CELL_M, LAYERS, heat_cells
from gridmap.services.refused import Refused


def check_dashboard(request: HttpRequest) -> None:
    if not policy.sees_dashboard(request.user):
        raise Refused(403, "forbidden", detail=_("此角色无权查看规划看板"))


def choice(request: HttpRequest, name: str, allowed, default: str) -> str:
    value = request.GET.get(name, default)
    if value not in allowed:
        raise Refused(400, "bad_value", field=name, detail=_("可选值：%(values)s") % {"values": ", ".join(allowed)})
    return value


@endpoint()
def metrics(request: HttpRequest) -> HttpResponse:
    """?metric=&scheme=: every published grid in scope with the metric, its class, a legend and reasons."""
    check_dashboard(request)
    metric = choice(request, "metric", tuple(planning.METRICS), "covered_pct")
    scheme = choice(request, "scheme", ("fisher_jenks", "quantiles"), "fisher_jenks")
    grids = policy.grids_for(request.user).published()
    rows = cached_aggregate("coverage", request.user, grids, lambda: stored_coverage(grids))
    return reply(
        planning.metric_table(rows, metric, planner=policy.small_counts_suppressed(request.user), scheme=scheme)
    )


@endpoint()
def heat(request: HttpRequest) -> HttpResponse:
    """?layer=households|uncovered|vulnerable_uncovered: [lat, lon, count] per non-empty cell."""
    check_dashboard(request)
    layer = choice(request, "layer", LAYERS, "households")
    planner = policy.small_counts_suppressed(request.user)
    grids = policy.grids_for(request.user).published()
    cells = cached_aggregate("heat", request.user, grids, lambda: heat_cells(grids))
    points, suppressed = planning.heat_points(cells, layer, planner=planner)
    floor = settings.SMALL_COUNT_MIN if planner else 1
    return reply(
        {
            "layer": layer,
            "cell_m": CELL_M,
            "points": points,
            "max": max((p[2] for p in points), default=0),
            "suppressed_cells": suppressed,
            "suppressed_below": floor if floor > 1 else None,
        }
    )
