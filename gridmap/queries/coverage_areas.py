"""Coverage per community, per street and for any selection of grids: the per-grid report, summed.

Why this shape: docs/domain.md wants every figure "per grid, per community, per street, and for any selection",
and the numbers must always agree. So there is no second way of counting here: the per-grid statement of
``queries.coverage`` runs as a sub-select and one GROUP BY adds its counts up by community, by street or
over the whole selection, in the database, in one statement. Ratios are recomputed from the summed counts
(a street's coverage is covered households / households, not a mean of grid percentages). Unassigned
households (inside a community, in no grid: a gap) are counted per community from the household table.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from gridmap.models import AssignmentRole
from gridmap.queries.coverage import CELL, COVERAGE_SQL, ratio

LEVELS = ("community", "street", "selection")
_PER_GRID = (
    "grid_id, code, name, households, covered, linked, central, central_links, central_off_band, leaders, "
    "fulltime, vulnerable, vulnerable_uncovered"
)
_KEYS = {
    "community": ("c.id", "c.code", "c.name"),
    "street": ("s.id", "s.code", "s.name"),
    "selection": ("NULL::int", "''", "''"),
}

_AREAS_SQL = """
SELECT {key_id}, {key_code}, {key_name}, count(*) AS grids,
       sum(pg.households)::bigint, sum(pg.covered)::bigint, sum(pg.linked)::bigint, sum(pg.central)::bigint,
       sum(pg.central_links)::bigint, sum(pg.central_off_band)::bigint,
       count(*) FILTER (WHERE pg.leaders = 1 AND pg.fulltime >= 1) AS staffed, sum(pg.fulltime)::bigint,
       count(*) FILTER (WHERE pg.households < %s) AS under, count(*) FILTER (WHERE pg.households > %s) AS over,
       sum(pg.vulnerable)::bigint, sum(pg.vulnerable_uncovered)::bigint,
       {unassigned}
  FROM ({per_grid}) AS pg({columns})
  JOIN gridmap_grid g ON g.id = pg.grid_id
  JOIN gridmap_community c ON c.id = g.community_id
  JOIN gridmap_street s ON s.id = c.street_id
 {group}
 ORDER BY 2
"""
# Households of the level's communities that lie in no grid; the communities are those of the scope.
_UNASSIGNED = {
    "community": "(SELECT count(*) FROM gridmap_household h WHERE h.community_id = c.id AND h.grid_id IS NULL)",
    "street": """(SELECT count(*) FROM gridmap_household h WHERE h.grid_id IS NULL AND h.community_id IN (
                      SELECT DISTINCT g2.community_id FROM gridmap_grid g2 JOIN gridmap_community c2
                          ON c2.id = g2.community_id WHERE c2.street_id = s.id AND g2.id IN ({ids_sql})))""",
    "selection": "NULL::bigint",
}
_FIELDS = (
    "id",
    "code",
    "name",
    "grids",
    "households",
    "covered",
    "linked",
    "central",
    "central_links",
    "central_off_band",
    "staffed_grids",
    "fulltime",
    "grids_under",
    "grids_over",
    "vulnerable",
    "vulnerable_uncovered",
    "unassigned",
)


# The per-grid rows of ``grid_coverage`` handed in (the planner's cached ones), read back as the same relation.
_GIVEN_ROWS = """SELECT * FROM json_to_recordset(%s::json) AS x(grid_id bigint, code text, name text,
    households bigint, covered bigint, linked bigint, central bigint, central_links bigint, central_off_band bigint,
    leaders bigint, fulltime bigint, vulnerable bigint, vulnerable_uncovered bigint)"""


def area_coverage(grids: QuerySet, level: str, per_grid: list[dict] | None = None) -> list[dict]:
    """The coverage figures of ``grids`` summed per ``level`` (``community``, ``street`` or ``selection``:
    one row for all of them), in code order.

    Keys: ``level, id, code, name, grids, households, covered, covered_pct, linked, linked_pct, central,
    central_links, central_load, central_off_band, staffed_grids, fulltime, per_fulltime, grids_under,
    grids_over`` (against GRID_HOUSEHOLDS_MIN..MAX), ``vulnerable, vulnerable_uncovered, unassigned``
    (None for a selection). A selection without grids gives one row of zeros. ``per_grid``: the
    ``grid_coverage`` rows of exactly these grids when the caller has them (the sums then skip the per-grid
    statement; the same GROUP BY adds them up).
    """
    if level not in LEVELS:
        raise ValueError(level)
    ids_sql, ids_params = grids.order_by().values("id").query.sql_with_params()
    key_id, key_code, key_name = _KEYS[level]
    group = "" if level == "selection" else f"GROUP BY {key_id}, {key_code}, {key_name}"
    unassigned = _UNASSIGNED[level].format(ids_sql=ids_sql)
    sql = _AREAS_SQL.format(
        key_id=key_id,
        key_code=key_code,
        key_name=key_name,
        group=group,
        columns=_PER_GRID,
        unassigned=unassigned,
        per_grid=_GIVEN_ROWS if per_grid is not None else COVERAGE_SQL.format(ids_sql=ids_sql, cell=CELL, near=""),
    )
    # Parameters in the order their placeholders appear: the two size bounds, the street level's scope,
    # then the per-grid statement's own.
    params = [
        settings.GRID_HOUSEHOLDS_MIN,
        settings.GRID_HOUSEHOLDS_MAX,
        *(ids_params if level == "street" else ()),
    ]
    if per_grid is not None:
        fields = _PER_GRID.split(", ")
        params.append(json.dumps([{k: row[k] for k in fields} for row in per_grid], ensure_ascii=False))
    else:
        params += [
            *ids_params,
            settings.CENTRAL_LINKS_MIN,
            settings.CENTRAL_LINKS_MAX,
            AssignmentRole.LEADER.value,
            AssignmentRole.FULLTIME.value,
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows and level == "selection":
        rows = [(None, "", "", 0, *([0] * 12), None)]
    out = []
    for row in rows:
        item = {"level": level, **dict(zip(_FIELDS, row))}
        for key in _FIELDS[4:16]:
            item[key] = item[key] or 0
        item["covered_pct"] = ratio(item["covered"], item["households"], 100.0)
        item["linked_pct"] = ratio(item["linked"], item["households"], 100.0)
        item["central_load"] = ratio(item["central_links"], item["central"])
        item["per_fulltime"] = ratio(item["households"], item["fulltime"])
        out.append(item)
    return out
