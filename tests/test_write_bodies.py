"""One body validator per write (gridmap/api/bodies.py): the page's JSON endpoint and the REST viewset that
write the same thing validate the body with the same serializer, so a bad body gets the same refusal (status,
code, field) on both ways in and nothing is saved; the serializer alone, outside any view, refuses the same."""

from __future__ import annotations

import pytest

from gridmap import policy
from gridmap.api import bodies
from gridmap.models import Community, Household, ServiceStation
from gridmap.services.refused import Refused
from tests.people_support import etag, post

BAD_HOUSEHOLD_BODIES = [
    ({"phone": "12812345678"}, "bad_phone", "phone"),
    ({"phone": 13812345678}, "bad_value", "phone"),
    ({"id_number": "110105194912310021"}, "bad_id_number", "id_number"),
    ({"residents": True}, "bad_value", "residents"),
    ({"residents": "3"}, "bad_value", "residents"),
    ({"residents": 100}, "bad_value", "residents"),
    ({"address": 5}, "bad_value", "address"),
    ({"address": "   "}, "required", "address"),
    ({"head_name": "张" * 51}, "too_long", "head_name"),
    ({"address": "幸福路\u202e1 号"}, "bidi_control", "address"),
    ({"address": "幸福路\x001 号"}, "nul_byte", "address"),
    ({"resident_type": "tourist"}, "bad_value", "resident_type"),
    ({"low_income": "yes"}, "bad_value", "low_income"),
    ({"grid": 1}, "not_editable", "grid"),
    ({"community_id": 1}, "not_editable", "community_id"),
    ({}, "empty", "body"),
]


def _household(user):
    return policy.households_for(user).filter(grid__isnull=False).order_by("id").first()


@pytest.mark.parametrize("data, code, field", BAD_HOUSEHOLD_BODIES)
def test_a_bad_household_edit_is_refused_alike_by_the_page_and_rest(client_for, user_for, data, code, field):
    client = client_for("grid_leader")
    household = _household(user_for("grid_leader"))
    before = Household.objects.filter(pk=household.pk).values().get()
    answers = []
    for url in (f"/api/v1/households/{household.pk}/card", f"/api/v1/households/{household.pk}/"):
        response = post(client, url, data, "patch", if_match=etag("household", household.pk))
        answers.append((response.status_code, response.json()["code"], response.json()["field"]))
    assert answers == [(400, code, field)] * 2
    assert Household.objects.filter(pk=household.pk).values().get() == before


def test_a_good_household_edit_is_saved_alike_by_the_page_and_rest(client_for, user_for):
    client = client_for("grid_leader")
    household = _household(user_for("grid_leader"))
    for url, address in (
        (f"/api/v1/households/{household.pk}/card", " 页面路 1 号 "),
        (f"/api/v1/households/{household.pk}/", "接口路 2 号"),
    ):
        body = {"address": address, "id_number": "11010519491231002x", "residents": 3, "low_income": True}
        response = post(client, url, body, "patch", if_match=etag("household", household.pk))
        assert response.status_code == 200, response.content
        saved = Household.objects.get(pk=household.pk)
        assert (saved.address, saved.id_number, saved.residents, saved.low_income) == (
            address.strip(),
            "11010519491231002X",
            3,
            True,
        )


@pytest.mark.parametrize(
    "data, code, field",
    [
        (
            {"name": "站", "location": {"type": "Point", "coordinates": [116.4, 39.9]}, "radius_m": 20_001},
            "bad_value",
            "radius_m",
        ),
        (
            {"name": "站", "location": {"type": "Point", "coordinates": [116.4, 39.9]}, "radius_m": 500.5},
            "bad_value",
            "radius_m",
        ),
        ({"name": "", "location": {"type": "Point", "coordinates": [116.4, 39.9]}}, "required", "name"),
        ({"name": "站\u200b", "location": {"type": "Point", "coordinates": [116.4, 39.9]}}, "bidi_control", "name"),
        (
            {"name": "站", "location": {"type": "Point", "coordinates": [12958000, 4825000]}},
            "looks_projected",
            "location",
        ),
        ({"name": "站", "location": {"type": "Polygon", "coordinates": []}}, "not_a_point", "location"),
        ({"name": "站"}, "required", "location"),
        ({"location": {"type": "Point", "coordinates": [116.4, 39.9]}}, "required", "name"),
        (
            {"name": "站", "location": {"type": "Point", "coordinates": [116.4, 39.9]}, "community": 1},
            "unknown_field",
            "community",
        ),
        (
            {"name": "站", "location": {"type": "Point", "coordinates": [116.4, 39.9]}, "active": "no"},
            "bad_value",
            "active",
        ),
    ],
)
def test_a_bad_station_body_is_refused_by_its_serializer_before_any_row_is_written(client_for, data, code, field):
    stations = ServiceStation.objects.count()
    response = post(client_for("street_admin"), "/api/v1/stations/", data)
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (400, code, field)
    assert ServiceStation.objects.count() == stations
    with pytest.raises(Refused) as refused:
        bodies.validated(bodies.StationBody, data)
    assert (refused.value.code, refused.value.field) == (code, field)


@pytest.mark.parametrize(
    "extra, code, field",
    [
        ({"name": "网格\u200b"}, "bad_value", "name"),
        ({"name": "   "}, "bad_value", "name"),
        ({"community": "1"}, "bad_value", "community"),
        ({"community": True}, "bad_value", "community"),
        ({"owner": 5}, "unknown_field", "owner"),
    ],
)
def test_a_bad_grid_draft_is_refused_alike_by_the_editor_and_rest(client_for, user_for, extra, code, field):
    community = policy.grid_edit_communities_for(user_for("street_admin")).order_by("code").first()
    assert isinstance(community, Community)
    square = {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.401, 39.9], [116.401, 39.901], [116.4, 39.9]]]}
    data = {"community": community.pk, "geometry": square, **extra}
    client = client_for("street_admin")
    answers = []
    for url in ("/api/v1/grids/drafts", "/api/v1/grids/"):
        response = post(client, url, data)
        answers.append((response.status_code, response.json()["code"], response.json()["field"]))
    assert answers == [(400, code, field)] * 2


def test_the_page_move_and_the_rest_location_use_the_one_point_rule(client_for, user_for):
    client = client_for("grid_leader")
    household = _household(user_for("grid_leader"))
    page = post(
        client,
        f"/api/v1/households/{household.pk}/move",
        {"lon": 12958000, "lat": 4825000},
        if_match=etag("household", household.pk),
    )
    rest = post(
        client,
        f"/api/v1/households/{household.pk}/",
        {"location": {"type": "Point", "coordinates": [12958000, 4825000]}},
        "patch",
        if_match=etag("household", household.pk),
    )
    assert page.status_code == rest.status_code == 400
    assert page.json()["code"] == rest.json()["code"] == "looks_projected"
