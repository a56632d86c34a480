"""Public intake of concerns by QR code (issue #17 item 6), on real PostGIS: the per-community switch (off by
default, audited, a new token makes the old address 404), the QR code and poster, a resident's submission landing
as "reported" with source QR form and no account, refusals (outside the community, sizes, honeypot, hostile
photos through the one photo gate), rate limits per address and per device (429 + Retry-After, reset after the
window by moving stored timestamps), nothing personal in the answer, the contact phone sealed."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from gridmap import policy
from gridmap.models import AuditEvent, Concern, ConcernEvent
from gridmap.models.concerns import ConcernPhoto
from gridmap.models.intake import CommunityIntake, ConcernContact, IntakeHit, IntakeRefusal
from tests.test_concern_photos import _png_header_only

pytestmark = pytest.mark.django_db


def _jpeg(size=(200, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def community(user_for):
    return policy.intake_communities_for(user_for("street_admin")).order_by("pk").first()


@pytest.fixture
def grid(community):
    return community.grids.filter(status="published").order_by("code").first()


def _switch(client, community, action):
    return client.post("/concerns/intake/", {"community": community.pk, "action": action})


@pytest.fixture
def token(client_for, community):
    admin = client_for("street_admin")
    assert _switch(admin, community, "on").status_code == 302
    admin.logout()
    return CommunityIntake.objects.get(community=community).token


def _public(**extra) -> Client:
    return Client(enforce_csrf_checks=True, **extra)


def _submit(client, token, point, *, photos=(), **fields):
    page = client.get(f"/r/{token}/")
    assert page.status_code == 200
    csrf = client.cookies["csrftoken"].value
    data = {"category": "environment", "description": "楼道堆放杂物", "lon": point.x, "lat": point.y,
            "consent": "on", "csrfmiddlewaretoken": csrf, **fields}  # fmt: skip
    if photos:
        data["photo"] = [SimpleUploadedFile(name, content) for name, content in photos]
    return client.post(f"/r/{token}/", data)


def _category():
    from gridmap.models import ConcernCategory

    return ConcernCategory.objects.filter(active=True, is_wish=False).order_by("code").first().code


def test_off_by_default_and_a_wrong_or_old_token_is_404(client_for, community, grid):
    assert not CommunityIntake.objects.filter(community=community, enabled=True).exists()
    admin = client_for("street_admin")
    assert _switch(admin, community, "on").status_code == 302
    intake = CommunityIntake.objects.get(community=community)
    assert intake.enabled and len(intake.token) >= 32
    assert AuditEvent.objects.filter(object_type="community_intake", object_id=str(community.pk)).exists()
    old = intake.token
    assert _public().get(f"/r/{old}/").status_code == 200
    assert _switch(admin, community, "regenerate").status_code == 302
    new = CommunityIntake.objects.get(community=community).token
    assert new != old
    assert _public().get(f"/r/{old}/").status_code == 404  # the printed QR code stops working
    assert _public().get(f"/r/{new}/").status_code == 200
    assert _public().get("/r/" + "x" * 32 + "/").status_code == 404
    assert _switch(admin, community, "off").status_code == 302
    assert _public().get(f"/r/{new}/").status_code == 404
    assert _public().post(f"/r/{new}/", {}).status_code in (403, 404)  # no hint it exists
    assert IntakeRefusal.objects.filter(reason="token").exists()


def test_only_the_street_admin_and_system_admin_switch_and_see_the_qr(client_for, community):
    for role in ("community_staff", "grid_worker", "grid_leader", "planner"):
        assert client_for(role).get("/concerns/intake/").status_code == 403
        assert _switch(client_for(role), community, "on").status_code == 403
    assert not CommunityIntake.objects.filter(community=community).exists()
    admin = client_for("street_admin")
    assert admin.get(f"/concerns/intake/{community.pk}/qr.svg").status_code == 404  # off: no QR code
    _switch(admin, community, "on")
    qr = admin.get(f"/concerns/intake/{community.pk}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    poster = admin.get(f"/concerns/intake/{community.pk}/poster/")
    token = CommunityIntake.objects.get(community=community).token
    assert poster.status_code == 200 and community.name in poster.content.decode() and token in poster.content.decode()
    assert 'class="poster poster-a4"' in poster.content.decode()
    for size in ("a5", "a6"):
        sized = admin.get(f"/concerns/intake/{community.pk}/poster/", {"size": size}).content.decode()
        assert f'class="poster poster-{size}"' in sized and token in sized
    wrong = admin.get(f"/concerns/intake/{community.pk}/poster/", {"size": "a0"})
    assert wrong.status_code == 400 and "size" in wrong.content.decode()
    assert client_for("system_admin").get("/concerns/intake/").status_code == 200


def test_a_submission_lands_as_reported_in_its_grid_with_source_qr_and_nothing_personal_back(token, grid):
    client = _public(REMOTE_ADDR="203.0.113.7")
    point = grid.boundary.point_on_surface
    before = Concern.objects.count()
    response = _submit(client, token, point, category=_category(), phone="13812345678",
                       description="<script>alert(1)</script> 井盖缺失", photos=[("a.jpg", _jpeg())])  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"receipt", "detail"}
    assert not re.search(r"1[3-9]\d{9}|\d{3}\*{4}\d{4}", response.content.decode())
    assert "203.0.113.7" not in response.content.decode() and "script" not in response.content.decode()
    assert Concern.objects.count() == before + 1
    concern = Concern.objects.latest("pk")
    assert body["receipt"].endswith(f"-{concern.pk}")
    assert (concern.state, concern.source, concern.reporter_id, concern.grid_id) == ("reported", "qr_form", None,
                                                                                    grid.pk)  # fmt: skip
    assert ConcernEvent.objects.filter(concern=concern, action="report", user=None).count() == 1
    assert ConcernPhoto.objects.filter(concern=concern).count() == 1
    contact = ConcernContact.objects.get(concern=concern)
    assert contact.phone_masked == "138****5678" and b"13812345678" not in bytes(contact.phone_sealed)
    assert contact.phone == "13812345678"
    assert AuditEvent.objects.filter(object_type="concern", object_id=str(concern.pk), reason="public_report").exists()
    assert client.cookies.get("gm_device") is not None


def test_staff_see_it_on_the_board_marked_and_escaped(client_for, token, grid):
    response = _submit(_public(), token, grid.boundary.point_on_surface, category=_category(),
                       description="<img src=x onerror=alert(1)>")  # fmt: skip
    assert response.status_code == 201
    rows = client_for("street_admin").get("/api/v1/concerns?state=reported").json()["concerns"]
    mine = [r for r in rows if r["description"] == "<img src=x onerror=alert(1)>"]
    assert mine and mine[0]["source"] == "qr_form" and mine[0]["state"] == "reported"


def test_outside_the_community_is_400_naming_the_field(token, community):
    from django.contrib.gis.geos import Point

    other = policy.communities_for(None).none()
    assert not other.exists()
    outside = Point(community.boundary.extent[0] - 0.05, community.boundary.extent[1] - 0.05, srid=4326)
    response = _submit(_public(), token, outside, category=_category())
    assert response.status_code == 400 and response.json()["field"] == "location", response.content
    assert "本社区" in response.json()["detail"] or "community" in response.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"description": "长" * 501}, "description", 400),
        ({"description": ""}, "description", 400),
        ({"phone": "12345"}, "phone", 400),
        ({"consent": ""}, "consent", 400),
        ({"category": "small_wish_none"}, "category", 400),
        ({"lon": "nan"}, "location", 400),
        ({"website": "http://spam.example"}, "", 400),  # the honeypot
    ],
)
def test_hostile_or_incomplete_fields_are_refused(token, grid, fields, field, status):
    fields = {"category": _category(), **fields}
    response = _submit(_public(), token, grid.boundary.point_on_surface, **fields)
    assert response.status_code == status and response.json()["field"] == field, response.content
    assert not Concern.objects.filter(source="qr_form").exists()


@pytest.mark.parametrize(
    ("photos", "status"),
    [
        ([("a.jpg", _jpeg())] * 4, 400),  # too many
        ([("polyglot.jpg", b"\xff\xd8\xff" + _png_header_only(10, 10))], 400),
        ([("bomb.png", _png_header_only(60_000, 60_000))], 400),
        ([("script.png", b"<script>alert(1)</script>")], 415),
    ],
)
def test_hostile_photos_are_refused_and_nothing_is_stored(token, grid, photos, status):
    response = _submit(_public(), token, grid.boundary.point_on_surface, category=_category(), photos=photos)
    assert response.status_code == status and response.json()["field"] == "photo", response.content
    assert not Concern.objects.filter(source="qr_form").exists()


def test_an_oversized_body_is_413_before_it_is_read(token, grid, settings):
    settings.CONCERN_INTAKE_MAX_BODY = 50_000
    response = _submit(_public(), token, grid.boundary.point_on_surface, category=_category(),
                       photos=[("big.jpg", b"\xff\xd8\xff" + b"\0" * 60_000)])  # fmt: skip
    assert response.status_code == 413
    assert IntakeRefusal.objects.filter(reason="body_size").exists()


def test_rate_limit_per_device_then_reset_after_the_window(token, grid, settings):
    settings.CONCERN_INTAKE_PER_HOUR, settings.CONCERN_INTAKE_PER_DAY = 2, 5
    point, category = grid.boundary.point_on_surface, _category()
    phone = _public(REMOTE_ADDR="198.51.100.1")
    assert _submit(phone, token, point, category=category).status_code == 201
    phone.defaults["REMOTE_ADDR"] = "198.51.100.2"  # the same device from another address
    assert _submit(phone, token, point, category=category).status_code == 201
    phone.defaults["REMOTE_ADDR"] = "198.51.100.3"
    refused = _submit(phone, token, point, category=category)
    assert refused.status_code == 429 and refused.json()["field"] == "device"
    assert 0 < int(refused["Retry-After"]) <= 3600
    IntakeHit.objects.update(at=timezone.now() - dt.timedelta(hours=1, minutes=1))  # the hour has passed
    assert _submit(phone, token, point, category=category).status_code == 201
    assert IntakeRefusal.objects.filter(reason="rate_device").exists()


def test_rate_limit_per_address_across_devices_and_per_day(token, grid, settings):
    settings.CONCERN_INTAKE_PER_HOUR, settings.CONCERN_INTAKE_PER_DAY = 2, 3
    point, category = grid.boundary.point_on_surface, _category()
    for _i in range(2):  # a fresh device each time (cookies cleared), one address
        assert _submit(_public(REMOTE_ADDR="192.0.2.9"), token, point, category=category).status_code == 201
    refused = _submit(_public(REMOTE_ADDR="192.0.2.9"), token, point, category=category)
    assert refused.status_code == 429 and refused.json()["field"] == "address" and refused["Retry-After"]
    assert _submit(_public(REMOTE_ADDR="192.0.2.10"), token, point, category=category).status_code == 201
    IntakeHit.objects.update(at=timezone.now() - dt.timedelta(hours=2))
    assert _submit(_public(REMOTE_ADDR="192.0.2.9"), token, point, category=category).status_code == 201
    refused = _submit(_public(REMOTE_ADDR="192.0.2.9"), token, point, category=category)  # 3 today
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 3600
    IntakeHit.objects.update(at=timezone.now() - dt.timedelta(days=1, minutes=1))
    assert _submit(_public(REMOTE_ADDR="192.0.2.9"), token, point, category=category).status_code == 201
    assert not IntakeHit.objects.filter(at__lt=timezone.now() - dt.timedelta(days=1)).exists()  # old rows gone


def test_a_post_without_csrf_is_refused(token, grid):
    response = _public().post(f"/r/{token}/", {"category": _category(), "description": "x", "consent": "on"})
    assert response.status_code == 403
