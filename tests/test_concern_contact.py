"""The contact phone a resident left with a public (QR) concern, on real PostGIS: masked on the concern's detail for
staff of its scope (none for planners, 404 out of scope), in full only by POST /api/v1/concerns/<pk>/contact/reveal
with a typed reason: one audit row per reveal (who, what, why, from where); 403 for planners, 404 out of scope or
without a contact, 400 without a reason, 503 with a failed audit row when the key cannot open it."""

from __future__ import annotations

import base64
import re

import pytest

from gridmap import policy
from gridmap.models import AuditEvent, ConcernCategory, Grid
from gridmap.models.concerns import Concern
from gridmap.models.intake import ConcernContact
from gridmap.services.concerns import contact as contact_service
from tests.people_support import other_grid_in_community, post

pytestmark = pytest.mark.django_db
UNMASKED = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PHONE, MASKED = "13912345678", "139****5678"


def _public_concern(grid: Grid, phone: str | None = PHONE) -> Concern:
    """A concern as the QR page leaves it: source QR form, no reporter, the phone sealed beside it."""
    concern = Concern.objects.create(
        category=ConcernCategory.objects.get(code="sanitation"), location=grid.boundary.point_on_surface,
        description="小区东门路灯不亮", grid=grid, community=grid.community, source="qr_form",
    )  # fmt: skip
    if phone:
        contact = ConcernContact(concern=concern)
        contact.phone = phone
        contact.save()
    return concern


def _own_grid(user) -> Grid:
    return policy.grids_for(user).published().order_by("code").first()


def _reveal(client, concern: Concern, reason="回访核实办理结果"):
    return post(client, f"/api/v1/concerns/{concern.pk}/contact/reveal", {} if reason is None else {"reason": reason})


def _reveals(concern: Concern):
    return AuditEvent.objects.filter(action="reveal", object_type="concern", object_id=str(concern.pk))


@pytest.mark.parametrize("role", ["street_admin", "community_staff", "grid_leader"])
def test_staff_of_the_scope_see_the_phone_masked_and_reveal_it_with_a_reason(client_for, user_for, role):
    concern = _public_concern(_own_grid(user_for(role)))
    client = client_for(role)
    detail = client.get(f"/api/v1/concerns/{concern.pk}")
    assert detail.status_code == 200 and detail.json()["contact_phone"] == MASKED
    assert not UNMASKED.search(detail.content.decode())
    assert not _reveals(concern).exists()  # reading the detail reveals nothing
    response = _reveal(client, concern)
    assert response.status_code == 200, response.content
    assert response.json() == {"id": concern.pk, "phone": PHONE}
    event = _reveals(concern).get()
    assert (event.user, event.reason, event.ip, event.fields, event.result) == (
        user_for(role), "回访核实办理结果", "127.0.0.1", "contact_phone", "ok")  # fmt: skip
    assert _reveal(client, concern, "再次回访").status_code == 200
    assert _reveals(concern).count() == 2  # one row per reveal
    with pytest.raises(PermissionError):
        event.delete()


def test_a_planner_gets_neither_the_masked_nor_the_full_phone(client_for, user_for):
    concern = _public_concern(_own_grid(user_for("street_admin")))
    planner = user_for("planner")
    assert policy.concern_contacts_for(planner).count() == 0
    assert contact_service.masked_phone(planner, concern.pk) is None
    client = client_for("planner")
    detail = client.get(f"/api/v1/concerns/{concern.pk}")
    assert detail.status_code == 403 and MASKED not in detail.content.decode()
    response = _reveal(client, concern)
    assert response.status_code == 403 and PHONE not in response.content.decode()
    assert not _reveals(concern).exists()


def test_out_of_scope_is_404_for_the_detail_and_the_reveal(client_for, user_for, small_street):
    leader_grid = _own_grid(user_for("grid_leader"))
    cases = [
        ("grid_leader", _public_concern(other_grid_in_community(leader_grid))),  # the next grid of his community
        ("street_admin", _public_concern(next(iter(small_street["grids"].values())))),  # another street
    ]
    staff_community = _own_grid(user_for("community_staff")).community
    foreign = Grid.objects.published().exclude(community=staff_community).filter(
        community__street=staff_community.street).order_by("code").first()  # fmt: skip
    cases.append(("community_staff", _public_concern(foreign)))
    for role, concern in cases:
        client = client_for(role)
        assert client.get(f"/api/v1/concerns/{concern.pk}").status_code == 404, role
        response = _reveal(client, concern)
        assert (response.status_code, response.json()["field"]) == (404, "concern"), role
        assert PHONE not in response.content.decode() and not _reveals(concern).exists()
    assert _reveal(client_for("street_admin"), Concern(pk=2**31 - 1)).status_code == 404


@pytest.mark.parametrize("reason", [None, "", "  ", "x", "a\x00b", "长" * 501])
def test_a_reveal_needs_a_reason_of_two_characters(client_for, user_for, reason):
    concern = _public_concern(_own_grid(user_for("community_staff")))
    response = _reveal(client_for("community_staff"), concern, reason)
    assert (response.status_code, response.json()["field"]) == (400, "reason")
    assert PHONE not in response.content.decode() and not _reveals(concern).exists()


def test_a_concern_without_a_contact_shows_none_and_reveals_404(client_for, user_for):
    concern = _public_concern(_own_grid(user_for("street_admin")), phone=None)
    client = client_for("street_admin")
    assert client.get(f"/api/v1/concerns/{concern.pk}").json()["contact_phone"] is None
    response = _reveal(client, concern)
    assert (response.status_code, response.json()["field"]) == (404, "contact")
    assert not _reveals(concern).exists()


def test_a_wrong_key_is_503_with_a_failed_audit_row_and_the_masked_detail_still_works(client_for, user_for, settings):
    concern = _public_concern(_own_grid(user_for("street_admin")))
    client = client_for("street_admin")
    settings.GRIDMAP_DATA_KEY = base64.b64encode(b"B" * 32).decode()  # not the key the phone was sealed with
    response = _reveal(client, concern)
    assert response.status_code == 503
    assert response.json()["code"] == "data_key_error" and PHONE not in response.content.decode()
    event = _reveals(concern).get()
    assert (event.result, event.reason, event.fields) == ("failed", "回访核实办理结果", "contact_phone")
    assert client.get(f"/api/v1/concerns/{concern.pk}").json()["contact_phone"] == MASKED
