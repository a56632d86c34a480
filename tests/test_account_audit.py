"""Account changes in the admin leave audit rows: who, when, target user, result, address (issue #9)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from gridmap.models import AuditEvent, Profile

ADDRESS = "10.7.7.7"


def _events(action):
    return list(
        AuditEvent.objects.filter(action=action).values(
            "username", "object_type", "object_id", "result", "ip", "fields", "reason"
        )
    )


def test_password_reset_by_admin_is_recorded(client_for, user_for):
    client = client_for("system_admin")
    target = user_for("grid_leader")
    url = f"/admin/auth/user/{target.pk}/password/"
    response = client.post(
        url,
        {"password1": "Quite-long-new-pass-42", "password2": "Quite-long-new-pass-42", "usable_password": "true"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Quite-long-new-pass-42")
    assert _events("password_reset") == [
        {
            "username": "admin",
            "object_type": "user",
            "object_id": str(target.pk),
            "result": "ok",
            "ip": ADDRESS,
            "fields": "password",
            "reason": "",
        }
    ]


def test_refused_password_reset_is_recorded_as_refused(client_for, user_for):
    client = client_for("system_admin")
    target = user_for("planner")
    response = client.post(
        f"/admin/auth/user/{target.pk}/password/",
        {"password1": "Quite-long-new-pass-42", "password2": "different-one-99", "usable_password": "true"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 200
    assert [e["result"] for e in _events("password_reset")] == ["refused"]


def test_own_password_change_is_recorded(client_for, user_for):
    from tests.conftest import DEMO_PASSWORD

    client = client_for("system_admin")
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": DEMO_PASSWORD,
            "new_password1": "Another-long-pass-77",
            "new_password2": "Another-long-pass-77",
        },
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    events = _events("password_change")
    assert len(events) == 1 and events[0]["object_id"] == str(user_for("system_admin").pk)
    assert events[0]["ip"] == ADDRESS and events[0]["result"] == "ok"


def _change_form(user):
    return {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_staff": "on" if user.is_staff else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }


def test_disable_and_enable_are_recorded(client_for, user_for):
    client = client_for("system_admin")
    target = user_for("grid_worker")
    url = f"/admin/auth/user/{target.pk}/change/"
    data = _change_form(target)  # is_active unticked
    response = client.post(url, data, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302, response.content[:2000]
    target.refresh_from_db()
    assert target.is_active is False
    response = client.post(url, {**data, "is_active": "on"}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302
    disabled, enabled = _events("account_disable"), _events("account_enable")
    assert len(disabled) == 1 and len(enabled) == 1
    assert disabled[0]["object_id"] == enabled[0]["object_id"] == str(target.pk)
    assert disabled[0]["ip"] == ADDRESS and disabled[0]["username"] == "admin"


def test_saving_without_changing_active_records_nothing(client_for, user_for):
    client = client_for("system_admin")
    target = user_for("grid_worker")
    client.post(f"/admin/auth/user/{target.pk}/change/", {**_change_form(target), "is_active": "on"})
    assert not AuditEvent.objects.filter(action__in=["account_disable", "account_enable"]).exists()


def test_role_change_is_recorded_with_old_and_new_role(client_for, user_for):
    client = client_for("system_admin")
    profile = Profile.objects.get(user=user_for("grid_worker"))
    url = f"/admin/gridmap/profile/{profile.pk}/change/"
    response = client.post(
        url,
        {"user": profile.user_id, "role": "planner", "street": "", "community": "", "planner_streets": []},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302, response.content[:2000]
    assert _events("role_change") == [
        {
            "username": "admin",
            "object_type": "user",
            "object_id": str(profile.user_id),
            "result": "ok",
            "ip": ADDRESS,
            "fields": "role",
            "reason": "grid_worker → planner",
        }
    ]
    assert get_user_model().objects.get(pk=profile.user_id).profile.role == "planner"
