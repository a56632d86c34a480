"""Coverage report per grid: docs/domain.md's "Coverage" metrics, computed inside PostgreSQL.

Why SQL: every figure is an aggregate over all households of the grids in scope; one statement reads
each household once and lets PostGIS do the geodesic radius tests next to the data, where a Python loop
would issue a query per grid or per household (docs/performance.md has the numbers). The grids come as
a queryset from ``gridmap.policy`` and are embedded as a sub-select, as in ``queries/layers.py``.
``geodata.coverage.grid_coverage`` computes the same figures from arrays; the two agree exactly.
"""

from __future__ import annotations

import io

import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from gridmap.models import AssignmentRole

# Station coverage is geodesic: ST_DWithin on geography, radius included, as docs/domain.md defines it. Asking
# it household by household costs a GiST probe each (~15 µs here: 15 s for a million households), so the
# stations, which are few, are spread over the cells of a fixed lon/lat lattice (CELL degrees, ~250 m)
# that their radius can reach, and households are hash-joined to the stations of their cell. A
# planar distance in metres (metres per degree at the station's latitude) settles each pair that is
# clearly inside or outside; only pairs within ``eps`` of the radius (a few metres; far more than that
# approximation's error) go to the exact geodesic test. 1.5 s for a million households and 2,000
# stations (docs/performance.md). Every other figure is a join or a count over the same households.
CELL = 0.0025
# The lattice: every cell a station's radius can reach (with ``eps`` to spare), one row per (cell, station).
# ``{source}`` is a CTE with columns location, r, x, y, mx, my, eps: all active stations here, the unchanged
# stations near a what-if in queries/what_if.py.
LATTICE = """
spans AS MATERIALIZED (
    SELECT s.*, floor((x - r * (1 + 2 * eps) / mx) / {cell})::int8 AS x0,
           floor((x + r * (1 + 2 * eps) / mx) / {cell})::int8 AS x1,
           floor((y - r * (1 + 2 * eps) / my) / {cell})::int8 AS y0,
           floor((y + r * (1 + 2 * eps) / my) / {cell})::int8 AS y1
      FROM {source} s),
cells AS MATERIALIZED (   -- a single generate_series keeps estimates sane
    SELECT (x0 + mod(k, x1 - x0 + 1)) * 1000000 + y0 + k / (x1 - x0 + 1) AS cell, location, r, x, y, mx, my, eps
      FROM spans, generate_series(0, (x1 - x0 + 1) * (y1 - y0 + 1) - 1) AS k)"""
STATIONS = """
stations AS MATERIALIZED (
    SELECT location, radius_m::float8 AS r, ST_X(location) AS x, ST_Y(location) AS y,
           111412.84 * cos(radians(ST_Y(location))) - 93.5 * cos(3 * radians(ST_Y(location))) AS mx,
           111132.954 - 559.822 * cos(2 * radians(ST_Y(location))) AS my,
           0.005 + radius_m / 200000.0 AS eps
      FROM gridmap_servicestation WHERE active{near}),""" + LATTICE.replace("{source}", "stations")
# ``c`` is a cells row, ``h`` has columns x, y, location. Used as [NOT] EXISTS(...) in a WHERE clause,
# which PostgreSQL runs as a hash semi-join (anti-join).
COVERED = """
EXISTS (SELECT 1 FROM cells c
         WHERE c.cell = floor(h.x / {cell})::int8 * 1000000 + floor(h.y / {cell})::int8
           AND (((h.x - c.x) * c.mx) ^ 2 + ((h.y - c.y) * c.my) ^ 2 <= (c.r * (1 - c.eps)) ^ 2
                OR (((h.x - c.x) * c.mx) ^ 2 + ((h.y - c.y) * c.my) ^ 2 <= (c.r * (1 + c.eps)) ^ 2
                    AND _ST_DWithin(c.location::geography, h.location::geography, c.r))))"""

# For a few grids (a what-if's touched grids) only the stations that can reach them matter: those within
# the largest radius of the grids' extent (degrees of longitude at the extent's highest latitude, 2 % extra;
# a household lies inside its grid). Spreading all 2,000 stations of a city over the lattice would cost
# more than the handful of grids themselves.
NEAR_SCOPE = """
       AND location && (
           SELECT ST_Expand(e, m.r / (111320 * cos(radians(least(89, greatest(abs(ST_YMin(e)), abs(ST_YMax(e)))))))
                               * 1.02 + 1e-6)
             FROM (SELECT ST_Extent(boundary)::geometry AS e FROM gridmap_grid WHERE id IN (SELECT id FROM scope)) x,
                  (SELECT coalesce(max(radius_m), 0)::float8 AS r FROM gridmap_servicestation WHERE active) m)"""

# Leaders and full-time workers per grid of ``scope`` (active assignments): parameters leader, full-time role.
STAFF = """
staff AS (
    SELECT grid_id, count(*) FILTER (WHERE role = %s) AS leaders,
           count(*) FILTER (WHERE role = %s) AS fulltime
      FROM gridmap_gridassignment
     WHERE end_date IS NULL AND grid_id IN (SELECT id FROM scope)
     GROUP BY grid_id
)"""

COVERAGE_SQL = (
    """
WITH scope AS ({ids_sql}),"""
    + STATIONS
    + """,
link_counts AS (SELECT central_id, count(*) AS links FROM gridmap_centrallink GROUP BY central_id),
households AS (
    SELECT h.id, h.grid_id,
           ch.id IS NOT NULL AS central, coalesce(lc.links, 0) AS links,
           ch.id IS NOT NULL OR lk.household_id IS NOT NULL AS linked,
           h.vulnerable
      FROM gridmap_household h
      LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
      LEFT JOIN link_counts lc ON lc.central_id = ch.id
      LEFT JOIN (SELECT l.household_id FROM gridmap_centrallink l
                   JOIN gridmap_centralhousehold c ON c.id = l.central_id AND c.active) lk ON lk.household_id = h.id
     WHERE h.grid_id IN (SELECT id FROM scope)
),
per_grid AS (
    SELECT grid_id, count(*) AS households, count(*) FILTER (WHERE linked) AS linked,
           count(*) FILTER (WHERE vulnerable) AS vulnerable,
           count(*) FILTER (WHERE central) AS central, sum(links) FILTER (WHERE central)::bigint AS central_links,
           count(*) FILTER (WHERE central AND (links < %s OR links > %s)) AS central_off_band
      FROM households GROUP BY grid_id
),
uncovered AS MATERIALIZED (   -- out of every station's reach: few, so the checks below are index lookups
    SELECT h.id, h.grid_id, h.vulnerable
      FROM (SELECT id, grid_id, location, ST_X(location) AS x, ST_Y(location) AS y,
                   vulnerable
              FROM gridmap_household WHERE grid_id IN (SELECT id FROM scope)) h
     WHERE NOT """
    + COVERED
    + """
),
uncovered_per_grid AS (
    SELECT grid_id, count(*) AS uncovered,
           count(*) FILTER (WHERE vulnerable
               AND gridmap_without_support(u.id))
               AS vulnerable_uncovered
      FROM uncovered u GROUP BY grid_id
),
"""
    + STAFF
    + """
SELECT g.id, g.code, g.name,
       coalesce(p.households, 0), coalesce(p.households, 0) - coalesce(u.uncovered, 0), coalesce(p.linked, 0),
       coalesce(p.central, 0), coalesce(p.central_links, 0), coalesce(p.central_off_band, 0),
       coalesce(s.leaders, 0), coalesce(s.fulltime, 0),
       coalesce(p.vulnerable, 0), coalesce(u.vulnerable_uncovered, 0)
  FROM gridmap_grid g
  LEFT JOIN per_grid p ON p.grid_id = g.id
  LEFT JOIN uncovered_per_grid u ON u.grid_id = g.id
  LEFT JOIN staff s ON s.grid_id = g.id
 WHERE g.id IN (SELECT id FROM scope)
 ORDER BY g.code
"""
)


def ratio(numerator, denominator, scale: float = 1.0) -> float | None:
    return scale * numerator / denominator if denominator else None


def _size_status(households: int) -> str:
    if households < settings.GRID_HOUSEHOLDS_MIN:
        return "under"
    if households > settings.GRID_HOUSEHOLDS_MAX:
        return "over"
    return "ok"


def grid_coverage(grids: QuerySet, *, few: bool = False) -> list[dict]:
    """One row per grid of ``grids`` (in code order) with docs/domain.md's coverage metrics.

    Keys: ``grid_id, code, name, households, covered, covered_pct, linked, linked_pct`` (central or
    linked to an active central household), ``central, central_links, central_load, central_off_band``
    (links per central household outside CENTRAL_LINKS_MIN..MAX), ``leaders, fulltime, staffed,
    per_fulltime`` (active assignments), ``size_status`` ('under' / 'ok' / 'over' against
    GRID_HOUSEHOLDS_MIN..MAX), ``vulnerable, vulnerable_uncovered``. Percentages and ratios are
    ``None`` when their denominator is 0. ``few``: ``grids`` are a handful (a what-if's touched grids), so
    only the stations within reach of their extent are put on the lattice (same figures, less work).
    """
    return coverage_dicts(coverage_tuples(grids, few=few))


def coverage_tuples(grids: QuerySet, *, few: bool = False) -> list[tuple]:
    """COVERAGE_SQL's rows for ``grids``: ``(grid_id, code, name, households, covered, linked, central,
    central_links, central_off_band, leaders, fulltime, vulnerable, vulnerable_uncovered)``, in code order."""
    ids_sql, ids_params = grids.order_by().values("id").query.sql_with_params()
    params = [
        *ids_params,
        settings.CENTRAL_LINKS_MIN,
        settings.CENTRAL_LINKS_MAX,
        AssignmentRole.LEADER.value,
        AssignmentRole.FULLTIME.value,
    ]  # in the order they appear
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE_SQL.format(ids_sql=ids_sql, cell=CELL, near=NEAR_SCOPE if few else ""), params)
        return cursor.fetchall()


def coverage_dicts(rows: list[tuple]) -> list[dict]:
    """``coverage_tuples`` rows as ``grid_coverage`` answers them, with the derived figures."""
    out = []
    for (
        grid_id,
        code,
        name,
        households,
        covered,
        linked,
        central,
        central_links,
        off_band,
        leaders,
        fulltime,
        vulnerable,
        vulnerable_uncovered,
    ) in rows:
        out.append(
            {
                "grid_id": grid_id,
                "code": code,
                "name": name,
                "households": households,
                "covered": covered,
                "covered_pct": ratio(covered, households, 100.0),
                "linked": linked,
                "linked_pct": ratio(linked, households, 100.0),
                "central": central,
                "central_links": central_links,
                "central_load": ratio(central_links, central),
                "central_off_band": off_band,
                "leaders": leaders,
                "fulltime": fulltime,
                "staffed": leaders == 1 and fulltime >= 1,
                "per_fulltime": ratio(households, fulltime),
                "size_status": _size_status(households),
                "vulnerable": vulnerable,
                "vulnerable_uncovered": vulnerable_uncovered,
            }
        )
    return out


# The inputs of geodata.coverage.grid_coverage, read with COPY (a million rows through fetchall() cost
# seconds of Python objects; CSV into pandas costs a fraction of that).
_ARRAYS = {
    "grids": """
SELECT g.id, g.code, g.name,
       count(a.id) FILTER (WHERE a.role = {leader}) AS leaders,
       count(a.id) FILTER (WHERE a.role = {fulltime}) AS fulltime
  FROM gridmap_grid g LEFT JOIN gridmap_gridassignment a ON a.grid_id = g.id AND a.end_date IS NULL
 WHERE g.id IN ({ids_sql}) GROUP BY g.id""",
    "households": """
SELECT h.grid_id, ST_X(h.location) AS lon, ST_Y(h.location) AS lat,
       ch.id IS NOT NULL AS central, coalesce(lc.links, 0) AS links, lk.household_id IS NOT NULL AS linked,
       h.vulnerable,
       hp.household_id IS NOT NULL AS helped
  FROM gridmap_household h
  LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
  LEFT JOIN (SELECT central_id, count(*) AS links FROM gridmap_centrallink GROUP BY central_id) lc
         ON lc.central_id = ch.id
  LEFT JOIN (SELECT l.household_id FROM gridmap_centrallink l
               JOIN gridmap_centralhousehold c ON c.id = l.central_id AND c.active) lk ON lk.household_id = h.id
  LEFT JOIN (SELECT DISTINCT household_id FROM gridmap_helppair WHERE end_date IS NULL) hp ON hp.household_id = h.id
 WHERE h.grid_id IN ({ids_sql})""",
    "stations": (
        "SELECT ST_X(location) AS lon, ST_Y(location) AS lat, radius_m FROM gridmap_servicestation WHERE active"
    ),
}


def coverage_arrays(grids: QuerySet) -> dict[str, pd.DataFrame]:
    """The frames ``geodata.coverage.grid_coverage`` takes (grids, households, stations) for ``grids``.

    PostgreSQL prints doubles in their shortest exact form and pandas parses them exactly, so the
    coordinates arrive bit for bit.
    """
    ids_sql, ids_params = grids.order_by().values("id").query.sql_with_params()
    frames = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        scope = raw.mogrify(ids_sql, ids_params).decode()  # COPY takes no parameters
        roles = {
            "leader": raw.mogrify("%s", [AssignmentRole.LEADER.value]).decode(),
            "fulltime": raw.mogrify("%s", [AssignmentRole.FULLTIME.value]).decode(),
        }
        for name, sql in _ARRAYS.items():
            buffer = io.StringIO()
            raw.copy_expert(f"COPY ({sql.format(ids_sql=scope, **roles)}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
            buffer.seek(0)
            frame = pd.read_csv(buffer, true_values=["t"], false_values=["f"], dtype={"code": str, "name": str})
            frames[name] = frame
    return frames
