"""The demo street, as loaded into PostGIS: the invariants docs/domain.md asks of real data."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Q

from gridmap.models import (
    AssignmentRole,
    CentralHousehold,
    Community,
    Grid,
    GridAssignment,
    HelpPair,
    Household,
    ServiceStation,
)


def scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_demo_street_has_the_counts_of_the_real_town(db):
    assert Community.objects.count() == 5
    assert Grid.objects.published().count() == 44
    assert 14_000 <= Household.objects.count() <= 16_000
    assert CentralHousehold.objects.count() >= 500
    assert ServiceStation.objects.count() == 12
    assert HelpPair.objects.count() == 90
    active = GridAssignment.objects.active()
    assert active.filter(role=AssignmentRole.FULLTIME).count() == 56
    assert active.filter(role=AssignmentRole.VOLUNTEER).count() == 1380
    assert Grid.objects.exclude(assignments__role=AssignmentRole.LEADER).count() == 3


def test_every_household_lies_in_exactly_one_grid(db):
    assert not Household.objects.filter(Q(grid__isnull=True) | Q(community__isnull=True)).exists()
    # Recount from geometry rather than trusting grid_id: each point is covered by exactly one grid.
    covering = scalar("""
        SELECT count(*) FROM (
            SELECT h.id FROM gridmap_household h JOIN gridmap_grid g ON ST_Covers(g.boundary, h.location)
             GROUP BY h.id HAVING count(*) <> 1) bad""")
    assert covering == 0
    mismatched = scalar("""SELECT count(*) FROM gridmap_household h JOIN gridmap_grid g ON g.id = h.grid_id
                            WHERE NOT ST_Covers(g.boundary, h.location)""")
    assert mismatched == 0


def test_grids_tile_their_communities_without_gaps_or_overlaps_above_one_square_metre(db):
    gaps = scalar("""
        SELECT coalesce(max(ST_Area(ST_Difference(c.boundary, u.union_geom)::geography)), 0)
          FROM gridmap_community c
          JOIN LATERAL (SELECT ST_Union(g.boundary) AS union_geom FROM gridmap_grid g
                         WHERE g.community_id = c.id AND g.status = 'published') u ON TRUE""")
    outside = scalar("""
        SELECT coalesce(max(ST_Area(ST_Difference(g.boundary, c.boundary)::geography)), 0)
          FROM gridmap_grid g JOIN gridmap_community c ON c.id = g.community_id""")
    overlaps = scalar("""
        SELECT coalesce(max(ST_Area(ST_Intersection(a.boundary, b.boundary)::geography)), 0)
          FROM gridmap_grid a JOIN gridmap_grid b ON a.id < b.id AND ST_Intersects(a.boundary, b.boundary)""")
    assert gaps <= 1.0 and outside <= 1.0 and overlaps <= 1.0, (gaps, outside, overlaps)


def test_communities_tile_the_street(db):
    gap = scalar("""SELECT ST_Area(ST_Difference(s.boundary, (SELECT ST_Union(boundary) FROM gridmap_community))
                              ::geography) FROM gridmap_street s""")
    overlap = scalar("""
        SELECT coalesce(max(ST_Area(ST_Intersection(a.boundary, b.boundary)::geography)), 0)
          FROM gridmap_community a JOIN gridmap_community b ON a.id < b.id AND ST_Intersects(a.boundary, b.boundary)""")
    assert gap <= 1.0 and overlap <= 1.0


def test_grid_sizes_are_mostly_within_the_band_with_a_few_warnings(db, settings):
    counts = list(Grid.objects.annotate(n=Count("households")).values_list("n", flat=True))
    inside = [n for n in counts if settings.GRID_HOUSEHOLDS_MIN <= n <= settings.GRID_HOUSEHOLDS_MAX]
    assert len(inside) >= 0.75 * len(counts)
    assert len(inside) < len(counts)  # some grids outside the band, so the warnings show


def test_central_households_link_about_ten_neighbours(db, settings):
    loads = list(CentralHousehold.objects.annotate(n=Count("links")).values_list("n", flat=True))
    in_band = [n for n in loads if settings.CENTRAL_LINKS_MIN <= n <= settings.CENTRAL_LINKS_MAX]
    assert len(in_band) >= 0.9 * len(loads)
    assert 8 <= sum(loads) / len(loads) <= 12
    assert CentralHousehold.objects.filter(household__is_party_member=False).count() == 0


def test_codes_are_text_of_the_right_length_and_nested(db):
    assert (
        scalar("""SELECT count(*) FROM gridmap_grid g JOIN gridmap_community c ON c.id = g.community_id
                      WHERE left(g.code, 12) <> c.code""")
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM gridmap_community c JOIN gridmap_street s ON s.id = c.street_id
                      WHERE left(c.code, 9) <> s.code""")
        == 0
    )


def test_personal_data_looks_real_but_is_synthetic(db):
    sample = Household.objects.order_by("id")[:200]
    assert all(len(h.id_number) == 18 and h.id_number.startswith("152922") for h in sample)
    assert all(len(h.phone) == 11 and h.phone.startswith("1") for h in sample)
    assert scalar("SELECT count(DISTINCT id_number_digest) = count(*) FROM gridmap_household")
