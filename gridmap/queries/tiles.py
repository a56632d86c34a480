"""Mapbox vector tiles (MVT, EPSG:3857) for grids and households, built by PostGIS (ST_AsMVT).

Why SQL: a city of a million households is too heavy for GeoJSON; PostGIS clips, quantises and encodes
a tile next to the data in milliseconds (docs/performance.md). Scope is a queryset from
``gridmap.policy``: for households it is the tile's FROM (see households_tile), so a tile never carries
a row the user may not see.

Households: as points (id, grid, central/linked flags; no name, address, phone or ID number) when the
tile holds at most POINTS_MAX of them at z >= POINTS_MIN_ZOOM, else as counts per cell (CELL_PX pixels
of a 256-px tile). Cells are computed from lon/lat without transforming every point: within one tile
Web Mercator's y is close to linear in latitude, and a cell is only a visual bucket. This keeps the
densest z14 tile of a million-household city (60k+ households) at tens of milliseconds and kB, where raw
points take 150 ms and 1.7 MB. Planners get cells at every zoom, and cells with fewer than
SMALL_CELL households carry no count (``small``: true), as aggregates for planners must.

Every tile query runs with parallel workers off: they make small tile queries 5-8x slower
(docs/performance.md).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from gridmap.queries.grid_households import scope_select

EXTENT = 4096
POINTS_MIN_ZOOM = 14
POINTS_MAX = 4000
CELL_PX = 8  # of 256: 32 x 32 cells per tile
SMALL_CELL = 5
GRIDS_MIN_ZOOM = 10

_ENVELOPE = """
bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS m, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326) AS g),
box AS (SELECT m, g, ST_XMin(g) AS x0, ST_YMin(g) AS y0, ST_XMax(g) - ST_XMin(g) AS dx,
               ST_YMax(g) - ST_YMin(g) AS dy FROM bounds)"""

_GRIDS = """
WITH {envelope}
SELECT ST_AsMVT(t, 'grids', {extent}, 'geom', 'id') FROM (
    SELECT g.id, g.code, g.name, g.status,
           (SELECT count(*) FROM gridmap_household h WHERE h.grid_id = g.id) AS households,
           ST_AsMVTGeom(ST_Transform(g.boundary, 3857), box.m, {extent}, 64, true) AS geom
      FROM gridmap_grid g, box
     WHERE g.id IN ({scope}) AND ST_Intersects(g.boundary, box.g)) t
 WHERE t.geom IS NOT NULL"""

# Households in the tile, scoped; cell (i, j) counted from the top-left, as MVT pixel coordinates run.
_HOUSEHOLDS = """
WITH {envelope},
pts AS MATERIALIZED (
    SELECT h.id, h.grid_id, h.location,
           least(floor((ST_X(h.location) - box.x0) / box.dx * {cells}), {cells} - 1)::int AS i,
           least(floor((box.y0 + box.dy - ST_Y(h.location)) / box.dy * {cells}), {cells} - 1)::int AS j
      FROM ({source}) h (id, grid_id, location), box
     WHERE ST_Intersects(h.location, box.g)),
n AS (SELECT count(*) AS n FROM pts)
SELECT CASE WHEN %s AND (SELECT n FROM n) <= {points_max} THEN (
    SELECT ST_AsMVT(p, 'households', {extent}, 'geom', 'id') FROM (
        SELECT pts.id, pts.grid_id, ch.id IS NOT NULL AS central, ch.id IS NOT NULL OR l.id IS NOT NULL AS linked,
               ST_AsMVTGeom(ST_Transform(pts.location, 3857), box.m, {extent}, 0, true) AS geom
          FROM pts CROSS JOIN box
          LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = pts.id AND ch.active
          LEFT JOIN gridmap_centrallink l ON l.household_id = pts.id) p)
ELSE (
    SELECT ST_AsMVT(c, 'household_cells', {extent}, 'geom') FROM (
        SELECT CASE WHEN count(*) >= %s THEN count(*) END AS count, count(*) < %s AS small,
               ST_Point((i + 0.5) * {extent} / {cells}, (j + 0.5) * {extent} / {cells}) AS geom
          FROM pts GROUP BY i, j) c)
END"""


def _run(sql: str, params: list) -> bytes:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def grids_tile(grids: QuerySet, z: int, x: int, y: int) -> bytes:
    """Grid polygons (code, name, status, households) of ``grids`` in tile z/x/y; empty below z10."""
    if z < GRIDS_MIN_ZOOM:
        return b""
    scope, params = scope_select(grids)
    sql = _GRIDS.format(envelope=_ENVELOPE, extent=EXTENT, scope=scope)
    return _run(sql, [z, x, y, z, x, y, *params])


def households_tile(scope: QuerySet, z: int, x: int, y: int, *, points: bool) -> bytes:
    """Households in tile z/x/y. ``scope``: for resident roles a ``policy.households_for`` queryset;
    for planners a ``policy.grids_for`` queryset (their households, counted only) with ``points=False``.

    The scope is the FROM of the tile (its own filters on household.community_id / grid_id), not a
    ``h.id IN (scope ids)`` semi-join: PostgreSQL flattens the sub-select, scans the tile box on the GiST
    index and checks each point's indexed foreign key, where the semi-join hashed every household of a
    street admin's street for every tile (133-170 ms at 100k; docs/performance.md).
    """
    if scope.model._meta.model_name == "household":
        # The bare column: values("location") would select location::bytea and hide the GiST index.
        located = scope.annotate(geom=RawSQL('"gridmap_household"."location"', ()))
        source, params = scope_select(located, ("id", "grid_id", "geom"))
    else:
        ids, params = scope_select(scope)
        source = f"SELECT id, grid_id, location FROM gridmap_household WHERE grid_id IN ({ids})"
    sql = _HOUSEHOLDS.format(
        envelope=_ENVELOPE, extent=EXTENT, cells=256 // CELL_PX, points_max=POINTS_MAX, source=source
    )
    small = 1 if points else SMALL_CELL  # suppression is for planners' aggregates
    return _run(sql, [z, x, y, z, x, y, *params, points and z >= POINTS_MIN_ZOOM, small, small])
