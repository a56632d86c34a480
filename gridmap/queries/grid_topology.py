"""Topology of the grids of a community or a street: coverage, gaps, overlaps, slivers, households in gaps,
and the editor's grid layer. Geometry work is geodata.topology (shapely, geodesic m²); SQL only reads.

"Working" grids are the grids as they will be after publishing: published and draft grids with their
pending ``draft_boundary`` if any, without retired grids and grids marked ``retire_on_publish``. The publish
check and the editor both judge that state; the street map keeps showing the published one.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import shapely
from django.db import connection
from django.db.models import QuerySet
from pyproj import Geod

from geodata.topology import coverage_gaps_overlaps
from gridmap.models import Community, Grid, GridStatus, Street
from gridmap.rules.sql import literal

RETIRED = literal(GridStatus.RETIRED)

SLIVER_WIDTH_M = 5.0  # a gap narrower than this on average is a drawing slip, not a territory
SLIVER_AREA_M2 = 100.0  # ... and so is any gap smaller than a room
MAX_LISTED_HOUSEHOLDS = 1000
_GEOD = Geod(ellps="WGS84")


def working_grids(communities: QuerySet[Community]) -> dict[int, list[tuple[int, str, shapely.Geometry]]]:
    """community id → [(grid id, code, working shape)], one query for all communities."""
    rows = (
        Grid.objects.filter(community__in=communities)
        .exclude(status=GridStatus.RETIRED)
        .exclude(retire_on_publish=True)
        .order_by("code")
        .values_list("community_id", "pk", "code", "boundary", "draft_boundary")
    )
    out: dict[int, list] = defaultdict(list)
    for community_id, pk, code, live, draft in rows:
        out[community_id].append((pk, code, shapely.from_wkb(bytes((draft or live).wkb))))
    return out


def is_sliver(geom: shapely.Geometry, area_m2: float) -> bool:
    if area_m2 <= SLIVER_AREA_M2:
        return True
    perimeter = abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[1])
    return bool(perimeter > 0 and 2 * area_m2 / perimeter < SLIVER_WIDTH_M)


def community_report(
    community: Community, grids: list[tuple[int, str, shapely.Geometry]] | None = None, *, households: bool = True
) -> dict:
    """Coverage of one community by its working grids, JSON-ready (geometries as GeoJSON dicts)."""
    if grids is None:
        grids = working_grids(Community.objects.filter(pk=community.pk)).get(community.pk, [])
    parent = shapely.from_wkb(bytes(community.boundary.wkb))
    codes = {pk: code for pk, code, _ in grids}
    report = coverage_gaps_overlaps(parent, [g for _, _, g in grids], ids=[pk for pk, _, _ in grids])
    gaps = [
        {
            "area_m2": round(area, 1),
            "sliver": bool(is_sliver(geom, area)),
            "geometry": _json(geom),
            "label": list(geom.representative_point().coords[0]),
        }
        for geom, area in report.gaps
    ]
    out = {
        "community": {"id": community.pk, "code": community.code, "name": community.name},
        "area_m2": round(report.parent_area_m2, 1),
        "coverage_pct": round(100 * report.territory_coverage, 3),
        "grids": len(grids),
        "gaps": gaps,
        "overlaps": [
            {"grids": [codes[a], codes[b]], "area_m2": round(area, 1), "geometry": _json(geom)}
            for a, b, geom, area in report.overlaps
        ],
        "outside": [
            {"grid": codes[pk], "area_m2": round(area, 1), "geometry": _json(geom)} for pk, geom, area in report.outside
        ],
        "clean": bool(report.is_clean),
    }
    out["slivers"] = sum(1 for g in gaps if g["sliver"])
    if households:
        out["gap_households"] = households_in([geom for geom, _ in report.gaps], community_ids=[community.pk])
    return out


def street_report(street: Street, communities: QuerySet[Community]) -> dict:
    """The street's communities tiling the street, and every community's own report (one grid query)."""
    communities = list(communities.filter(street=street).order_by("code"))
    grids = working_grids(Community.objects.filter(pk__in=[c.pk for c in communities]))
    per_community = [community_report(c, grids.get(c.pk, []), households=False) for c in communities]
    tiling = coverage_gaps_overlaps(
        shapely.from_wkb(bytes(street.boundary.wkb)),
        [shapely.from_wkb(bytes(c.boundary.wkb)) for c in communities],
        ids=[c.code for c in communities],
    )
    gap_geoms = [shapely.from_geojson(json.dumps(g["geometry"])) for c in per_community for g in c["gaps"]]
    total = sum(c["area_m2"] for c in per_community) or 1.0
    covered = sum(c["area_m2"] * c["coverage_pct"] / 100 for c in per_community)
    return {
        "street": {"id": street.pk, "code": street.code, "name": street.name},
        "coverage_pct": round(100 * covered / total, 3),
        "community_coverage_pct": round(100 * tiling.territory_coverage, 3),
        "community_gaps": [{"area_m2": round(a, 1), "geometry": _json(g)} for g, a in tiling.gaps],
        "community_overlaps": [
            {"communities": [a, b], "area_m2": round(ar, 1), "geometry": _json(g)} for a, b, g, ar in tiling.overlaps
        ],
        "communities": per_community,
        "gap_households": households_in(gap_geoms, community_ids=[c.pk for c in communities]),
        "clean": bool(tiling.is_clean) and all(c["clean"] for c in per_community),
    }


def households_in(areas: list[shapely.Geometry], *, community_ids: list[int]) -> dict:
    """Households of ``community_ids`` lying in ``areas`` (gaps): count and the first rows, names masked.

    One statement over the union of the areas; the GiST index on location does the work. ST_Contains, not
    ST_Intersects: a household on a gap's edge lies on a grid's edge too, and that grid covers it.
    """
    if not areas:
        return {"count": 0, "rows": []}
    union = shapely.to_wkb(shapely.union_all(areas))
    sql = """
        SELECT h.id, h.address, gridmap_masked_name(h.head_name),
               ST_X(h.location), ST_Y(h.location), count(*) OVER ()
          FROM gridmap_household h
         WHERE h.community_id = ANY(%s) AND ST_Contains(ST_GeomFromWKB(%s, 4326), h.location)
         ORDER BY h.id LIMIT %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [community_ids, memoryview(union), MAX_LISTED_HOUSEHOLDS])
        rows = cursor.fetchall()
    return {
        "count": rows[0][5] if rows else 0,
        "rows": [{"id": r[0], "address": r[1], "head_name": r[2], "lon": r[3], "lat": r[4]} for r in rows],
    }


def longest_shared_edge(gap: shapely.Geometry, grids: list[tuple[int, str, shapely.Geometry]]) -> int | None:
    """The grid sharing the longest edge with ``gap`` (planar length: the candidates are metres apart)."""
    if not grids:
        return None
    shapes = np.array([g for _, _, g in grids], dtype=object)
    lengths = shapely.length(shapely.intersection(shapely.boundary(shapes), gap.boundary.buffer(1e-7)))
    best = int(np.argmax(lengths))
    return grids[best][0] if lengths[best] > 0 else None


def editor_grids_layer(grids: QuerySet[Grid]) -> str:
    """The editor's grids: working shape, published shape when an edit is pending, status, version and
    the households each working shape holds (counted by PostGIS, one sub-select per grid row)."""
    ids_sql, params = grids.order_by().values("id").query.sql_with_params()
    sql = f"""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', g.id,
        'geometry', ST_AsGeoJSON(gridmap_working_shape(g.boundary, g.draft_boundary), 7)::json,
        'properties', json_build_object(
            'code', g.code, 'name', g.name, 'status', g.status, 'version', g.version,
            'etag', '"' || g.version || '"',  -- the If-Match of a write to this grid (api/etags.py)
            'pending', gridmap_grid_pending(g.status, g.draft_boundary, g.retire_on_publish),
            'retire_on_publish', g.retire_on_publish,
            'published_geometry', CASE WHEN g.draft_boundary IS NOT NULL
                                       THEN ST_AsGeoJSON(g.boundary, 7)::json END,
            'households', (SELECT count(*) FROM gridmap_household h
                            WHERE ST_Intersects(gridmap_working_shape(g.boundary, g.draft_boundary), h.location))
        )) ORDER BY g.code), '[]'::json))::text
      FROM gridmap_grid g
     WHERE g.id IN ({ids_sql}) AND g.status <> {RETIRED}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _json(geom: shapely.Geometry) -> dict | None:
    return None if geom is None or geom.is_empty else json.loads(shapely.to_geojson(geom))
