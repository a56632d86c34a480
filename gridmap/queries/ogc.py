"""Item pages of the OGC API – Features collections (streets, communities, grids, service stations).

Why SQL: a GIS client reads a whole collection in pages of up to 10,000 features; PostGIS builds each
page's GeoJSON features (``ST_AsGeoJSON``) as it does for the map layers (queries/layers.py), instead of
a per-feature serializer. The scope is a queryset from ``gridmap.policy`` embedded as a sub-select, so a
page never holds a row the user may not see. Pages are ``ORDER BY <key>, id LIMIT/OFFSET``: the
collections are small (thousands of grids at most), so offset paging is cheap and stable.

Only non-personal collections exist here: no household, member or assignment ever appears.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Source:
    table: str
    geometry: str
    order: str
    properties: str  # a json_build_object(...) over alias t


SOURCES = {
    "streets": Source("gridmap_street", "boundary", "t.code", "json_build_object('code', t.code, 'name', t.name)"),
    "communities": Source(
        "gridmap_community",
        "boundary",
        "t.code",
        "json_build_object('code', t.code, 'name', t.name, 'kind', t.kind, 'street_id', t.street_id)",
    ),
    # Published grids only: GIS clients get the official map; drafts live in the grid editor.
    "grids": Source(
        "gridmap_grid",
        "boundary",
        "t.code",
        "json_build_object('code', t.code, 'name', t.name, 'status', t.status,"
        " 'version', t.version, 'community_id', t.community_id)",
    ),
    "stations": Source(
        "gridmap_servicestation",
        "location",
        "t.name",
        "json_build_object('name', t.name, 'kind', t.kind, 'radius_m', t.radius_m,"
        " 'opening_hours', t.opening_hours, 'services', t.services, 'active', t.active,"
        " 'community_id', t.community_id)",
    ),
}


def _scope(source: Source, queryset: QuerySet, bbox: Bbox | None, fid: int | None) -> tuple[str, list]:
    ids_sql, params = queryset.order_by().values("id").query.sql_with_params()
    where = f"t.id IN ({ids_sql})"
    params = list(params)
    if bbox is not None:
        # ST_Intersects, not a bare &&: the index box is single precision (see queries/layers.py).
        where += f" AND ST_Intersects(t.{source.geometry}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
        params += list(bbox)
    if fid is not None:
        where += " AND t.id = %s"
        params.append(fid)
    return where, params


def items(
    name: str, queryset: QuerySet, *, bbox: Bbox | None = None, limit: int = 10, offset: int = 0, fid: int | None = None
) -> tuple[list[dict], int]:
    """One page of features of collection ``name`` within ``queryset`` and the number matched.

    ``fid`` selects one feature (the single-item endpoint). Features are dicts (the caller adds links
    and, for grids, coverage metrics); geometry has 6 decimals (~10 cm, RFC 7946 advice).
    """
    source = SOURCES[name]
    where, params = _scope(source, queryset, bbox, fid)
    sql = f"""
    SELECT (SELECT count(*) FROM {source.table} t WHERE {where}),
           (SELECT coalesce(json_agg(f.feature ORDER BY f.k, f.id), '[]'::json)::text FROM (
               SELECT t.id, {source.order} AS k, json_build_object(
                   'type', 'Feature', 'id', t.id,
                   'geometry', ST_AsGeoJSON(t.{source.geometry}, 6)::json,
                   'properties', {source.properties}) AS feature
                 FROM {source.table} t WHERE {where}
                ORDER BY {source.order}, t.id LIMIT %s OFFSET %s) f)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params, limit, offset])
        matched, features = cursor.fetchone()
    return json.loads(features), matched


def extent(name: str, queryset: QuerySet) -> list[float] | None:
    """The collection's bounding box ``[minlon, minlat, maxlon, maxlat]`` within scope, or None if empty."""
    source = SOURCES[name]
    where, params = _scope(source, queryset, None, None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            f" (SELECT ST_Extent(t.{source.geometry}) AS e FROM {source.table} t WHERE {where}) x",
            params,
        )
        row = cursor.fetchone()
    return None if row[0] is None else [round(v, 6) for v in row]
