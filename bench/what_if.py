"""What-if recomputation for one moved station (issue #6: ≤ 200 ms at 1M households): the project's
delta query and the full what-if answer, beside a raw-SQL anchor and a full vectorised recomputation."""

from __future__ import annotations

from django.db import connection

from bench.harness import Results, Row, measure

# Anchor (best raw SQL, the plain way): the same question without scoping, cells or the vulnerable split:
# the households within the station's old or new radius (GiST box probe + geodesic test), each decided
# before and after with an EXISTS over the stations' GiST index, counted.
ANCHOR_SQL = """
WITH moved AS (SELECT id, location AS old, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS new,
                      radius_m::float8 AS r_old, %(r)s::float8 AS r_new
                 FROM gridmap_servicestation WHERE id = %(id)s),
near AS MATERIALIZED (
    SELECT DISTINCT h.id, h.location FROM moved m, gridmap_household h
     WHERE h.grid_id IS NOT NULL
       AND ((h.location && ST_Expand(m.old, m.r_old / 80000.0)
             AND _ST_DWithin(m.old::geography, h.location::geography, m.r_old))
         OR (h.location && ST_Expand(m.new, m.r_new / 80000.0)
             AND _ST_DWithin(m.new::geography, h.location::geography, m.r_new)))),
flags AS (
    SELECT EXISTS (SELECT 1 FROM gridmap_servicestation s WHERE s.active AND s.location && ST_Expand(n.location, 0.02)
                     AND _ST_DWithin(s.location::geography, n.location::geography, s.radius_m)) AS before,
           EXISTS (SELECT 1 FROM gridmap_servicestation s, moved m WHERE s.active AND s.id <> m.id
                     AND s.location && ST_Expand(n.location, 0.02)
                     AND _ST_DWithin(s.location::geography, n.location::geography, s.radius_m))
           OR (SELECT _ST_DWithin(m.new::geography, n.location::geography, m.r_new) FROM moved m) AS after
      FROM near n)
SELECT count(*) FILTER (WHERE after AND NOT before), count(*) FILTER (WHERE before AND NOT after) FROM flags
"""


def run(results: Results, admin, *, households: int, repeat: int) -> None:
    import pandas as pd

    from geodata.coverage import stations_cover
    from gridmap import policy
    from gridmap.models import ServiceStation
    from gridmap.planner import scenarios
    from gridmap.queries.coverage import coverage_arrays
    from gridmap.queries.what_if import StationChange, coverage_delta

    grids = policy.grids_for(admin).published()
    hh = coverage_arrays(grids)["households"]
    stations = pd.DataFrame(
        [(s.pk, s.location.x, s.location.y, s.radius_m) for s in ServiceStation.objects.filter(active=True)],
        columns=["id", "lon", "lat", "r"],
    )
    # The station nearest to the uncovered households' median moves there: a move a planner would try.
    # When every household is covered, the first station moves ~350 m north-east instead.
    uncovered = ~stations_cover(hh["lon"], hh["lat"], stations["lon"], stations["lat"], stations["r"])
    if uncovered.any():
        lon, lat = float(hh["lon"][uncovered].median()), float(hh["lat"][uncovered].median())
    else:
        lon, lat = float(stations["lon"].iloc[0]) + 0.004, float(stations["lat"].iloc[0]) + 0.001
    nearest = ((stations["lon"] - lon) ** 2 + (stations["lat"] - lat) ** 2).idxmin()
    station = ServiceStation.objects.get(pk=int(stations.loc[nearest, "id"]))
    change = StationChange(station.pk, lon, lat, 600.0)
    params = {"id": station.pk, "lon": lon, "lat": lat, "r": 600.0}

    def anchor():
        with connection.cursor() as cursor:
            cursor.execute(ANCHOR_SQL, params)
            return cursor.fetchone()

    def vectorised():
        before = stations_cover(hh["lon"], hh["lat"], stations["lon"], stations["lat"], stations["r"])
        moved = stations.copy()
        moved.loc[moved["id"] == station.pk, ["lon", "lat", "r"]] = [lon, lat, 600.0]
        after = stations_cover(hh["lon"], hh["lat"], moved["lon"], moved["lat"], moved["r"])
        return int((after & ~before).sum()), int((before & ~after).sum())

    answer = scenarios.what_if(grids, [change], planner=False)
    expected = vectorised()
    if (answer["gained"], answer["lost"]) != expected or tuple(anchor()) != expected:
        raise AssertionError(
            f"what-if disagrees: project {answer['gained'], answer['lost']}, anchor {anchor()}, vectorised {expected}"
        )
    work = "what-if: one station moved (to the uncovered households if any), radius 600 m (before/after, newly covered)"
    a_sql = "anchor: raw SQL delta (GiST probes around old and new radius)"
    note = f"{expected[0]:,} households gain, {expected[1]:,} lose coverage"
    results.add(Row(work, a_sql, "anchor", households, *measure(anchor, repeat=repeat), None, None, note=note))
    results.add(
        Row(
            work,
            "project: queries.what_if.coverage_delta (per grid and cell)",
            "project",
            households,
            *measure(lambda: coverage_delta(grids, [change]), repeat=repeat),
            a_sql,
            None,
        )
    )
    results.add(
        Row(
            work,
            "project: scenarios.what_if (delta + before figures of the touched grids)",
            "project",
            households,
            *measure(lambda: scenarios.what_if(grids, [change], planner=False), repeat=repeat),
            a_sql,
            None,
            note=f"{len(answer['grids'])} grids touched",
        )
    )
    results.add(
        Row(
            work,
            "anchor: numpy/scipy full recomputation, arrays in memory (stations_cover twice)",
            "anchor",
            households,
            *measure(vectorised, repeat=repeat),
            None,
            None,
            note="same counts, checked equal",
        )
    )
