"""Assigning members to grids: one leader per grid (409), history kept, role rights, staffing colours."""

from __future__ import annotations

import json

import pytest

from gridmap import policy
from gridmap.models import AssignmentRole, AuditEvent, GridAssignment, Member
from tests.people_support import etag, leaderless_grid, post


def _staffing(client, grid_id):
    layer = json.loads(client.get("/api/layers/staffing.geojson").content)
    return next(f["properties"] for f in layer["features"] if f["id"] == grid_id)


@pytest.fixture
def free_member(user_for):
    """A newly registered member of the community staff's community, not yet assigned anywhere."""
    return Member.objects.create(
        name="新人员", phone="13900001111", community=policy.communities_for(user_for("community_staff")).first()
    )


def test_assigning_a_leader_turns_a_leaderless_grid_staffed(client_for, user_for, free_member):
    client = client_for("street_admin")
    grid = leaderless_grid(user_for("street_admin"))
    assert _staffing(client, grid.pk)["staffing"] == "no_leader"
    response = post(
        client,
        f"/api/v1/grids/{grid.pk}/staff",
        {"member": free_member.pk, "role": "leader", "start_date": "2026-03-01"},
    )
    assert response.status_code == 201, response.json()
    assert [a["member"]["id"] for a in response.json()["active"] if a["role"] == "leader"] == [free_member.pk]
    assert _staffing(client, grid.pk)["staffing"] != "no_leader"
    assert AuditEvent.objects.filter(action="assign", object_type="gridassignment").exists()


def test_a_second_leader_is_409_unless_replacing_and_history_is_kept(client_for, user_for, free_member):
    client = client_for("street_admin")
    current = (
        GridAssignment.objects.active()
        .filter(role=AssignmentRole.LEADER, grid__in=policy.grids_for(user_for("street_admin")))
        .first()
    )
    url = f"/api/v1/grids/{current.grid_id}/staff"
    data = {"member": free_member.pk, "role": "leader", "start_date": "2026-03-01"}
    response = post(client, url, data)
    assert response.status_code == 409
    assert response.json()["code"] == "leader_exists" and current.member.name in response.json()["detail"]
    response = post(client, url, {**data, "replace_leader": True})
    assert response.status_code == 201
    staff = response.json()
    assert [a["member"]["id"] for a in staff["active"] if a["role"] == "leader"] == [free_member.pk]
    assert any(a["id"] == current.pk and a["end_date"] == "2026-03-01" for a in staff["history"])


def test_roles_decide_who_may_assign_what(client_for, user_for, free_member):
    grid = policy.grids_for(user_for("community_staff")).published().first()
    url = f"/api/v1/grids/{grid.pk}/staff"
    data = {"member": free_member.pk, "start_date": "2026-03-01"}
    assert post(client_for("community_staff"), url, {**data, "role": "leader"}).status_code == 403
    assert post(client_for("community_staff"), url, {**data, "role": "volunteer"}).status_code == 201
    assert post(client_for("grid_leader"), url, {**data, "role": "parttime"}).status_code == 403
    assert post(client_for("street_admin"), url, {**data, "role": "boss"}).json()["field"] == "role"
    assert (
        post(client_for("street_admin"), url, {**data, "role": "fulltime", "start_date": "3/1"}).json()["field"]
        == "start_date"
    )


def test_out_of_scope_grid_or_member_is_404(client_for, small_street, free_member):
    grid = next(iter(small_street["grids"].values()))
    outsider = Member.objects.create(name="外街道", community=next(iter(small_street["communities"].values())))
    client = client_for("street_admin")
    data = {"member": free_member.pk, "role": "fulltime", "start_date": "2026-03-01"}
    assert post(client, f"/api/v1/grids/{grid.pk}/staff", data).status_code == 404
    assert client.get(f"/api/v1/grids/{grid.pk}/staff").status_code == 404
    inside = GridAssignment.objects.active().first().grid_id
    assert post(client, f"/api/v1/grids/{inside}/staff", {**data, "member": outsider.pk}).status_code == 404


def test_ending_an_assignment_keeps_it_as_history(client_for, user_for):
    client = client_for("street_admin")
    assignment = (
        GridAssignment.objects.active()
        .filter(role=AssignmentRole.FULLTIME, grid__in=policy.grids_for(user_for("street_admin")))
        .first()
    )

    def end(date: str):  # as the staffing page ends it: with the assignment's current ETag
        url = f"/api/v1/assignments/{assignment.pk}/end"
        return post(client, url, {"end_date": date}, if_match=etag("assignment", assignment.pk))

    assert end("2000-01-01").status_code == 400
    assert end("2026-06-30").status_code == 200
    assert end("2026-06-30").status_code == 409
    staff = client.get(f"/api/v1/grids/{assignment.grid_id}/staff").json()
    assert any(a["id"] == assignment.pk for a in staff["history"])


def test_households_per_fulltime_worker_over_the_limit_is_overloaded(client_for, settings):
    settings.HOUSEHOLDS_PER_FULLTIME_MAX = 1
    layer = json.loads(client_for("street_admin").get("/api/layers/staffing.geojson").content)
    statuses = {f["properties"]["staffing"] for f in layer["features"]}
    assert "overloaded" in statuses and "staffed" not in statuses
