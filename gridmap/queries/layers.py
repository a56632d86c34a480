"""GeoJSON map layers built inside PostgreSQL.

Why SQL: a per-feature serializer is ~10x slower than letting PostGIS build the FeatureCollection
(docs/performance.md: 24 vs 266 requests/s for a 500-household layer). Every function takes a
queryset from ``gridmap.policy`` and embeds it as a sub-select, so scoping stays in one place and the
layer never holds a row the user may not see.
"""

from __future__ import annotations

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import QuerySet

from gridmap.models import AssignmentRole
from gridmap.models.areas import GridStatus
from gridmap.queries.coverage_store import fresh_store
from gridmap.queries.grid_households import scope_select
from gridmap.rules.sql import literal

PUBLISHED = literal(GridStatus.PUBLISHED)

Bbox = tuple[float, float, float, float]

_FEATURE_COLLECTION = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
  FROM ({features}) f
"""


def _bbox_clause(column: str, bbox: Bbox | None) -> tuple[str, list]:
    if bbox is None:
        return "", []
    # ST_Intersects, not a bare &&: the index box is single precision and lets points a few
    # micro-degrees outside through.
    return f" AND ST_Intersects({column}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", list(bbox)


def _run(features_sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_FEATURE_COLLECTION.format(features=features_sql), params)
        return cursor.fetchone()[0]


def grids_layer(grids: QuerySet, bbox: Bbox | None = None) -> str:
    """Grid polygons with code, name, status, household count, leader and workers (names only).

    Set-based: the household and central-household counts come from the coverage store (only grids changed
    since are recounted: queries/coverage_store.py), the staff from one grouped pass over the grids in view,
    never a sub-select per grid (at a million households a per-grid count of central households scanned that
    whole table once per grid: 28 s for the 2,000 grids of the planner's first view; counting every household
    of the scope again after any change: 0.5–1.2 s)."""
    ids_sql, ids_params = scope_select(grids)
    bbox_sql, bbox_params = _bbox_clause("g.boundary", bbox)
    features = f"""
    WITH shown AS (SELECT g.id FROM gridmap_grid g WHERE g.id IN ({ids_sql}){bbox_sql}),
    staff AS (
        SELECT a.grid_id,
               min(m.name) FILTER (WHERE a.role = %s) AS leader,
               json_agg(m.name ORDER BY m.name) FILTER (WHERE a.role = %s) AS workers
          FROM gridmap_gridassignment a JOIN gridmap_member m ON m.id = a.member_id
         WHERE a.grid_id IN (SELECT id FROM shown) AND a.end_date IS NULL
         GROUP BY a.grid_id)
    SELECT json_build_object(
        'type', 'Feature', 'id', g.id,
        'geometry', ST_AsGeoJSON(g.boundary, 6)::json,
        'properties', json_build_object(
            'code', g.code, 'name', g.name, 'status', g.status, 'version', g.version,
            'community', c.name, 'community_code', c.code,
            'households', coalesce(n.households, 0),
            'central_households', coalesce(n.central, 0),
            'leader', s.leader,
            'workers', coalesce(s.workers, '[]'::json),
            'label_point', ST_AsGeoJSON(ST_PointOnSurface(g.boundary), 6)::json -> 'coordinates'
        )) AS feature
      FROM shown JOIN gridmap_grid g ON g.id = shown.id JOIN gridmap_community c ON c.id = g.community_id
      LEFT JOIN gridmap_gridcoverage n ON n.grid_id = g.id
      LEFT JOIN staff s ON s.grid_id = g.id
     ORDER BY g.code"""
    with fresh_store(grids):
        return _run(features, [*ids_params, *bbox_params, AssignmentRole.LEADER.value, AssignmentRole.FULLTIME.value])


def communities_layer(communities: QuerySet, bbox: Bbox | None = None) -> str:
    ids_sql, ids_params = scope_select(communities)
    bbox_sql, bbox_params = _bbox_clause("c.boundary", bbox)
    features = f"""
    SELECT json_build_object(
        'type', 'Feature', 'id', c.id,
        'geometry', ST_AsGeoJSON(c.boundary, 6)::json,
        'properties', json_build_object('code', c.code, 'name', c.name, 'kind', c.kind,
            'grids', (SELECT count(*) FROM gridmap_grid g WHERE g.community_id = c.id AND g.status = {PUBLISHED}),
            'label_point', ST_AsGeoJSON(ST_PointOnSurface(c.boundary), 6)::json -> 'coordinates')) AS feature
      FROM gridmap_community c
     WHERE c.id IN ({ids_sql}){bbox_sql}
     ORDER BY c.code"""
    return _run(features, [*ids_params, *bbox_params])


def households_layer(households: QuerySet, bbox: Bbox | None = None) -> str:
    """Household points with masked head name, address, grid and link status. No phone or ID number.

    The bbox goes into the scope's sub-select: a street admin's scope holds a whole street (150,000
    households in the 1M city), and with the bbox outside PostgreSQL lists every one of them to keep
    the few in view (300 ms instead of 20 ms for a 500-household grid; docs/performance.md).
    """
    if bbox is not None:
        envelope = Polygon.from_bbox(bbox)
        envelope.srid = 4326
        households = households.filter(location__intersects=envelope)  # ST_Intersects, as _bbox_clause
    ids_sql, ids_params = scope_select(households)
    bbox_sql, bbox_params = "", []
    features = f"""
    SELECT json_build_object(
        'type', 'Feature', 'id', h.id,
        'geometry', ST_AsGeoJSON(h.location, 6)::json,
        'properties', json_build_object(
            'address', h.address,
            'head_name', gridmap_masked_name(h.head_name),
            'grid_id', h.grid_id, 'residents', h.residents,
            'central', ch.id IS NOT NULL,
            'linked', ch.id IS NOT NULL OR l.id IS NOT NULL,
            'vulnerable', h.vulnerable)) AS feature
      FROM gridmap_household h
      LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
      LEFT JOIN gridmap_centrallink l ON l.household_id = h.id
     WHERE h.id IN ({ids_sql}){bbox_sql}"""
    return _run(features, [*ids_params, *bbox_params])


def links_layer(households: QuerySet, bbox: Bbox | None = None) -> str:
    """Lines from each central household to its linked households; both ends must be in scope."""
    ids_sql, ids_params = scope_select(households)
    bbox_sql, bbox_params = _bbox_clause("c.location", bbox)
    features = f"""
    WITH scope AS ({ids_sql})
    SELECT json_build_object(
        'type', 'Feature', 'id', l.id,
        'geometry', ST_AsGeoJSON(ST_MakeLine(c.location, h.location), 6)::json,
        'properties', json_build_object('central_household_id', c.id, 'household_id', h.id,
            'length_m', round(ST_Distance(c.location::geography, h.location::geography)::numeric, 1))) AS feature
      FROM gridmap_centrallink l
      JOIN gridmap_centralhousehold ch ON ch.id = l.central_id AND ch.active
      JOIN gridmap_household c ON c.id = ch.household_id
      JOIN gridmap_household h ON h.id = l.household_id
     WHERE c.id IN (SELECT id FROM scope) AND h.id IN (SELECT id FROM scope){bbox_sql}"""
    return _run(features, [*ids_params, *bbox_params])


def stations_layer(stations: QuerySet, bbox: Bbox | None = None) -> str:
    ids_sql, ids_params = scope_select(stations)
    bbox_sql, bbox_params = _bbox_clause("s.location", bbox)
    features = f"""
    SELECT json_build_object(
        'type', 'Feature', 'id', s.id,
        'geometry', ST_AsGeoJSON(s.location, 6)::json,
        'properties', json_build_object('name', s.name, 'kind', s.kind, 'radius_m', s.radius_m,
            'opening_hours', s.opening_hours, 'services', s.services, 'active', s.active)) AS feature
      FROM gridmap_servicestation s
     WHERE s.id IN ({ids_sql}){bbox_sql}
     ORDER BY s.name"""
    return _run(features, [*ids_params, *bbox_params])
