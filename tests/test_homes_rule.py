"""The home rule in memory (geodata.homes, used by the bulk import) gives what the SQL rule
(rehoming.homes_sql) gives: on every demo household, and on points placed exactly on grid edges and
corners, where "covers" and "lowest code wins" decide."""

from __future__ import annotations

import numpy as np
from django.db import connection

from geodata.homes import NONE, Points
from gridmap.services.grids.rehoming import home_areas, homes_sql


def _sql_homes(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE rule_points (id integer, location geometry(Point, 4326))")
        cursor.execute(
            "INSERT INTO rule_points SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326)"
            " FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(x, y, i)",
            [lon.tolist(), lat.tolist()],
        )
        cursor.execute(
            f"SELECT coalesce(grid_id, -1), coalesce(community_id, -1) FROM ({homes_sql('rule_points')}) h ORDER BY id"
        )
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
        cursor.execute("DROP TABLE rule_points")
    return rows[:, 0], rows[:, 1]


def _memory_homes(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with connection.cursor() as cursor:
        grids, communities = home_areas(cursor)
    points = Points(lon, lat)
    return points.home(grids), points.home(communities)


def test_every_demo_household_gets_the_home_the_database_gave_it(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location), coalesce(grid_id, -1), coalesce(community_id, -1)"
            " FROM gridmap_household ORDER BY id"
        )
        stored = np.array(cursor.fetchall())
    assert len(stored) >= 10_000 and (stored[:, 2] == NONE).sum() < len(stored)
    grid, community = _memory_homes(stored[:, 0], stored[:, 1])
    assert np.array_equal(grid, stored[:, 2].astype(np.int64))
    assert np.array_equal(community, stored[:, 3].astype(np.int64))


def test_points_on_edges_and_corners_follow_the_lowest_code(db):
    with connection.cursor() as cursor:  # every vertex of every grid, and the middle of every edge
        cursor.execute("""
            SELECT ST_X(p), ST_Y(p), (SELECT count(*) FROM gridmap_grid g WHERE g.status = 'published'
                                       AND ST_Covers(g.boundary, p)) FROM (
              SELECT (ST_DumpPoints(boundary)).geom AS p FROM gridmap_grid
              UNION ALL
              SELECT ST_LineInterpolatePoint(ST_MakeLine(d.geom, lead(d.geom) OVER w), 0.5)
                FROM gridmap_grid g, ST_DumpPoints(ST_Boundary(g.boundary)) d
              WINDOW w AS (PARTITION BY g.id, d.path[1] ORDER BY d.path)) s
             WHERE p IS NOT NULL""")
        points = np.array(cursor.fetchall())
    assert (points[:, 2] >= 2).sum() > 100  # many are shared by two or more grids: the code decides
    lon, lat = points[:, 0], points[:, 1]
    memory_grid, memory_community = _memory_homes(lon, lat)
    sql_grid, sql_community = _sql_homes(lon, lat)
    assert (memory_grid != NONE).sum() == (points[:, 2] >= 1).sum()
    assert np.array_equal(memory_grid, sql_grid)
    assert np.array_equal(memory_community, sql_community)


def test_points_outside_every_area_have_no_home(db):
    lon, lat = np.array([0.0, 179.0]), np.array([0.0, -60.0])
    grid, community = _memory_homes(lon, lat)
    assert grid.tolist() == [NONE, NONE] and community.tolist() == [NONE, NONE]
