"""The topology report against hand-computed gaps and overlaps on the small street, and the sliver fix."""

from __future__ import annotations

import json
import math

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.test import Client

from gridmap.api import etags
from gridmap.models import Grid, GridStatus, Household, Profile, Role
from gridmap.services.grids.rehoming import rehome_households

A, E2 = 6378137.0, 0.00669437999014  # WGS84


def lonlat_box_area_m2(x0: float, y0: float, x1: float, y1: float) -> float:
    """Exact area of a lon/lat rectangle on the WGS84 ellipsoid (authalic-latitude formula)."""
    e = math.sqrt(E2)

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - E2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e)

    return A * A * (1 - E2) / 2 * math.radians(x1 - x0) * (q(y1) - q(y0))


def mbox(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


@pytest.fixture
def admin(small_street, django_user_model) -> Client:
    user = django_user_model.objects.create_user("jd_topo")
    Profile.objects.create(user=user, role=Role.STREET_ADMIN, street=small_street["street"])
    c = Client()
    c.force_login(user)
    return c


def test_the_report_equals_hand_computed_gaps_overlaps_and_gap_households(small_street, admin):
    east2 = small_street["grids"]["110105001001002"]
    Grid.objects.filter(pk=east2.pk).update(draft_boundary=mbox(116.406, 39.9, 116.41, 39.908))
    west = small_street["communities"]["110105001002"]
    Grid.objects.create(
        code="110105001002002",
        name="重叠草稿",
        community=west,
        status=GridStatus.DRAFT,
        boundary=mbox(116.415, 39.904, 116.42, 39.908),
    )
    gap_home = Household.objects.create(
        location=GEOSGeometry("POINT(116.4055 39.902)", srid=4326), address="缝隙里的一户", head_name="孙八"
    )
    rehome_households()

    east = admin.get(f"/api/communities/{small_street['communities']['110105001001'].pk}/topology").json()
    expected_gap = lonlat_box_area_m2(116.405, 39.9, 116.406, 39.908)
    community_area = lonlat_box_area_m2(116.4, 39.9, 116.41, 39.908)
    assert len(east["gaps"]) == 1 and east["gaps"][0]["area_m2"] == pytest.approx(expected_gap, rel=1e-4)
    assert east["gaps"][0]["sliver"] is False and east["overlaps"] == [] and east["clean"] is False
    assert east["area_m2"] == pytest.approx(community_area, rel=1e-4)
    assert east["coverage_pct"] == pytest.approx(100 * (1 - expected_gap / community_area), abs=1e-3)
    gap_rows = east["gap_households"]["rows"]
    assert [r["address"] for r in gap_rows] == ["缝隙里的一户"] and gap_rows[0]["id"] == gap_home.pk

    west_report = admin.get(f"/api/communities/{west.pk}/topology").json()
    (overlap,) = west_report["overlaps"]
    assert overlap["grids"] == ["110105001002001", "110105001002002"]
    assert overlap["area_m2"] == pytest.approx(lonlat_box_area_m2(116.415, 39.904, 116.42, 39.908), rel=1e-4)
    assert west_report["gaps"] == []

    street = admin.get(f"/api/streets/{small_street['street'].pk}/topology").json()
    assert street["community_coverage_pct"] == 100.0 and street["community_gaps"] == []
    assert [c["community"]["code"] for c in street["communities"]] == ["110105001001", "110105001002"]
    assert street["gap_households"]["count"] == 1 and street["clean"] is False


def test_the_one_click_fix_gives_a_sliver_to_the_neighbour_with_the_longest_shared_edge(small_street, admin):
    east = small_street["communities"]["110105001001"]
    east2 = small_street["grids"]["110105001001002"]
    Grid.objects.filter(pk=east2.pk).update(draft_boundary=mbox(116.405, 39.9, 116.41, 39.90799))
    report = admin.get(f"/api/communities/{east.pk}/topology").json()
    (gap,) = report["gaps"]
    assert gap["sliver"] is True and report["slivers"] == 1
    response = admin.post(
        f"/api/v1/communities/{east.pk}/topology/fix-sliver",
        json.dumps({"point": gap["label"]}),
        content_type="application/json",
        headers={"If-Match": etags.community(east.pk)},  # the community as the editor read it
    )
    assert response.status_code == 200 and response.json()["code"] == "110105001001002"
    assert admin.get(f"/api/communities/{east.pk}/topology").json()["clean"] is True
    east2.refresh_from_db()
    assert east2.draft_boundary.extent == pytest.approx((116.405, 39.9, 116.41, 39.908))
