"""A street's own concern deadlines (issue #17): its street admin sets per category the hours of each stage and
whether they count working days only; new stages in his street follow them, other streets keep the defaults;
weekends and configured holidays are skipped, make-up working days counted; bad values are refused naming the
field and nothing is saved; only a street admin reaches the page."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone

from gridmap import policy
from gridmap.models import AuditEvent, ConcernCategory
from gridmap.models.concerns import StreetDeadline
from gridmap.services.concerns import states

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@override_settings(TIME_ZONE="Asia/Shanghai", CONCERN_HOLIDAYS=frozenset({"2027-10-01", "2027-10-04"}),
                   CONCERN_MAKEUP_WORKDAYS=frozenset({"2027-10-09"}))  # fmt: skip
def test_working_hours_skip_weekends_and_holidays_and_count_make_up_days():
    with timezone.override("Asia/Shanghai"):
        friday_evening = at(2027, 9, 24, 20, 0)  # Friday 20:00: 4 h left that day, then Monday
        assert states.working_hours_later(friday_evening, 24) == at(2027, 9, 27, 20, 0)
        assert states.working_hours_later(at(2027, 9, 24, 10), 10) == at(2027, 9, 24, 20)  # within the day
        # Thu 30 Sep 12:00 + 24 h: Thu 12 h, Fri 1 Oct holiday, weekend, Mon 4 Oct holiday → Tue 5 Oct 12:00
        assert states.working_hours_later(at(2027, 9, 30, 12), 24) == at(2027, 10, 5, 12)
        # Fri 8 Oct 18:00 + 12 h: Fri 6 h, Sat 9 Oct a make-up working day → Sat 06:00
        assert states.working_hours_later(at(2027, 10, 8, 18), 12) == at(2027, 10, 9, 6)


def _report(client, point):
    body = {"category": "sanitation", "description": "楼道堆放杂物",
            "location": {"type": "Point", "coordinates": [point.x, point.y]}}  # fmt: skip
    response = client.post("/api/v1/concerns", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _form(**changes) -> dict:
    data = {"category": [c.code for c in ConcernCategory.objects.filter(active=True)]}
    data.update(changes)
    return data


def test_the_street_admin_sets_his_streets_hours_and_new_concerns_follow_them(client, user_for):
    admin = user_for("street_admin")
    client.force_login(admin)
    page = client.get("/concerns/deadlines/")
    assert page.status_code == 200 and "sanitation-accept" in page.content.decode()
    response = client.post("/concerns/deadlines/", _form(**{"own-sanitation": "on", "sanitation-accept": "5",
        "sanitation-dispatch": "6", "sanitation-handle": "30", "sanitation-verify": "8"}))  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("?saved=1")
    rule = StreetDeadline.objects.get(street=admin.profile.street, category__code="sanitation")
    assert (rule.accept_hours, rule.handle_hours, rule.working_days) == (5, 30, False)
    assert AuditEvent.objects.filter(object_type="street_deadline").exists()
    point = policy.grids_for(admin).published().first().boundary.point_on_surface
    before = timezone.now()
    concern = _report(client, point)
    due = dt.datetime.fromisoformat(concern["due_at"])
    assert dt.timedelta(hours=5) <= due - before <= dt.timedelta(hours=5, minutes=1)  # his 5 h, not the default 24
    client.post("/concerns/deadlines/", _form())  # nothing ticked: back to the defaults
    assert not StreetDeadline.objects.filter(street=admin.profile.street).exists()


def test_bad_hours_are_refused_naming_the_field_and_nothing_is_saved(client, user_for):
    client.force_login(user_for("street_admin"))
    for bad in ("0", "721", "1.5", "", "五"):
        response = client.post("/concerns/deadlines/", _form(**{"own-sanitation": "on", "own-safety": "on",
            "safety-accept": "2", "safety-dispatch": "2", "safety-handle": "2", "safety-verify": "2",
            "sanitation-accept": bad, "sanitation-dispatch": "6", "sanitation-handle": "30",
            "sanitation-verify": "8"}))  # fmt: skip
        assert response.status_code == 400, bad
        assert "sanitation" in response.content.decode() and "accept_hours" in response.content.decode()
    assert not StreetDeadline.objects.exists()


@pytest.mark.parametrize("role", ["system_admin", "community_staff", "grid_leader", "grid_worker", "planner"])
def test_only_a_street_admin_sets_deadlines(client, user_for, role):
    client.force_login(user_for(role))
    assert client.get("/concerns/deadlines/").status_code == 403
    assert client.post("/concerns/deadlines/", _form(**{"own-sanitation": "on"})).status_code == 403
    assert not StreetDeadline.objects.exists()
