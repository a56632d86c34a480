"""GeoJSON household layers as a street admin sees them: one ~500-household grid and a ~5,000-household
viewport, through the HTTP endpoint (Django's test Client, session login) and the query function,
against one hand-written SQL statement that builds the same FeatureCollection."""

from __future__ import annotations

import json

import numpy as np
from django.db import connection
from django.test import Client

from bench.harness import Results, Row, measure

# Anchor: the FeatureCollection of ``where`` built in one statement, string_agg over ST_AsGeoJSON(record)
# (PostGIS turns the other columns into properties), the same properties as queries/layers.py
# households_layer, the scope written as plain predicates instead of the policy's sub-select.
ANCHOR_SQL = """
SELECT '{{"type":"FeatureCollection","features":[' || coalesce(string_agg(ST_AsGeoJSON(t.*, 'location', 6), ','), '')
       || ']}}'
  FROM (SELECT h.id, h.location, h.address,
               left(h.head_name, 1) || repeat('*', greatest(char_length(h.head_name) - 1, 1)) AS head_name,
               h.grid_id, h.residents, ch.id IS NOT NULL AS central, ch.id IS NOT NULL OR l.id IS NOT NULL AS linked,
               h.elderly_alone OR h.disabled OR h.low_income OR h.hardship AS vulnerable
          FROM gridmap_household h
          LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
          LEFT JOIN gridmap_centrallink l ON l.household_id = h.id
         WHERE {where}) t
"""
_IN_STREET = "h.community_id IN (SELECT id FROM gridmap_community WHERE street_id = %s)"
_IN_BBOX = "ST_Intersects(h.location, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"


def _anchor(where: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(ANCHOR_SQL.format(where=where), params)
        return cursor.fetchone()[0]


def _features(text: str | bytes) -> int:
    return len(json.loads(text)["features"])


def _pick_grid() -> tuple[int, int, int, tuple]:
    """The city's grid whose household count is nearest 500: its id, street, count and extent."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT g.id, c.street_id, count(*) AS n, ST_XMin(g.boundary), ST_YMin(g.boundary), ST_XMax(g.boundary),
                   ST_YMax(g.boundary)
              FROM gridmap_grid g JOIN gridmap_household h ON h.grid_id = g.id
              JOIN gridmap_community c ON c.id = g.community_id
             GROUP BY g.id, c.street_id ORDER BY abs(count(*) - 500), g.id LIMIT 1""")
        grid_id, street_id, n, *bbox = cursor.fetchone()
    return grid_id, street_id, n, tuple(bbox)


def _pick_viewport(street_id: int, target: int = 5_000) -> tuple[float, float, float, float]:
    """A square (in metres) around the street's median household holding ``target`` of its households."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(h.location), ST_Y(h.location) FROM gridmap_household h WHERE " + _IN_STREET, [street_id]
        )
        xy = np.array(cursor.fetchall())
    lon0, lat0 = np.median(xy, axis=0)
    scale = np.cos(np.radians(lat0))
    reach = np.maximum(np.abs(xy[:, 0] - lon0) * scale, np.abs(xy[:, 1] - lat0))
    half = np.sort(reach)[min(target, len(reach)) - 1] * (1 + 1e-9)
    return (float(lon0 - half / scale), float(lat0 - half), float(lon0 + half / scale), float(lat0 + half))


def run(results: Results, admin, *, repeat: int) -> None:
    from gridmap import policy
    from gridmap.queries.layers import households_layer

    grid_id, street_id, n_grid, extent = _pick_grid()
    admin.profile.street_id = street_id  # the bench's street admin works in that grid's street
    admin.profile.save(update_fields=["street"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    url = "/api/layers/households.geojson"

    grid_bbox = ",".join(f"{v:.7f}" for v in extent)
    work = f"GeoJSON, one grid of {n_grid} households"
    scoped = policy.households_for(admin)
    query = lambda: households_layer(scoped.filter(grid_id=grid_id))  # noqa: E731
    anchor_grid = lambda: _anchor("h.grid_id = %s", [grid_id])  # noqa: E731
    http = lambda: client.get(url, {"bbox": grid_bbox})  # noqa: E731
    extent_params = [street_id, *(float(v) for v in grid_bbox.split(","))]
    anchor_extent = lambda: _anchor(f"{_IN_STREET} AND {_IN_BBOX}", extent_params)  # noqa: E731
    assert _features(query()) == _features(anchor_grid()) == n_grid
    n_extent = _features(http().content)
    assert n_extent == _features(anchor_extent())
    a_grid = "anchor: SQL string_agg(ST_AsGeoJSON), grid_id = g"
    a_extent = "anchor: SQL string_agg(ST_AsGeoJSON), street ∩ bbox"
    _add(results, work, a_grid, "anchor", anchor_grid, n_grid, repeat)
    _add(
        results,
        work,
        "project: queries.layers.households_layer(policy scope ∩ grid)",
        "project",
        query,
        n_grid,
        repeat,
        anchor=a_grid,
    )
    _add(
        results,
        work,
        a_extent,
        "anchor",
        anchor_extent,
        n_extent,
        repeat,
        note=f"{n_extent} households in the grid's bounding box",
    )
    _add(
        results,
        work,
        "project: GET /api/layers/households.geojson?bbox=grid extent",
        "project",
        http,
        n_extent,
        repeat,
        anchor=a_extent,
        note=f"{n_extent} features; session login, policy, view, response",
    )
    _add(
        results,
        work,
        "naive: ORM loop, a dict per household, json.dumps",
        "naive",
        lambda: _naive_layer(scoped.filter(grid_id=grid_id)),
        n_grid,
        repeat,
        anchor=a_grid,
        note="2 queries per household (central, link)",
    )

    viewport = _pick_viewport(street_id)
    bbox = ",".join(f"{v:.7f}" for v in viewport)
    view_params = [street_id, *(float(v) for v in bbox.split(","))]
    anchor_view = lambda: _anchor(f"{_IN_STREET} AND {_IN_BBOX}", view_params)  # noqa: E731
    n_view = _features(anchor_view())
    work = f"GeoJSON, viewport of {n_view:,} households"
    view_query = lambda: households_layer(scoped, tuple(float(v) for v in bbox.split(",")))  # noqa: E731
    view_http = lambda: client.get(url, {"bbox": bbox})  # noqa: E731
    assert _features(view_query()) == _features(view_http().content) == n_view
    a_view = "anchor: SQL string_agg(ST_AsGeoJSON), street ∩ bbox"
    _add(results, work, a_view, "anchor", anchor_view, n_view, repeat)
    _add(
        results,
        work,
        "project: queries.layers.households_layer(policy scope, bbox)",
        "project",
        view_query,
        n_view,
        repeat,
        anchor=a_view,
    )
    _add(
        results,
        work,
        "project: GET /api/layers/households.geojson?bbox=…",
        "project",
        view_http,
        n_view,
        repeat,
        anchor=a_view,
        note="session login, policy, view, response",
    )


def _naive_layer(households) -> str:
    """What a first version would do: iterate model instances, ask for each one's relations."""
    features = []
    for h in households:
        central = hasattr(h, "central") and h.central.active
        linked = central or hasattr(h, "central_link")
        features.append(
            {
                "type": "Feature",
                "id": h.id,
                "geometry": {"type": "Point", "coordinates": [round(h.location.x, 6), round(h.location.y, 6)]},
                "properties": {
                    "address": h.address,
                    "head_name": h.head_name[:1] + "*" * max(len(h.head_name) - 1, 1),
                    "grid_id": h.grid_id,
                    "residents": h.residents,
                    "central": central,
                    "linked": linked,
                    "vulnerable": h.elderly_alone or h.disabled or h.low_income or h.hardship,
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _add(results, workload, approach, kind, fn, items, repeat, *, anchor=None, note="") -> None:
    samples, peak = measure(fn, repeat=repeat)
    results.add(Row(workload, approach, kind, items, samples, peak, anchor, 2, note))
