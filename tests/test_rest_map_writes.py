"""REST writes for grids and service stations (/api/v1/grids/, /api/v1/stations/): the grid editor's
services and validator, If-Match concurrency (428 / 409 / 412), scoped by the policy, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from gridmap.models import Grid, GridStatus, Role, ServiceStation
from tests.test_grid_editing import EAST, EAST1, WEST1, box, client, street  # noqa: F401  (street: fixture)

SHRUNK_EAST1 = {
    "type": "Polygon",
    "coordinates": [
        [
            [116.401, 39.9],
            [116.405, 39.9],
            [116.405, 39.908],
            [116.4, 39.908],
            [116.4, 39.901],
            [116.401, 39.901],
            [116.401, 39.9],
        ]
    ],
}
CORNER = box(116.4, 39.9, 116.401, 39.901)  # freed by SHRUNK_EAST1
INSIDE_EAST = {"type": "Point", "coordinates": [116.402, 39.904]}


def send(c: Client, method: str, url: str, body=None, **headers):
    data = "" if body is None else json.dumps(body)
    response = getattr(c, method)(url, data, content_type="application/json", headers=headers)
    return response.status_code, (response.json() if response.content else None), response


def test_a_street_admin_reshapes_draws_and_retires_grids_with_if_match(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    east1 = street["grids"][EAST1]
    got, body, response = send(admin, "get", f"/api/v1/grids/{east1.pk}/")
    assert got == 200 and response["ETag"] == '"1"'
    got, body, response = send(admin, "patch", f"/api/v1/grids/{east1.pk}/", {"geometry": SHRUNK_EAST1}, If_Match='"1"')
    assert got == 200 and body["properties"]["version"] == 2 and response["ETag"] == '"2"'
    east1.refresh_from_db()
    assert east1.draft_boundary.extent == pytest.approx((116.4, 39.9, 116.405, 39.908))  # a pending edit
    got, body, _ = send(
        admin, "patch", f"/api/v1/grids/{east1.pk}/", {"geometry": box(116.4, 39.9, 116.404, 39.908)}, If_Match='"1"'
    )
    assert got == 412 and body["code"] == "precondition_failed" and body["current"]["version"] == 2
    assert body["etag"] == '"2"'

    got, created, response = send(
        admin,
        "post",
        "/api/v1/grids/",
        {"community": street["communities"][EAST].pk, "geometry": CORNER, "name": "角落网格"},
    )
    assert got == 201 and created["properties"]["status"] == "draft" and created["properties"]["name"] == "角落网格"
    assert created["geometry"]["type"] in ("Polygon", "MultiPolygon") and response["ETag"] == '"1"'
    got, retired, _ = send(admin, "delete", f"/api/v1/grids/{created['id']}/", If_Match='"1"')
    assert got == 200 and retired["properties"]["status"] == "retired"
    assert Grid.objects.get(pk=created["id"]).status == GridStatus.RETIRED


def test_grid_writes_need_if_match_and_refuse_bad_input_naming_it_with_nothing_saved(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    east1 = street["grids"][EAST1]
    url = f"/api/v1/grids/{east1.pk}/"
    got, body, _ = send(admin, "patch", url, {"geometry": SHRUNK_EAST1})
    assert (got, body["field"]) == (428, "If-Match")
    got, body, _ = send(admin, "patch", url, {"geometry": SHRUNK_EAST1}, If_Match='"one"')
    assert (got, body["field"]) == (412, "If-Match")  # a tag that is no grid version can never match
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[116.401, 39.901], [116.402, 39.902], [116.402, 39.901], [116.401, 39.902], [116.401, 39.901]]
        ],
    }
    got, body, _ = send(admin, "patch", url, {"geometry": bowtie}, If_Match='"1"')
    assert (got, body["code"]) == (400, "self_intersection") and "location" in body
    got, body, _ = send(admin, "patch", url, {"geometry": SHRUNK_EAST1, "status": "published"}, If_Match='"1"')
    assert (got, body["field"]) == (400, "status")  # no mass assignment
    assert admin.patch(url, "a=b", content_type="text/plain", headers={"If-Match": '"1"'}).status_code == 415
    assert admin.patch(url, "{", content_type="application/json", headers={"If-Match": '"1"'}).status_code == 400
    got, body, _ = send(
        admin,
        "post",
        "/api/v1/grids/",
        {"community": street["communities"][EAST].pk, "geometry": box(116.404, 39.9, 116.406, 39.902)},
    )
    assert (got, body["code"]) == (409, "overlaps_siblings")
    east1.refresh_from_db()
    assert east1.version == 1 and east1.draft_boundary is None
    assert not Grid.objects.filter(status=GridStatus.DRAFT).exists()


def test_grid_writes_are_scoped_by_the_policy(street, client_for):
    staff = client(street["users"][Role.COMMUNITY_STAFF])  # 东社区 only
    planner = client(street["users"][Role.PLANNER])
    west1 = street["grids"][WEST1]
    assert send(staff, "patch", f"/api/v1/grids/{west1.pk}/", {"geometry": CORNER}, If_Match='"1"')[0] == 404
    assert send(staff, "delete", f"/api/v1/grids/{west1.pk}/", If_Match='"1"')[0] == 404
    assert send(planner, "delete", f"/api/v1/grids/{west1.pk}/", If_Match='"1"')[0] == 403
    assert send(planner, "post", "/api/v1/grids/", {"community": west1.community_id, "geometry": CORNER})[0] == 403
    assert send(client_for("grid_leader"), "delete", "/api/v1/grids/99999999/", If_Match='"1"')[0] == 404
    assert Client().post("/api/v1/grids/", "{}", content_type="application/json").status_code == 401
    west1.refresh_from_db()
    assert west1.version == 1 and not west1.retire_on_publish


def test_a_street_admin_places_changes_and_removes_a_station_with_if_match(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    got, created, response = send(
        admin, "post", "/api/v1/stations/", {"name": "东社区党群服务站", "location": INSIDE_EAST, "radius_m": 2000}
    )
    assert got == 201 and created["properties"]["community"] == street["communities"][EAST].pk
    assert created["properties"]["warnings"] and "2000" in created["properties"]["warnings"][0]
    url, etag = f"/api/v1/stations/{created['id']}/", response["ETag"]
    assert send(admin, "get", url)[2]["ETag"] == etag
    assert send(admin, "patch", url, {"radius_m": 500})[0] == 428
    got, changed, response = send(admin, "patch", url, {"radius_m": 500, "opening_hours": "8:30-17:30"}, If_Match=etag)
    assert got == 200 and changed["properties"]["radius_m"] == 500 and not changed["properties"]["warnings"]
    got, body, _ = send(admin, "patch", url, {"radius_m": 800}, If_Match=etag)  # the old ETag
    assert (got, body["code"]) == (412, "precondition_failed")
    assert ServiceStation.objects.get(pk=created["id"]).radius_m == 500
    assert send(admin, "delete", url, If_Match=etag)[0] == 412
    assert send(admin, "delete", url, If_Match=response["ETag"])[0] == 204
    assert not ServiceStation.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"location": INSIDE_EAST}, "name"),
        ({"name": "站", "location": {"type": "Point", "coordinates": [116.5, 39.95]}}, "location"),
        ({"name": "站", "location": {"type": "Point", "coordinates": [181, 39.9]}}, "location"),
        ({"name": "站", "location": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, "location"),
        ({"name": "站", "location": INSIDE_EAST, "radius_m": 0}, "radius_m"),
        ({"name": "站", "location": INSIDE_EAST, "radius_m": True}, "radius_m"),
        ({"name": "站", "location": INSIDE_EAST, "kind": "castle"}, "kind"),
        ({"name": "站", "location": INSIDE_EAST, "community": 1}, "community"),
        ({"name": " ", "location": INSIDE_EAST}, "name"),
    ],
)
def test_bad_station_bodies_are_400_naming_the_field_and_save_nothing(street, body, field):
    admin = client(street["users"][Role.STREET_ADMIN])
    before = ServiceStation.objects.count()
    got, refused, _ = send(admin, "post", "/api/v1/stations/", body)
    assert (got, refused["field"]) == (400, field)
    assert ServiceStation.objects.count() == before


@pytest.mark.parametrize("role", ["community_staff", "grid_leader", "grid_worker", "planner"])
def test_only_street_and_system_admins_write_stations(client_for, role):
    station = ServiceStation.objects.order_by("id").first()
    c = client_for(role)
    got, body, _ = send(c, "post", "/api/v1/stations/", {"name": "站", "location": INSIDE_EAST})
    assert got == 403
    assert send(c, "delete", f"/api/v1/stations/{station.pk}/", If_Match='"x"')[0] in (403, 404)
    assert ServiceStation.objects.filter(pk=station.pk).exists()


def test_the_demo_street_admin_edits_a_station_of_his_street(client_for):
    c = client_for("street_admin")
    station = ServiceStation.objects.order_by("id").first()
    url = f"/api/v1/stations/{station.pk}/"
    etag = send(c, "get", url)[2]["ETag"]
    got, body, _ = send(c, "patch", url, {"name": "更名的服务站"}, If_Match=etag)
    assert got == 200 and body["properties"]["name"] == "更名的服务站"
