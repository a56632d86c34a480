"""The concern map of the KPI dashboard (issue #17): concerns counted per square cell (the heat layer) and per grid
or community (the choropleth), for a category (with its sub-categories), a period and a state group.

Why SQL: the browser must never receive a concern's point (a planner may not see resident rows, and a heat layer
fed with points would hand out every reported address), so the concerns are binned where they are stored: each
point's cell is floor(lon / dx), floor(lat / dy), kept as integers so one GROUP BY counts, and only the cell centre
with its count leaves PostgreSQL. dx and dy are ``size`` metres in degrees at the middle latitude of all
communities (the usual series for metres per degree), so the cells are one fixed grid for every scope of the
city: the same cell at a street's and at the city's zoom. Reading the degrees as they are stored, instead of
projecting each point to UTM as ``queries.heat`` does for households, is what makes a street's year of concerns
(143,000 at a million) 90 ms instead of 300 ms; a cell's east-west side is off by about 1.5% at 40° N for a point
1° of latitude (110 km) from that middle, far more than a city spans. The choropleth is one grouped pass too: the scope's concerns per area
beside the area's households (for the rate per 1,000), instead of a query per grid.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import FloatField, Func, QuerySet
from django.utils import timezone

from gridmap.models.concerns import OPEN_STATES, Concern, ConcernCategory
from gridmap.queries.grid_households import named_ids

CELL_M = 250
STATE_GROUPS = ("all", "open", "overdue")
LEVELS = ("grid", "community")

_HEAT_SQL = """
WITH mid AS (SELECT radians((ST_YMin(e) + ST_YMax(e)) / 2) AS phi
               FROM (SELECT ST_Extent(boundary) AS e FROM gridmap_community) x),
cell AS (SELECT %(size)s / (111412.84 * cos(phi) - 93.5 * cos(3 * phi)) AS dx,
                %(size)s / (111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi)) AS dy
           FROM mid WHERE phi IS NOT NULL),
bins AS (
    SELECT floor(k.lon / dx)::int8 AS i, floor(k.lat / dy)::int8 AS j, count(*) AS n
      FROM ({rows}) k, cell
     GROUP BY 1, 2)
SELECT (j + 0.5) * dy, (i + 0.5) * dx, n
  FROM bins, cell
 ORDER BY i, j
"""

# Every area of the scope, also those without a concern (a 0 is a figure on the map); households by the area's
# own column, so the community's count holds its households outside every grid as the KPI page's do.
_AREAS_SQL = """
SELECT a.id, a.code, a.name, coalesce(k.n, 0), coalesce(h.n, 0)
  FROM {table} a
  LEFT JOIN (SELECT {key} AS id, count(*) AS n FROM ({rows}) r GROUP BY 1) k ON k.id = a.id
  LEFT JOIN (SELECT {key} AS id, count(*) AS n FROM gridmap_household
              WHERE {key} IN ({areas}) GROUP BY 1) h ON h.id = a.id
 WHERE a.id IN ({areas})
 ORDER BY a.code
"""
_AREA_TABLES = {"grid": ("gridmap_grid", "grid_id"), "community": ("gridmap_community", "community_id")}


def category_ids(code: str) -> list[int] | None:
    """The ids of category ``code`` and of every category below it (the tree: a parent includes its children);
    None for an unknown code. The tree is small: one query, walked here."""
    rows = list(ConcernCategory.objects.values_list("id", "code", "parent_id"))
    root = next((pk for pk, c, _ in rows if c == code), None)
    if root is None:
        return None
    found, frontier = {root}, {root}
    while frontier:
        frontier = {pk for pk, _, parent in rows if parent in frontier and pk not in found}
        found |= frontier
    return sorted(found)


def matching(
    concerns: QuerySet[Concern],
    *,
    categories: list[int] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    state: str = "all",
) -> QuerySet[Concern]:
    """``concerns`` (a policy queryset) of the categories, reported from ``since`` to ``until`` (whole days in
    the site's time zone, both included), in the state group (all, open, or open past its deadline)."""
    if categories is not None:
        concerns = concerns.filter(category_id__in=categories)
    zone = timezone.get_current_timezone()
    if since is not None:
        concerns = concerns.filter(created_at__gte=dt.datetime.combine(since, dt.time.min, zone))
    if until is not None:
        concerns = concerns.filter(created_at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, zone))
    if state in ("open", "overdue"):
        concerns = concerns.filter(state__in=OPEN_STATES)
    if state == "overdue":
        concerns = concerns.filter(due_at__lt=timezone.now())
    return concerns


def concern_cells(concerns: QuerySet[Concern], cell_m: int = CELL_M) -> list[dict]:
    """One dict per non-empty cell of ``concerns``: lat, lon (the cell's centre) and the count."""
    # The coordinates as numbers: selecting the point itself would hand it over as WKB (GeoDjango's ::bytea)
    # to be parsed again for every row, a third of the statement's time at a street's year.
    lon_lat = concerns.annotate(lon=Func("location", function="ST_X", output_field=FloatField()),
                                lat=Func("location", function="ST_Y", output_field=FloatField()))  # fmt: skip
    rows_sql, names = named_ids(lon_lat, "k", ("lon", "lat"))
    with connection.cursor() as cursor:
        cursor.execute(_HEAT_SQL.format(rows=rows_sql), {"size": float(cell_m), **names})
        return [{"lat": lat, "lon": lon, "count": n} for lat, lon, n in cursor.fetchall()]


def area_counts(concerns: QuerySet[Concern], areas: QuerySet, level: str) -> list[dict]:
    """Per area of ``areas`` (grids or communities, by ``level``): id, code, name, the concerns of ``concerns``
    in it and its households."""
    table, key = _AREA_TABLES[level]
    rows_sql, names = named_ids(concerns, "k", (key,))
    areas_sql, area_names = named_ids(areas, "a")
    sql = _AREAS_SQL.format(table=table, key=key, rows=rows_sql, areas=areas_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**names, **area_names})
        return [
            {"id": pk, "code": code, "name": name, "concerns": n, "households": h}
            for pk, code, name, n, h in cursor.fetchall()
        ]
