"""The work list of street admins and community staff: what needs doing in their scope, each item naming the
place that fixes it. It reuses the rules where they live: staffing warnings from queries/staffing.py (one
statement for every grid), topology from queries/grid_topology.py (the editor's own report), the central
households' link band from settings (as services/people/central.py and queries/coverage.py count it)."""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Now

from gridmap.models import Community, Grid, GridStatus
from gridmap.models.concerns import OPEN_STATES, ConcernState
from gridmap.queries.grid_households import named_ids
from gridmap.queries.grid_topology import community_report, working_grids
from gridmap.queries.staffing import staffing_layer

STAFFING_WARNINGS = ("no_leader", "several_leaders", "no_fulltime", "overloaded")
SIZE_WARNINGS = ("size_low", "size_high")

# Why SQL: one grouped statement over the scope's active central households and their links, instead of a
# count per central household; the band is the one of settings (CENTRAL_LINKS_MIN..MAX).
_CENTRAL_OFF_BAND = """
SELECT ch.household_id, h.address, g.id, g.code, g.name, count(l.id) AS links
  FROM gridmap_centralhousehold ch
  JOIN gridmap_household h ON h.id = ch.household_id
  JOIN gridmap_grid g ON g.id = h.grid_id
  LEFT JOIN gridmap_centrallink l ON l.central_id = ch.id
 WHERE ch.active AND h.grid_id IN ({ids})
 GROUP BY ch.household_id, h.address, g.id, g.code, g.name
HAVING count(l.id) < %(low)s OR count(l.id) > %(high)s
 ORDER BY g.code, h.address
"""


def staffing_items(grids: QuerySet[Grid]) -> tuple[list[dict], list[dict]]:
    """(grids with a staffing gap, grids outside the household band), published grids only."""
    staffing, size = [], []
    for feature in json.loads(staffing_layer(grids))["features"]:
        p = feature["properties"]
        row = {"id": feature["id"], "code": p["code"], "name": p["name"], "households": p["households"]}
        gaps = [w for w in p["warnings"] if w in STAFFING_WARNINGS]
        if gaps:
            staffing.append({**row, "warnings": gaps})
        sizes = [w for w in p["warnings"] if w in SIZE_WARNINGS]
        if sizes:
            size.append({**row, "warnings": sizes})
    communities = dict(grids.filter(pk__in=[r["id"] for r in size]).values_list("id", "community_id"))
    for row in size:  # the editor opens one community
        row["community"] = communities[row["id"]]
    return staffing, size


def draft_items(grids: QuerySet[Grid]) -> list[dict]:
    """Drafts waiting to be published, per community (publishing is per community)."""
    rows = (
        grids.filter(status=GridStatus.DRAFT)
        .values("community_id", "community__name", "community__code")
        .annotate(drafts=Count("id"))
        .order_by("community__code")
    )
    return [
        {"community": r["community_id"], "name": r["community__name"], "code": r["community__code"],
         "drafts": r["drafts"]}
        for r in rows
    ]  # fmt: skip


def topology_items(communities: QuerySet[Community]) -> list[dict]:
    """Communities whose working grids leave gaps, overlap or reach outside (one grid query for all)."""
    communities = list(communities.order_by("code"))
    grids = working_grids(Community.objects.filter(pk__in=[c.pk for c in communities]))
    items = []
    for community in communities:
        report = community_report(community, grids.get(community.pk, []), households=False)
        if not report["clean"]:
            items.append({
                "community": community.pk, "name": community.name, "code": community.code,
                "gaps": len(report["gaps"]), "slivers": report["slivers"], "overlaps": len(report["overlaps"]),
                "outside": len(report["outside"]), "coverage_pct": report["coverage_pct"],
            })  # fmt: skip
    return items


def concern_counts(concerns: QuerySet) -> dict:
    """Open concerns, and those that want someone: reported and not yet accepted, due within
    CONCERN_DUE_SOON_HOURS, overdue, escalated, and ``attention``, the open concerns in any of these (the bell's
    figure). One statement."""
    soon = Now() + datetime.timedelta(hours=settings.CONCERN_DUE_SOON_HOURS)
    new, overdue, escalated = Q(state=ConcernState.REPORTED), Q(due_at__lt=Now()), Q(escalated=True)
    due_soon = Q(due_at__gte=Now(), due_at__lt=soon)
    counts = concerns.filter(state__in=OPEN_STATES).aggregate(  # n_: an alias may not shadow the field it counts
        n_open=Count("id"),
        n_new=Count("id", filter=new),
        n_due_soon=Count("id", filter=due_soon),
        n_overdue=Count("id", filter=overdue),
        n_escalated=Count("id", filter=escalated),
        n_attention=Count("id", filter=new | due_soon | overdue | escalated),
    )
    return {key.removeprefix("n_"): value for key, value in counts.items()}


def central_items(grids: QuerySet[Grid]) -> list[dict]:
    """Active central households of the scope's grids linking fewer or more households than the band."""
    ids_sql, names = named_ids(grids, "g")
    params = {"low": settings.CENTRAL_LINKS_MIN, "high": settings.CENTRAL_LINKS_MAX, **names}
    with connection.cursor() as cursor:
        cursor.execute(_CENTRAL_OFF_BAND.format(ids=ids_sql), params)
        return [
            {"household": h, "address": address, "grid": grid, "code": code, "name": name, "links": links,
             "low": links < settings.CENTRAL_LINKS_MIN}
            for h, address, grid, code, name, links in cursor.fetchall()
        ]  # fmt: skip
