"""Staffing of grids, computed in SQL: leader, full-time workers, households per full-time worker and
the warnings docs/domain.md defines (a grid is staffed with exactly one active leader and >= 1 full-time
worker; too many households per full-time worker and a size outside the band are warnings)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from gridmap.models import AssignmentRole, GridStatus
from gridmap.queries.grid_households import named_ids

# Why SQL: one statement for every grid in scope, counting households and staff with index lookups per
# grid; the status order (no leader > no full-time worker > overloaded > size) picks the colour.
_STAFFING = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
  FROM (
    SELECT json_build_object('type', 'Feature', 'id', s.id, 'geometry', ST_AsGeoJSON(s.boundary, 6)::json,
           'properties', json_build_object(
               'code', s.code, 'name', s.name, 'status', s.status, 'households', s.households,
               'leader', s.leader, 'leaders', s.leaders, 'fulltime', s.fulltime, 'parttime', s.parttime,
               'volunteers', s.volunteers,
               'per_fulltime', CASE WHEN s.fulltime > 0 THEN round(s.households::numeric / s.fulltime, 1) END,
               'staffing', CASE WHEN s.leaders = 0 THEN 'no_leader'
                                WHEN s.fulltime = 0 THEN 'no_fulltime'
                                WHEN s.households > %(per_fulltime)s * s.fulltime THEN 'overloaded'
                                ELSE 'staffed' END,
               'warnings', array_remove(ARRAY[
                   CASE WHEN s.leaders = 0 THEN 'no_leader' END,
                   CASE WHEN s.leaders > 1 THEN 'several_leaders' END,
                   CASE WHEN s.fulltime = 0 THEN 'no_fulltime' END,
                   CASE WHEN s.fulltime > 0 AND s.households > %(per_fulltime)s * s.fulltime THEN 'overloaded' END,
                   CASE WHEN s.households < %(band_min)s THEN 'size_low' END,
                   CASE WHEN s.households > %(band_max)s THEN 'size_high' END], NULL),
               'label_point', ST_AsGeoJSON(ST_PointOnSurface(s.boundary), 6)::json -> 'coordinates')) AS feature
      FROM (
        SELECT g.id, g.code, g.name, g.status, g.boundary,
               (SELECT count(*) FROM gridmap_household h WHERE h.grid_id = g.id) AS households,
               count(*) FILTER (WHERE a.role = %(leader)s) AS leaders,
               min(m.name) FILTER (WHERE a.role = %(leader)s) AS leader,
               count(*) FILTER (WHERE a.role = %(fulltime)s) AS fulltime,
               count(*) FILTER (WHERE a.role = %(parttime)s) AS parttime,
               count(*) FILTER (WHERE a.role IN (%(building)s, %(volunteer)s)) AS volunteers
          FROM gridmap_grid g
          LEFT JOIN gridmap_gridassignment a ON a.grid_id = g.id AND a.end_date IS NULL
          LEFT JOIN gridmap_member m ON m.id = a.member_id
         WHERE g.id IN ({ids}) AND g.status = %(published)s
         GROUP BY g.id) s
     ORDER BY s.code) f
"""


def staffing_layer(grids: QuerySet) -> str:
    """GeoJSON of the published grids in ``grids`` (a policy queryset) with staffing status."""
    ids_sql, names = named_ids(grids, "p")
    params = {
        "per_fulltime": settings.HOUSEHOLDS_PER_FULLTIME_MAX,
        "band_min": settings.GRID_HOUSEHOLDS_MIN,
        "band_max": settings.GRID_HOUSEHOLDS_MAX,
        "published": GridStatus.PUBLISHED,
        **names,
        **{role.name.lower(): role.value for role in AssignmentRole},
    }
    with connection.cursor() as cursor:
        cursor.execute(_STAFFING.format(ids=ids_sql), params)
        return cursor.fetchone()[0]
