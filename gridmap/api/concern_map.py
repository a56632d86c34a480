"""The concern map of the KPI dashboard (issue #17): the heat layer (concerns per 250 m cell) and the choropleth
(concerns per grid or community, and per 1,000 households). Thin: parse and check the parameters (a bad one is a
400 naming it), scope through the policy (policy.concern_aggregates_for: grid staff their grids, managers their
communities, planners aggregates with small counts suppressed), count in queries/concern_map.py, class in
planner/concern_map.py. Only cell centres and counts leave the server, never a concern's point."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api.jsonapi import endpoint, reply
from gridmap.planner import concern_map as figures
from gridmap.queries import concern_map
from gridmap.services.refused import Refused, not_found

DEFAULT_DAYS = 365  # the KPI table's period
MAX_DAYS = 3660


def _choice(request: HttpRequest, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.GET.get(name, default)
    if value not in allowed:
        raise Refused(400, "bad_value", field=name, detail=_("可选值：%(values)s") % {"values": ", ".join(allowed)})
    return value


def _date(request: HttpRequest, name: str, default: dt.date) -> dt.date:
    value = request.GET.get(name, "")
    if not value:
        return default
    try:
        if len(value) != 10 or not value.isascii():
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Refused(400, "bad_value", field=name, detail=_("应为日期，如 2026-01-31")) from None


def asked_period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    """``from`` and ``to`` (whole days in the site's time zone, both included; default: the year up to today), the
    period of the concern map, the KPIs and the trend; a bad or reversed date, or a period over MAX_DAYS, is a 400
    naming the field."""
    until = _date(request, "to", timezone.localdate())
    since = _date(request, "from", until - dt.timedelta(days=DEFAULT_DAYS - 1))
    if since > until:
        raise Refused(400, "bad_value", field="from", detail=_("开始日期晚于结束日期"))
    if (until - since).days >= MAX_DAYS:
        raise Refused(400, "bad_value", field="from", detail=_("时段最长 %(n)s 天") % {"n": MAX_DAYS})
    return since, until


def day_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period's first moment and the moment after its last day, in the site's time zone."""
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(since, dt.time.min, zone), dt.datetime.combine(
        until + dt.timedelta(days=1), dt.time.min, zone
    )


def _id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**31:
        raise Refused(400, "bad_value", field=name, detail=_("应为编号"))
    return int(value)


def _filters(request: HttpRequest) -> dict:
    """category, from, to, state → the keyword arguments of queries.concern_map.matching (and what was asked)."""
    code = request.GET.get("category", "")
    categories = None
    if code:
        categories = concern_map.category_ids(code)
        if categories is None:
            raise Refused(400, "bad_value", field="category", detail=_("未知类别"))
    since, until = asked_period(request)
    state = _choice(request, "state", concern_map.STATE_GROUPS, "all")
    return {"categories": categories, "since": since, "until": until, "state": state, "category": code}


def _asked(f: dict) -> dict:
    return {"category": f["category"] or None, "from": f["since"].isoformat(), "to": f["until"].isoformat(),
            "state": f["state"]}  # fmt: skip


def _matching(user, f: dict):
    return concern_map.matching(policy.concern_aggregates_for(user), categories=f["categories"], since=f["since"],
                                until=f["until"], state=f["state"])  # fmt: skip


@endpoint()
def heat(request: HttpRequest) -> HttpResponse:
    """?category=&from=&to=&state=all|open|overdue&grid=&community=: [lat, lon, count] per non-empty 250 m cell of
    the matching concerns of the user's scope (or of one grid or community of it: out of scope is 404)."""
    f = _filters(request)
    grid, community = _id(request, "grid"), _id(request, "community")
    found = _matching(request.user, f)
    if grid is not None:
        if not policy.grids_for(request.user).filter(pk=grid).exists():
            raise not_found("grid")
        found = found.filter(grid_id=grid)
    if community is not None:
        if not policy.communities_for(request.user).filter(pk=community).exists():
            raise not_found("community")
        found = found.filter(community_id=community)
    planner = policy.small_counts_suppressed(request.user)
    points, withheld = figures.heat_points(concern_map.concern_cells(found), planner=planner)
    return reply({**_asked(f), "cell_m": concern_map.CELL_M, "points": points,
                  "max": max((p[2] for p in points), default=0), "total": sum(p[2] for p in points),
                  "suppressed_cells": withheld, "suppressed_below": settings.SMALL_COUNT_MIN if planner else None})  # fmt: skip


@endpoint()
def areas(request: HttpRequest) -> HttpResponse:
    """?level=grid|community&measure=count|per_1000&category=&from=&to=&state=: every grid (or community) of the
    user's scope with its matching concerns, households, the figure, its class and the legend; joined to the
    grid layer (/api/layers/grids.geojson) by id in the browser."""
    level = _choice(request, "level", concern_map.LEVELS, "grid")
    measure = _choice(request, "measure", figures.MEASURES, "count")
    f = _filters(request)
    user = request.user
    if level == "community" and not policy.sees_dashboard(user):
        raise Refused(403, "forbidden", field="level", detail=_("网格人员只能按网格查看"))
    scope = policy.grids_for(user).published() if level == "grid" else policy.communities_for(user)
    rows = concern_map.area_counts(_matching(user, f), scope, level)
    table = figures.area_table(rows, measure, planner=policy.small_counts_suppressed(user))
    return reply({**_asked(f), "level": level, **table})
