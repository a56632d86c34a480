"""The rows of every exportable layer, one statement each, geometries as WKB.

Why SQL: an export of a street admin's households is 10⁵ rows; one statement that joins the codes of
grid and community and hands PostGIS's WKB to shapely avoids building 10⁵ model instances and GEOS
objects. Every function takes the scope queryset from ``gridmap.policy`` and embeds it as a sub-select,
so an export never holds a row the map would not show to the same user. Rows come back in a fixed order
(codes, then ids) so two exports of the same data are the same file. Phones and ID numbers come as
their stored masked form and their sealed bytes (gridmap.storage.sealed_fields): only a full export opens them.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

EXPORT_SQL = {
    "streets": """
        SELECT s.code, s.name, ST_AsBinary(s.boundary) FROM gridmap_street s
         WHERE s.id IN ({ids}) ORDER BY s.code""",
    "communities": """
        SELECT c.code, c.name, st.code, c.kind, ST_AsBinary(c.boundary)
          FROM gridmap_community c JOIN gridmap_street st ON st.id = c.street_id
         WHERE c.id IN ({ids}) ORDER BY c.code""",
    "grids": """
        SELECT g.code, g.name, c.code, g.status, ST_AsBinary(g.boundary)
          FROM gridmap_grid g JOIN gridmap_community c ON c.id = g.community_id
         WHERE g.id IN ({ids}) ORDER BY g.code""",
    "stations": """
        SELECT s.name, s.kind, s.radius_m, s.opening_hours, s.services, c.code, s.active, ST_AsBinary(s.location)
          FROM gridmap_servicestation s LEFT JOIN gridmap_community c ON c.id = s.community_id
         WHERE s.id IN ({ids}) ORDER BY c.code NULLS LAST, s.name, s.id""",
    "households": """
        SELECT h.id, coalesce(h.external_id, ''), h.address, h.head_name, h.phone_masked, h.phone_sealed,
               h.id_number_masked, h.id_number_sealed, h.residents,
               h.resident_type, h.is_party_member, h.elderly_alone, h.disabled, h.low_income, h.hardship,
               h.military, h.other_difficulty, coalesce(g.code, ''), coalesce(c.code, ''), h.source_crs,
               ST_AsBinary(h.location)
          FROM gridmap_household h
          LEFT JOIN gridmap_grid g ON g.id = h.grid_id
          LEFT JOIN gridmap_community c ON c.id = h.community_id
         WHERE h.id IN ({ids}) ORDER BY g.code NULLS LAST, h.id""",
    # Both ends must be in scope, as on the map (queries.layers.links_layer).
    "links": """
        WITH scope AS ({ids})
        SELECT c.id, c.address, h.id, h.address, coalesce(g.code, ''),
               round(ST_Distance(c.location::geography, h.location::geography)::numeric, 1)::float8,
               ST_AsBinary(ST_MakeLine(c.location, h.location))
          FROM gridmap_centrallink l
          JOIN gridmap_centralhousehold ch ON ch.id = l.central_id AND ch.active
          JOIN gridmap_household c ON c.id = ch.household_id
          JOIN gridmap_household h ON h.id = l.household_id
          LEFT JOIN gridmap_grid g ON g.id = c.grid_id
         WHERE c.id IN (SELECT id FROM scope) AND h.id IN (SELECT id FROM scope)
         ORDER BY c.id, h.id""",
    "members": """
        SELECT m.name, m.phone_masked, m.phone_sealed, m.is_party_member, m.employer, coalesce(c.code, ''),
               coalesce((SELECT string_agg(g.code || ':' || a.role, ' ' ORDER BY g.code, a.role)
                           FROM gridmap_gridassignment a JOIN gridmap_grid g ON g.id = a.grid_id
                          WHERE a.member_id = m.id AND a.end_date IS NULL), '')
          FROM gridmap_member m LEFT JOIN gridmap_community c ON c.id = m.community_id
         WHERE m.id IN ({ids}) ORDER BY m.name, m.id""",
}


def layer_rows(layer: str, scope: QuerySet) -> list[tuple]:
    """Rows of ``layer`` within ``scope`` (a policy queryset); the last column is WKB unless members."""
    ids_sql, params = scope.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(EXPORT_SQL[layer].format(ids=ids_sql), params)
        return cursor.fetchall()
