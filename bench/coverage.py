"""The full coverage report (docs/domain.md "Coverage", every grid of the city) three ways: the project's
query, the best raw SQL we could write, and geodata.coverage on arrays (numpy / scipy cKDTree)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from bench.harness import Results, Row, measure

# Anchor (best raw SQL): the per-grid figures for every grid in one statement, written without the
# project's scoping or settings: stations spread over a 0.0025-degree lattice of cells, a hash
# anti-join of households to the stations of their cell (planar metres decide clear cases, geodesic
# ST_DWithin the ones within eps of the radius), plain joins and counts for the rest. Faster ideas we
# measured and dropped: EXISTS (ST_DWithin geography) per household (a GiST probe each, 15-25 µs), a
# join driven from the stations (5M candidate pairs at 1M households), materialising the households.
BEST_SQL = """
WITH st AS MATERIALIZED (
    SELECT location, radius_m::float8 AS r, ST_X(location) AS x, ST_Y(location) AS y,
           111412.84 * cos(radians(ST_Y(location))) - 93.5 * cos(3 * radians(ST_Y(location))) AS mx,
           111132.954 - 559.822 * cos(2 * radians(ST_Y(location))) AS my, 0.005 + radius_m / 200000.0 AS eps
      FROM gridmap_servicestation WHERE active),
span AS MATERIALIZED (
    SELECT st.*, floor((x - r * (1 + 2 * eps) / mx) / 0.0025)::int8 AS x0, floor((x + r * (1 + 2 * eps) / mx) / 0.0025)::int8 AS x1,
           floor((y - r * (1 + 2 * eps) / my) / 0.0025)::int8 AS y0, floor((y + r * (1 + 2 * eps) / my) / 0.0025)::int8 AS y1
      FROM st),
cells AS MATERIALIZED (
    SELECT (x0 + mod(k, x1 - x0 + 1)) * 1000000 + y0 + k / (x1 - x0 + 1) AS cell, location, r, x, y, mx, my, eps
      FROM span, generate_series(0, (x1 - x0 + 1) * (y1 - y0 + 1) - 1) AS k),
out AS MATERIALIZED (
    SELECT h.id, h.grid_id, h.vulnerable
      FROM (SELECT id, grid_id, location, ST_X(location) AS x, ST_Y(location) AS y,
                   elderly_alone OR disabled OR low_income OR hardship AS vulnerable
              FROM gridmap_household WHERE grid_id IS NOT NULL) h
     WHERE NOT EXISTS (
           SELECT 1 FROM cells c
            WHERE c.cell = floor(h.x / 0.0025)::int8 * 1000000 + floor(h.y / 0.0025)::int8
              AND (((h.x - c.x) * c.mx) ^ 2 + ((h.y - c.y) * c.my) ^ 2 <= (c.r * (1 - c.eps)) ^ 2
                   OR (((h.x - c.x) * c.mx) ^ 2 + ((h.y - c.y) * c.my) ^ 2 <= (c.r * (1 + c.eps)) ^ 2
                       AND _ST_DWithin(c.location::geography, h.location::geography, c.r))))),
out_per_grid AS (
    SELECT grid_id, count(*) AS uncovered,
           count(*) FILTER (WHERE vulnerable
               AND NOT EXISTS (SELECT 1 FROM gridmap_centralhousehold c WHERE c.household_id = o.id AND c.active)
               AND NOT EXISTS (SELECT 1 FROM gridmap_centrallink l JOIN gridmap_centralhousehold c
                                   ON c.id = l.central_id AND c.active WHERE l.household_id = o.id)
               AND NOT EXISTS (SELECT 1 FROM gridmap_helppair p WHERE p.household_id = o.id AND p.end_date IS NULL))
               AS vulnerable_uncovered
      FROM out o GROUP BY grid_id),
links AS (SELECT central_id, count(*) AS n FROM gridmap_centrallink GROUP BY central_id),
per_grid AS (
    SELECT h.grid_id, count(*) AS households,
           count(*) FILTER (WHERE ch.id IS NOT NULL OR lk.household_id IS NOT NULL) AS linked,
           count(*) FILTER (WHERE h.elderly_alone OR h.disabled OR h.low_income OR h.hardship) AS vulnerable,
           count(ch.id) AS central, coalesce(sum(lc.n), 0)::bigint AS central_links,
           count(ch.id) FILTER (WHERE coalesce(lc.n, 0) NOT BETWEEN 5 AND 15) AS central_off_band
      FROM gridmap_household h
      LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
      LEFT JOIN links lc ON lc.central_id = ch.id
      LEFT JOIN (SELECT l.household_id FROM gridmap_centrallink l
                   JOIN gridmap_centralhousehold c ON c.id = l.central_id AND c.active) lk ON lk.household_id = h.id
     WHERE h.grid_id IS NOT NULL
     GROUP BY h.grid_id),
staff AS (
    SELECT grid_id, count(*) FILTER (WHERE role = 'leader') AS leaders, count(*) FILTER (WHERE role = 'fulltime') AS fulltime
      FROM gridmap_gridassignment WHERE end_date IS NULL GROUP BY grid_id)
SELECT g.id, g.code, coalesce(p.households, 0), coalesce(p.households, 0) - coalesce(o.uncovered, 0),
       coalesce(p.linked, 0), coalesce(p.central, 0), coalesce(p.central_links, 0), coalesce(p.central_off_band, 0),
       coalesce(s.leaders, 0), coalesce(s.fulltime, 0), coalesce(p.vulnerable, 0), coalesce(o.vulnerable_uncovered, 0)
  FROM gridmap_grid g
  LEFT JOIN per_grid p ON p.grid_id = g.id
  LEFT JOIN out_per_grid o ON o.grid_id = g.id
  LEFT JOIN staff s ON s.grid_id = g.id
 ORDER BY g.code
"""

# Anchor (textbook SQL): what one writes first: an EXISTS (ST_DWithin on geography) per household,
# found through a GiST index on the stations' geography (created for this row, dropped after), inside a
# sub-select kept whole by OFFSET 0 so the EXISTS runs once per household. Run at small and medium
# only: at 1M households it takes 15-25 s a run.
TEXTBOOK_SQL = """
SELECT f.grid_id, count(*), count(*) FILTER (WHERE f.covered), count(*) FILTER (WHERE f.linked),
       count(*) FILTER (WHERE f.vulnerable AND NOT f.linked AND NOT f.helped AND NOT f.covered)
  FROM (SELECT h.grid_id,
               EXISTS (SELECT 1 FROM gridmap_servicestation s
                        WHERE s.active
                          AND ST_DWithin(s.location::geography, h.location::geography,
                                         (SELECT max(radius_m) FROM gridmap_servicestation WHERE active))
                          AND ST_DWithin(s.location::geography, h.location::geography, s.radius_m)) AS covered,
               EXISTS (SELECT 1 FROM gridmap_centralhousehold c WHERE c.household_id = h.id AND c.active)
               OR EXISTS (SELECT 1 FROM gridmap_centrallink l JOIN gridmap_centralhousehold c
                            ON c.id = l.central_id AND c.active WHERE l.household_id = h.id) AS linked,
               h.elderly_alone OR h.disabled OR h.low_income OR h.hardship AS vulnerable,
               EXISTS (SELECT 1 FROM gridmap_helppair p WHERE p.household_id = h.id AND p.end_date IS NULL) AS helped
          FROM gridmap_household h WHERE h.grid_id IS NOT NULL OFFSET 0) f
 GROUP BY f.grid_id
"""


def _sql(statement: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall()


def run(results: Results, admin, *, households: int, repeat: int, textbook: bool, naive_grids: int) -> None:
    from geodata.coverage import grid_coverage as vectorised
    from gridmap import policy
    from gridmap.queries.coverage import coverage_arrays, grid_coverage

    grids = policy.grids_for(admin)
    work = "coverage report, every grid (docs/domain.md metrics)"
    bands = {
        "size_band": (settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX),
        "load_band": (settings.CENTRAL_LINKS_MIN, settings.CENTRAL_LINKS_MAX),
    }
    arrays = coverage_arrays(grids)

    project = pd.DataFrame(grid_coverage(grids))
    ours = vectorised(arrays["grids"], arrays["households"], arrays["stations"], **bands)
    best = pd.DataFrame(
        _sql(BEST_SQL),
        columns=[
            "grid_id",
            "code",
            "households",
            "covered",
            "linked",
            "central",
            "central_links",
            "central_off_band",
            "leaders",
            "fulltime",
            "vulnerable",
            "vulnerable_uncovered",
        ],
    )
    for column in best.columns[2:]:
        if not (np.array_equal(project[column], best[column]) and np.array_equal(project[column], ours[column])):
            raise AssertionError(f"coverage figures disagree on {column}")
    covered = int(project["covered"].sum())

    a_best = "anchor: best raw SQL (cell lattice hash anti-join)"
    results.add(
        Row(
            work,
            a_best,
            "anchor",
            households,
            *measure(lambda: _sql(BEST_SQL), repeat=repeat),
            None,
            2,
            note=f"{covered:,} of {households:,} households covered",
        )
    )
    results.add(
        Row(
            work,
            "project: queries.coverage.grid_coverage(policy.grids_for(admin))",
            "project",
            households,
            *measure(lambda: grid_coverage(grids), repeat=repeat),
            a_best,
            2,
        )
    )
    if textbook:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX bench_station_geography ON gridmap_servicestation "
                "USING gist ((location::geography)); ANALYZE gridmap_servicestation"
            )
        try:
            results.add(
                Row(
                    work,
                    "anchor: textbook SQL, EXISTS(ST_DWithin geography) per household",
                    "anchor",
                    households,
                    *measure(lambda: _sql(TEXTBOOK_SQL), repeat=repeat),
                    None,
                    2,
                    note="households, covered, linked, vulnerable uncovered only",
                )
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX bench_station_geography")
    else:
        results.add(
            Row(
                work,
                "anchor: textbook SQL, EXISTS(ST_DWithin geography) per household",
                "missing",
                note="not run at this size (15-25 s a run at 1M; see medium)",
            )
        )
    results.add(
        Row(
            work,
            "anchor: numpy/scipy geodata.coverage.grid_coverage (arrays in memory)",
            "anchor",
            households,
            *measure(
                lambda: vectorised(arrays["grids"], arrays["households"], arrays["stations"], **bands), repeat=repeat
            ),
            None,
            None,
            note="same figures, checked equal",
        )
    )
    results.add(
        Row(
            work,
            "anchor: numpy/scipy incl. reading the arrays (COPY → pandas)",
            "anchor",
            households,
            *measure(lambda: vectorised(**coverage_arrays(grids), **bands), repeat=repeat),
            None,
            2,
        )
    )
    sample = list(grids.order_by("code")[:naive_grids])
    results.add(
        Row(
            work,
            "naive: ORM queries per grid and per household",
            "naive",
            households,
            *measure(lambda: [_naive_grid(g) for g in sample], repeat=repeat),
            a_best,
            2,
            note="~10 queries per grid plus 3 per vulnerable household",
            extrapolated={"sample": len(sample), "to": grids.count()},
        )
    )


def _naive_grid(grid) -> dict:
    """One grid's figures the way a first version computes them: a query per figure, a loop per household."""
    from django.db.models import Q

    from gridmap.models import AssignmentRole, GridAssignment, HelpPair, Household, ServiceStation

    households = Household.objects.filter(grid=grid)
    stations = ServiceStation.objects.filter(active=True)
    linked_q = Q(central__active=True) | Q(central_link__central__active=True)
    out = {
        "households": households.count(),
        "covered": households.within_radius_of(stations).count(),
        "linked": households.filter(linked_q).distinct().count(),
    }
    centrals = [h.central for h in households.filter(central__active=True).select_related("central")]
    loads = [c.links.count() for c in centrals]
    out.update(central=len(centrals), central_links=sum(loads))
    active = GridAssignment.objects.active().filter(grid=grid)
    out.update(
        leaders=active.filter(role=AssignmentRole.LEADER).count(),
        fulltime=active.filter(role=AssignmentRole.FULLTIME).count(),
    )
    uncovered = 0
    for h in households.vulnerable():
        linked = Household.objects.filter(pk=h.pk).filter(linked_q).exists()
        helped = HelpPair.objects.filter(household=h, end_date__isnull=True).exists()
        covered = Household.objects.filter(pk=h.pk).within_radius_of(stations).exists()
        uncovered += not (linked or helped or covered)
    out["vulnerable_uncovered"] = uncovered
    return out
