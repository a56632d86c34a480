"""Per-grid coverage kept between requests: the planner's figures recomputed for the changed grids only.

Why: every figure of ``queries.coverage`` is a pass over the households of the grids asked for; the planner
asks for all of them (a million households: seconds), and any write anywhere (a household, a station's
radius, an assignment) used to send every worker back to that pass. Here each grid's household figures are
stored (models/coverage.py) with the grid's page revision (migration 0006: moved by every change to its
households, central households, links and help pairs, and to the grid) and the stations as they stood
(``CoverageStation``). A request recomputes the grids whose revision moved and those within the old or new
reach of a station that changed, in one statement for all of them (``coverage_tuples``), and reads the rest.
Staff counts, codes and names are read live: they are cheap and change with assignments, which move no
grid revision.

Concurrency: a read first asks, in one read-only statement and without any lock, whether anything is
stale (``_FRESH``: the same two questions refresh asks); only then does it take a transaction-scoped advisory
lock and refresh, which asks again under the lock (another worker may have refreshed meanwhile), so two
workers never compute the same grids twice. A refresh never deletes a grid's figures, it marks them stale
(a revision no grid has), so a read that found its grids fresh and runs beside a refresh still finds a row
for every grid, each one fresh at some moment between its check and its read. The revisions stored are
those read before computing, so a change made while computing leaves the grid stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from gridmap.models import AssignmentRole, Grid
from gridmap.queries.coverage import STAFF, coverage_dicts, coverage_tuples
from gridmap.queries.grid_households import scope_select

_LOCK = 0x6772_6964_636F  # the store's advisory lock key ("gridco")
_VERSION = 1  # raise when COVERAGE_SQL's figures change meaning: every stored row is then recomputed

# The stations that differ from those the stored figures saw (moved, resized, switched, added, deleted): a
# FULL JOIN of two small tables, one pass each, where Python would fetch both and compare geometries.
_CHANGED = """
SELECT n.id AS new_id, o.station_id AS old_id, n.location AS new_location, n.radius_m AS new_radius,
       n.active AS new_active, o.location AS old_location, o.radius_m AS old_radius
  FROM gridmap_servicestation n FULL JOIN gridmap_coveragestation o ON o.station_id = n.id
 WHERE n.id IS NULL OR o.station_id IS NULL OR n.radius_m <> o.radius_m OR n.active <> o.active
    OR ST_AsBinary(n.location) <> ST_AsBinary(o.location)"""

# The changed stations settled in one statement (one snapshot): the grids of the households within the old or
# new reach of a changed station are marked stale (revision -1, which no grid has: the figures stay readable
# for a read beside this refresh, never a missing row), and the seen stations become the stations as this
# statement read them, so a station changed meanwhile differs again next time. Reach as a box in degrees, a
# superset of the geodesic circle (2 % and the box's poleward latitude to spare); the households' GiST index
# finds those inside.
_STATIONS_SEEN = (
    """
WITH changed AS MATERIALIZED ("""
    + _CHANGED
    + """),
reach AS (
    SELECT ST_Expand(location,
                     radius / (111320 * cos(radians(least(89, abs(ST_Y(location)) + radius / 110574.0)))) * 1.02 + 1e-6,
                     radius / 110574.0 * 1.02 + 1e-6) AS box
      FROM (SELECT new_location AS location, new_radius::float8 AS radius FROM changed WHERE new_id IS NOT NULL
            UNION ALL
            SELECT old_location, old_radius::float8 FROM changed WHERE old_id IS NOT NULL) r),
stale AS (
    UPDATE gridmap_gridcoverage s SET grid_revision = -1
     WHERE s.grid_id IN (SELECT h.grid_id FROM gridmap_household h JOIN reach r ON h.location && r.box)
    RETURNING s.grid_id),
seen AS (
    INSERT INTO gridmap_coveragestation (station_id, location, radius_m, active)
    SELECT new_id, new_location, new_radius, new_active FROM changed WHERE new_id IS NOT NULL
    ON CONFLICT (station_id) DO UPDATE
       SET location = EXCLUDED.location, radius_m = EXCLUDED.radius_m, active = EXCLUDED.active
    RETURNING 1),
forgotten AS (
    DELETE FROM gridmap_coveragestation o USING changed c WHERE c.new_id IS NULL AND o.station_id = c.old_id
    RETURNING 1)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM stale)
"""
)

# The grids of the scope without fresh figures, with the revision their figures will be stored under: one
# join over the scope's grids, their revisions and their stored rows.
_STALE = """
SELECT g.id, coalesce(r.revision, 0)
  FROM gridmap_grid g
  LEFT JOIN gridmap_pagerevision r ON r.grid_id = g.id
  LEFT JOIN gridmap_gridcoverage s ON s.grid_id = g.id
 WHERE g.id IN ({ids_sql})
   AND (s.grid_id IS NULL OR s.grid_revision <> coalesce(r.revision, 0) OR s.basis <> %s)
"""

# Whether the scope's stored figures can be read as they are: no station differs from those seen and no grid
# of the scope is stale (exactly the two questions refresh asks, read-only and without the lock). One
# statement, so both answers come from one snapshot and the hot path costs one round trip.
_FRESH = "SELECT NOT EXISTS (" + _CHANGED + ") AND NOT EXISTS (" + _STALE + ")"

# The stored figures with the live staff counts, in COVERAGE_SQL's columns and order: one join over the scope,
# the grids, their stored rows and one grouped pass over their assignments.
_READ = (
    """
WITH scope AS ({ids_sql}),"""
    + STAFF
    + """
SELECT g.id, g.code, g.name, s.households, s.covered, s.linked, s.central, s.central_links, s.central_off_band,
       coalesce(st.leaders, 0), coalesce(st.fulltime, 0), s.vulnerable, s.vulnerable_uncovered
  FROM gridmap_grid g
  JOIN gridmap_gridcoverage s ON s.grid_id = g.id
  LEFT JOIN staff st ON st.grid_id = g.id
 WHERE g.id IN (SELECT id FROM scope)
 ORDER BY g.code
"""
)

# The recomputed figures written in one statement from one JSON parameter, not a save() per grid.
_UPSERT = """
INSERT INTO gridmap_gridcoverage (grid_id, grid_revision, basis, households, covered, linked, central,
                                  central_links, central_off_band, vulnerable, vulnerable_uncovered)
SELECT grid_id, grid_revision, %s, households, covered, linked, central, central_links, central_off_band,
       vulnerable, vulnerable_uncovered
  FROM json_to_recordset(%s::json) AS x(grid_id bigint, grid_revision bigint, households int, covered int,
       linked int, central int, central_links int, central_off_band int, vulnerable int, vulnerable_uncovered int)
ON CONFLICT (grid_id) DO UPDATE SET
    grid_revision = EXCLUDED.grid_revision, basis = EXCLUDED.basis, households = EXCLUDED.households,
    covered = EXCLUDED.covered, linked = EXCLUDED.linked, central = EXCLUDED.central,
    central_links = EXCLUDED.central_links, central_off_band = EXCLUDED.central_off_band,
    vulnerable = EXCLUDED.vulnerable, vulnerable_uncovered = EXCLUDED.vulnerable_uncovered
"""


def _basis() -> str:
    """What the stored figures depend on besides the data: a row computed under another basis is stale."""
    return f"v{_VERSION};links {settings.CENTRAL_LINKS_MIN}-{settings.CENTRAL_LINKS_MAX}"


def _fresh(ids_sql: str, ids_params: tuple, basis: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_FRESH.format(ids_sql=ids_sql), [*ids_params, basis])
        return cursor.fetchone()[0]


def refresh(grids: QuerySet) -> int:
    """Bring the stored figures of ``grids`` up to date under the store's lock (held to the end of the
    transaction); the number of grids recomputed."""
    ids_sql, ids_params = scope_select(grids)
    basis = _basis()
    with transaction.atomic(), connection.cursor() as cursor:
        # The lock is PostgreSQL's (one key, released with the transaction): shared by every worker process.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute(_STATIONS_SEEN)
        cursor.execute(_STALE.format(ids_sql=ids_sql), [*ids_params, basis])
        revisions = dict(cursor.fetchall())
        if not revisions:
            return 0
        computed = coverage_tuples(Grid.objects.filter(pk__in=list(revisions)), few=True)
        rows = [
            {
                "grid_id": row[0],
                "grid_revision": revisions[row[0]],
                "households": row[3],
                "covered": row[4],
                "linked": row[5],
                "central": row[6],
                "central_links": row[7],
                "central_off_band": row[8],
                "vulnerable": row[11],
                "vulnerable_uncovered": row[12],
            }
            for row in computed
        ]
        cursor.execute(_UPSERT, [basis, json.dumps(rows)])
    return len(revisions)


@contextmanager
def fresh_store(grids: QuerySet) -> Iterator[None]:
    """Inside: gridmap_gridcoverage holds a row for each of ``grids``, fresh when the block began (a refresh
    beside it only marks rows stale, never drops them), so a statement may join it. The lock is taken only
    when something is stale: a read with nothing changed is one read-only statement."""
    ids_sql, ids_params = scope_select(grids)
    if not _fresh(ids_sql, ids_params, _basis()):
        refresh(grids)
    yield


def stored_coverage(grids: QuerySet) -> list[dict]:
    """``queries.coverage.grid_coverage(grids)``, the same rows, from the store: only the grids whose inputs
    changed since they were last computed are computed now."""
    ids_sql, ids_params = scope_select(grids)
    with fresh_store(grids), connection.cursor() as cursor:
        cursor.execute(
            _READ.format(ids_sql=ids_sql),
            [*ids_params, AssignmentRole.LEADER.value, AssignmentRole.FULLTIME.value],
        )
        return coverage_dicts(cursor.fetchall())
