"""Issue #6, "done when": the SQL coverage report and its vectorised twin give identical figures on a
100,000-household synthetic city (geodata.synth.build_city loaded by services.city_loader.load_city), and
the per-community and per-street sums are the per-grid figures added up."""

from __future__ import annotations

import time

import pandas as pd
from django.db import connection

from geodata.synth import build_city
from gridmap.models import Grid
from gridmap.queries.coverage import grid_coverage
from gridmap.queries.coverage_areas import area_coverage
from gridmap.services.layers.city_loader import load_city
from tests.test_coverage import assert_same, frame_of, vectorised_report


def _move_the_demo_street_aside():
    # The synthetic city uses the demo street's codes (152922...); inside this test's transaction the demo
    # rows get a 9... prefix (still valid codes), and the rollback restores them. The city lies elsewhere, so
    # re-homing leaves the demo households where they are.
    with connection.cursor() as cursor:
        for table in ("street", "community", "grid"):
            cursor.execute(f"UPDATE gridmap_{table} SET code = '9' || substr(code, 2) WHERE code LIKE '152922%%'")
        cursor.execute(
            "UPDATE gridmap_household SET external_id = '9' || substr(external_id, 2) WHERE external_id LIKE '152922%%'"
        )


def test_sql_and_vectorised_coverage_agree_on_a_100k_household_city(db):
    started = time.perf_counter()
    _move_the_demo_street_aside()
    counts = load_city(build_city(100_000, n_grids=330, n_stations=160, origin=(104.2, 36.1)))  # away from the demo
    assert counts["household"] >= 100_000
    grids = Grid.objects.filter(code__startswith="152922")
    sql = frame_of(grid_coverage(grids))
    assert len(sql) == 330 and sql["households"].sum() == 100_000
    assert 0 < sql["covered"].sum() < 100_000 and sql["vulnerable_uncovered"].sum() > 0
    assert sql["linked"].sum() > 0 and sql["central_off_band"].sum() >= 0
    assert_same(sql, vectorised_report(grids))

    communities = pd.DataFrame(area_coverage(grids, "community"))
    by_prefix = (
        sql.assign(community=sql["code"].str[:12]).groupby("community")[["households", "covered", "linked"]].sum()
    )
    assert communities.set_index("code")[["households", "covered", "linked"]].equals(by_prefix.rename_axis("code"))
    assert time.perf_counter() - started < 120
