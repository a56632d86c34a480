"""The synthetic city: counts of the demo town, codes, tiling, household placement, personal data."""

from __future__ import annotations

import datetime
import re
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata import synth
from geodata.synth import build_city, demo_street
from geodata.topology import coverage_gaps_overlaps

HOUSEHOLD_COLUMNS = [
    "hid",
    "community_code",
    "grid_code",
    "address",
    "head_name",
    "phone",
    "id_number",
    "residents",
    "resident_type",
    "is_party_member",
    "elderly_alone",
    "disabled",
    "low_income",
    "hardship",
    "military",
    "other_difficulty",
    "geometry",
]
LAYERS = [
    "streets",
    "communities",
    "grids",
    "households",
    "central_links",
    "stations",
    "members",
    "assignments",
    "help_pairs",
]


@pytest.fixture(scope="module")
def demo():
    return demo_street()


@pytest.fixture(scope="module")
def small():
    return build_city(1_000, seed=5)


def links_per_central(city):
    return city.central_links.groupby("central_hid").size()


def test_it_builds_identical_cities_from_the_same_seed():
    first, again, other = build_city(2_000, seed=3), build_city(2_000, seed=3), build_city(2_000, seed=4)

    for layer in LAYERS:
        pd.testing.assert_frame_equal(getattr(first, layer), getattr(again, layer))
    assert not first.households.geometry.geom_equals(other.households.geometry).all()
    assert not first.grids.geometry.geom_equals(other.grids.geometry).all()


def test_the_demo_has_the_towns_five_communities_44_grids_and_15000_households(demo):
    assert demo.streets.code.tolist() == ["152922100"]
    assert demo.streets.name.tolist() == ["巴丹吉林镇"]
    assert len(demo.communities) == 5
    assert len(demo.grids) == 44
    assert len(demo.households) == 15_000
    assert len(demo.stations) == 12


def test_the_demo_has_56_fulltime_workers_1380_volunteers_and_3_grids_without_a_leader(demo):
    roles = demo.assignments.role.value_counts()
    leaders = demo.assignments[demo.assignments.role == "leader"]
    fulltime = demo.assignments[demo.assignments.role == "fulltime"]

    assert roles["fulltime"] == 56
    assert roles["volunteer"] == 1380
    assert roles["parttime"] > 0 and roles["building"] > 0
    assert len(set(demo.grids.code) - set(leaders.grid_code)) == 3
    assert leaders.grid_code.is_unique and leaders.mid.is_unique
    assert len(set(demo.grids.code) - set(fulltime.grid_code)) == 2
    volunteers = demo.members.set_index("mid").loc[demo.assignments.mid[demo.assignments.role == "volunteer"]]
    assert volunteers.is_party_member.all()
    assert (volunteers.employer != "").any() and (volunteers.employer == "").any()


def test_every_member_lives_in_the_community_of_the_grid_they_serve(demo):
    joined = demo.assignments.merge(demo.members, on="mid")

    assert (joined.grid_code.str[:12] == joined.community_code).all()
    assert demo.members.mid.tolist() == list(range(len(demo.members)))
    assert joined.start_date.map(type).eq(datetime.date).all()


def test_the_demo_has_500_central_households_linking_about_ten_households_each(demo):
    hh, links = demo.households, demo.central_links
    per_central = links_per_central(demo)
    same_grid = hh.grid_code.to_numpy()[links.central_hid] == hh.grid_code.to_numpy()[links.linked_hid]

    assert len(per_central) >= 500
    assert hh.is_party_member.to_numpy()[per_central.index].all()
    assert per_central.between(5, 15).mean() >= 0.9
    assert 9 <= per_central.mean() <= 11
    assert same_grid.mean() >= 0.95 and not same_grid.all()
    assert links.linked_hid.is_unique
    assert not links.linked_hid.isin(per_central.index).any()
    assert set(hh.grid_code[per_central.index]) == set(demo.grids.code)


def test_codes_follow_the_statistical_division_format(demo):
    communities, grids, hh = demo.communities, demo.grids, demo.households

    assert communities.code.str.fullmatch(r"152922100\d{3}").all()
    assert communities.code.str[9:].astype(int).tolist() == list(range(1, 6))
    assert (communities.street_code == "152922100").all()
    assert grids.code.str.fullmatch(r"\d{15}").all()
    assert (grids.code.str[:12] == grids.community_code).all()
    for _, seqs in grids.code.str[12:].astype(int).groupby(grids.community_code):
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert grids.name.str.fullmatch(r".+社区第\d+网格").all()
    assert (hh.grid_code.str[:12] == hh.community_code).all()
    assert hh.hid.tolist() == list(range(len(hh)))


def test_grids_are_numbered_by_rows_from_north_to_south_then_west_to_east(demo):
    for _, grids in demo.grids.groupby("community_code"):
        grids = grids.sort_values("code")
        centre = shapely.get_coordinates(shapely.centroid(grids.geometry.values))
        bounds = grids.geometry.bounds
        band = np.median(bounds.maxy - bounds.miny)
        rows = np.floor((centre[:, 1].max() - centre[:, 1]) / band)
        assert (np.diff(rows) >= 0).all(), "a later code lies in a more northern row"
        same_row = np.diff(rows) == 0
        assert (np.diff(centre[:, 0])[same_row] > 0).all(), "codes in a row do not run west to east"
        assert rows[0] == 0


def test_every_household_lies_inside_the_grid_its_grid_code_names(demo):
    hh = demo.households
    grid_of = demo.grids.set_index("code").geometry
    polygons = grid_of.loc[hh.grid_code].values
    xy = shapely.get_coordinates(hh.geometry.values)

    assert shapely.contains_xy(polygons, xy[:, 0], xy[:, 1]).all()
    hits = shapely.STRtree(demo.grids.geometry.values).query(hh.geometry.values, predicate="intersects")
    assert np.bincount(hits[0], minlength=len(hh)).max() == 1
    # no household sits on (or within a metre of) a boundary; measured in CGCS2000 / 3-degree GK CM 102E
    local = gpd.GeoSeries(polygons, crs=4326).to_crs(4543).boundary.values
    assert shapely.distance(hh.geometry.to_crs(4543).values, local).min() > 0.9


@pytest.mark.parametrize("city", ["demo", "small"])
def test_it_tiles_each_community_with_its_grids_without_gaps_or_overlaps(city, request):
    city = request.getfixturevalue(city)
    for code, community in zip(city.communities.code, city.communities.geometry):
        grids = city.grids[city.grids.community_code == code]
        report = coverage_gaps_overlaps(community, grids.geometry.set_axis(grids.code))
        assert report.is_clean, (code, report.gaps, report.overlaps, report.outside)
        assert report.territory_coverage > 0.999_999


def test_communities_tile_the_street(demo):
    report = coverage_gaps_overlaps(demo.streets.geometry[0], demo.communities.geometry)

    assert report.is_clean
    assert report.territory_coverage > 0.999_999


def test_neighbours_share_every_vertex_so_unions_leave_no_slivers(demo):
    for layer in (demo.grids, demo.communities):
        assert shapely.coverage_is_valid(layer.geometry.values)
    assert shapely.coverage_union_all(demo.grids.geometry.values).equals(demo.streets.geometry[0])


def test_streets_tile_the_city_with_distinct_codes_when_there_are_several(monkeypatch):
    monkeypatch.setattr(synth, "_PER_STREET", 1_000)
    city = build_city(3_000, seed=11)
    outline = shapely.union_all(city.streets.geometry.values)

    assert city.streets.code.tolist() == ["152922100", "152922101", "152922102"]
    assert coverage_gaps_overlaps(outline, city.streets.geometry, tolerance_m2=0).is_clean
    assert shapely.coverage_is_valid(city.grids.geometry.values)
    for code, street in zip(city.streets.code, city.streets.geometry):
        mine = city.communities[city.communities.street_code == code]
        assert mine.code.str[9:].astype(int).tolist() == list(range(1, len(mine) + 1))
        assert coverage_gaps_overlaps(street, mine.geometry).is_clean


def test_geometries_are_valid_2d_counter_clockwise_polygons_in_wgs84(demo):
    for layer in (demo.streets, demo.communities, demo.grids):
        geoms = layer.geometry.values
        assert layer.crs.to_epsg() == 4326
        assert (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON).all()
        assert shapely.is_valid(geoms).all() and not shapely.has_z(geoms).any()
        assert shapely.is_ccw(shapely.get_exterior_ring(geoms)).all()
    x0, y0, x1, y1 = demo.streets.total_bounds
    assert 101.6 < x0 < x1 < 101.8 and 39.1 < y0 < y1 < 39.3
    assert 2_000 < (x1 - x0) * 86_000 < 8_000, "the street is several km across"


def test_id_numbers_carry_valid_check_digits_and_are_unique(demo):
    ids = demo.households.id_number

    assert ids.is_unique
    assert ids.str.fullmatch(r"152922(19[4-9]\d|200[0-5])\d{7}[\dX]").all()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number in ids.sample(2_000, random_state=1):
        total = sum(int(d) * w for d, w in zip(number[:17], weights))
        assert number[17] == "10X98765432"[total % 11]
    assert pd.to_datetime(ids.str[6:14], format="%Y%m%d").notna().all()


def test_phones_are_chinese_mobile_numbers(demo):
    phones = pd.concat([demo.households.phone, demo.members.phone])

    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    assert phones.is_unique


def test_households_have_the_agreed_columns_names_and_addresses(demo):
    hh = demo.households

    assert list(hh.columns) == HOUSEHOLD_COLUMNS
    assert hh.residents.between(1, 6).all()
    assert set(hh.resident_type) == {"permanent", "migrant"}
    assert hh.head_name.str.fullmatch(r"[\u4e00-\u9fff]{2,6}").all()
    assert hh.address.str.fullmatch(r"[\u4e00-\u9fff]+[路街]\d+号(\d+栋\d+单元\d{3,4})?").all()
    assert hh.address.str.contains("栋").mean() > 0.5
    assert hh.address.is_unique
    assert (hh.residents[hh.elderly_alone] == 1).all()


def test_about_five_percent_of_households_are_vulnerable(demo):
    hh = demo.households
    vulnerable = hh.elderly_alone | hh.disabled | hh.low_income | hh.hardship

    assert 0.03 < vulnerable.mean() < 0.08
    for tag in ["elderly_alone", "disabled", "low_income", "hardship", "military", "other_difficulty"]:
        assert hh[tag].any(), tag


def test_most_grids_hold_200_to_500_households_and_a_few_do_not(demo):
    counts = demo.households.grid_code.value_counts().reindex(demo.grids.code, fill_value=0)
    in_band = counts.between(200, 500)

    assert in_band.mean() >= 0.85
    assert not in_band.all()


def test_the_demo_has_90_help_pairs_for_households_in_difficulty(demo):
    pairs, hh = demo.help_pairs, demo.households
    needy = hh.loc[pairs.hid]

    assert len(pairs) == 90 and pairs.hid.is_unique
    assert (needy.low_income | needy.hardship | needy.disabled | needy.elderly_alone).all()
    assert str(pairs.mid.dtype) == "Int64"
    by_member = pairs.mid.notna()
    assert by_member.any() and (~by_member).any()
    assert (pairs.unit[by_member] == "").all() and (pairs.unit[~by_member] != "").all()
    assert pairs.mid[by_member].isin(demo.members.mid).all()


def test_stations_have_kinds_radii_services_and_a_community(demo):
    st = demo.stations

    assert st.kind.value_counts().to_dict() == {"convenience": 6, "station": 5, "center": 1}
    assert st.name.is_unique
    assert st.name[st.kind == "center"].tolist() == ["巴丹吉林镇党群服务中心"]
    assert st.name[st.kind == "station"].str.endswith("社区党群服务站").all()
    assert st.radius_m.isin([300, 500, 800, 1000]).all()
    assert (st.radius_m == 500).mean() > 0.5
    assert st.services.str.split("、").map(len).ge(3).all()
    assert st.community_code.isin(demo.communities.code).all()


def test_small_cities_use_the_default_sizes(small):
    assert len(small.households) == 1_000
    assert len(small.grids) == round(1_000 / 300)
    assert len(small.communities) == 1
    assert len(small.stations) == 3
    assert small.streets.code.tolist() == ["152922100"]


def test_it_rejects_sizes_it_cannot_build():
    with pytest.raises(ValueError, match="n_households"):
        build_city(10)
    with pytest.raises(ValueError, match="n_communities"):
        build_city(15_000, n_grids=4, n_communities=5)


def test_a_15000_household_city_builds_in_a_few_seconds():
    started = time.perf_counter()
    build_city(15_000, seed=99)
    assert time.perf_counter() - started < 5


def test_small_cities_still_get_a_service_centre_and_a_community_station(small):
    assert re.fullmatch(r".+镇党群服务中心", small.stations.name[0])
    assert small.stations.kind.tolist()[:2] == ["center", "station"]
