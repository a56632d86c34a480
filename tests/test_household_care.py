"""The grid leader's work on his households: card, edit, move inside his grid, reveal with reason, visits."""

from __future__ import annotations

import re

import pytest

from gridmap.models import AuditEvent, Household, Visit
from gridmap.storage import sealed_fields
from tests.people_support import etag, household_in, leader_grid, other_grid_in_community, post

UNMASKED = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


@pytest.fixture
def leader(user_for):
    return user_for("grid_leader")


@pytest.fixture
def own(leader):
    return household_in(leader_grid(leader))


def test_a_leader_sees_his_household_card_masked(client_for, own):
    response = client_for("grid_leader").get(f"/api/v1/households/{own.pk}/card")
    assert response.status_code == 200
    card = response.json()
    assert card["id"] == own.pk and card["grid"]["id"] == own.grid_id
    assert not UNMASKED.search(response.content.decode())
    if own.phone:
        assert card["phone"].startswith(own.phone[:3]) and "****" in card["phone"]
    assert card["station"] is None or card["station"]["distance_m"] >= 0


def test_another_grids_household_is_404_for_a_leader(client_for, leader):
    other = household_in(other_grid_in_community(leader_grid(leader)))
    client = client_for("grid_leader")
    assert client.get(f"/api/v1/households/{other.pk}/card").status_code == 404
    assert client.get(f"/my-grid/households/{other.pk}/").status_code == 404
    assert post(client, f"/api/v1/households/{other.pk}/reveal", {"reason": "走访核实"}).status_code == 404
    assert client.get("/api/v1/households/99999999999999999999/card").status_code == 404


def test_a_planner_gets_403_for_any_household(client_for, own):
    assert client_for("planner").get(f"/api/v1/households/{own.pk}/card").status_code == 403


def test_reveal_needs_a_reason_and_writes_an_audit_row(client_for, leader, own):
    Household.objects.filter(pk=own.pk).update(
        **sealed_fields.columns("phone", "13812345678"), **sealed_fields.columns("id_number", "11010519491231002X")
    )
    client = client_for("grid_leader")
    assert post(client, f"/api/v1/households/{own.pk}/reveal", {}).status_code == 400
    assert not AuditEvent.objects.filter(object_id=str(own.pk), action="reveal").exists()
    response = post(client, f"/api/v1/households/{own.pk}/reveal", {"reason": "上门核实低保材料"})
    assert response.status_code == 200
    assert response.json() == {"id": own.pk, "phone": "13812345678", "id_number": "11010519491231002X"}
    event = AuditEvent.objects.get(object_type="household", object_id=str(own.pk), action="reveal")
    assert event.user == leader and event.reason == "上门核实低保材料" and event.ip == "127.0.0.1"
    with pytest.raises(PermissionError):
        event.delete()


def test_a_leader_edits_details_but_not_the_grid(client_for, own):
    client = client_for("grid_leader")
    url = f"/api/v1/households/{own.pk}/card"
    assert post(client, url, {"grid": 1}, "patch", if_match=etag("household", own.pk)).json()["field"] == "grid"
    assert (
        post(client, url, {"phone": "12345"}, "patch", if_match=etag("household", own.pk)).json()["code"] == "bad_phone"
    )
    assert (
        post(client, url, {"id_number": "110105194912310021"}, "patch", if_match=etag("household", own.pk)).json()[
            "code"
        ]
        == "bad_id_number"
    )
    assert post(client, url, {"address": "x\x00"}, "patch", if_match=etag("household", own.pk)).status_code == 400
    response = post(
        client,
        url,
        {"address": "幸福路 8 号", "residents": 3, "elderly_alone": True},
        "patch",
        if_match=etag("household", own.pk),
    )
    assert response.status_code == 200 and response.json()["tags"]["elderly_alone"] is True
    own.refresh_from_db()
    assert own.address == "幸福路 8 号" and own.residents == 3


def test_a_leader_moves_a_point_inside_his_grid_only(client_for, leader, own):
    from django.contrib.gis.geos import Point

    grid = leader_grid(leader)
    inside = grid.boundary.point_on_surface
    client = client_for("grid_leader")
    response = post(
        client,
        f"/api/v1/households/{own.pk}/move",
        {"lon": inside.x, "lat": inside.y},
        if_match=etag("household", own.pk),
    )
    assert response.status_code == 200, response.json()
    own.refresh_from_db()
    assert own.grid_id == grid.pk and own.location.distance(Point(inside.x, inside.y)) < 1e-6
    outside = other_grid_in_community(grid).boundary.point_on_surface
    response = post(
        client,
        f"/api/v1/households/{own.pk}/move",
        {"lon": outside.x, "lat": outside.y},
        if_match=etag("household", own.pk),
    )
    assert response.status_code == 403 and response.json()["code"] == "outside_own_grid"
    own.refresh_from_db()
    assert own.grid_id == grid.pk
    assert (
        post(
            client, f"/api/v1/households/{own.pk}/move", {"lon": 200, "lat": 0}, if_match=etag("household", own.pk)
        ).status_code
        == 400
    )
    assert (
        post(
            client, f"/api/v1/households/{own.pk}/move", {"lon": "x", "lat": 0}, if_match=etag("household", own.pk)
        ).status_code
        == 400
    )


def test_a_leader_logs_visits(client_for, own):
    client = client_for("grid_leader")
    response = post(client, f"/api/v1/households/{own.pk}/visits", {"visited_on": "2026-01-05", "note": "身体健康"})
    assert response.status_code == 201
    assert Visit.objects.get(household=own).note == "身体健康"
    assert (
        post(client, f"/api/v1/households/{own.pk}/visits", {"visited_on": "2999-01-01", "note": "x"}).status_code
        == 400
    )
    visits = client.get(f"/api/v1/households/{own.pk}/visits").json()["visits"]
    assert visits[0]["note"] == "身体健康" and visits[0]["visitor"]


def test_a_help_pair_links_a_household_with_a_unit(client_for, own):
    client = client_for("grid_leader")
    assert post(client, f"/api/v1/households/{own.pk}/help-pairs", {"start_date": "2026-01-01"}).status_code == 400
    response = post(
        client, f"/api/v1/households/{own.pk}/help-pairs", {"unit": "区人民医院", "start_date": "2026-01-01"}
    )
    assert response.status_code == 201
    card = client.get(f"/api/v1/households/{own.pk}/card").json()
    assert any(p["unit"] == "区人民医院" for p in card["help_pairs"])
    pair = response.json()["id"]
    assert (
        post(
            client, f"/api/v1/help-pairs/{pair}/end", {"end_date": "2026-02-01"}, if_match=etag("help_pair", pair)
        ).status_code
        == 200
    )
    assert (
        post(
            client, f"/api/v1/help-pairs/{pair}/end", {"end_date": "2026-02-01"}, if_match=etag("help_pair", pair)
        ).status_code
        == 409
    )


def test_the_grid_page_data_holds_only_the_leaders_households(client_for, leader):
    grid = leader_grid(leader)
    response = client_for("grid_leader").get(f"/api/grids/{grid.pk}/households.json")
    assert response.status_code == 200
    data = response.json()
    ids = {h["id"] for h in data["households"]}
    assert ids == set(Household.objects.filter(grid=grid).values_list("id", flat=True))
    assert not UNMASKED.search(response.content.decode())
    other = other_grid_in_community(grid)
    assert client_for("grid_leader").get(f"/api/grids/{other.pk}/households.json").status_code == 404
