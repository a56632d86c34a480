"""A concern's timeline as people read it (the detail's history): each row's action as a label in the user's
language, not its code, and the names of rows no person wrote (the public's QR report, the overdue sweep) in that
language too; the codes stay for programs."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from gridmap import policy
from gridmap.models.concerns import Concern
from gridmap.services.concerns import workflow
from gridmap.services.concerns.sweep import escalate_overdue

pytestmark = pytest.mark.django_db


def _name(user) -> str:
    member = getattr(user, "member", None)
    return member.name if member else (user.get_full_name() or user.get_username())


def test_actions_and_the_names_of_no_person_read_in_the_users_language(client, user_for):
    worker, manager = user_for("grid_worker"), user_for("street_admin")
    spot = policy.grids_for(worker).published().order_by("code").first().boundary.point_on_surface
    mine, _created = workflow.report(worker, {"category": "sanitation", "description": "楼道堆物"}, spot)
    public = workflow.report_public(
        mine.community_id, {"category": "sanitation", "description": "扫码：楼下垃圾"}, spot
    )
    client.force_login(manager)
    accepted = client.post(f"/api/v1/concerns/{mine.pk}/transitions", data=json.dumps({"action": "accept"}),
                           content_type="application/json", headers={"If-Match": f'"{mine.version}"'})  # fmt: skip
    assert accepted.status_code == 200, accepted.content
    Concern.objects.filter(pk=mine.pk).update(due_at="2000-01-01T00:00:00Z")
    escalate_overdue()

    def timeline(pk: int) -> dict[str, tuple[str, str]]:
        """action → (who, what); by action, as the sweep's row carries its own transaction's time."""
        events = client.get(f"/api/v1/concerns/{pk}").json()["events"]
        return {e["action"]: (e["actor"], e["action_label"]) for e in events}

    assert timeline(mine.pk) == {"report": (_name(worker), "上报"), "accept": (_name(manager), "立案"),
                                 "escalate": ("系统", "督办")}  # fmt: skip
    assert timeline(public.pk) == {"report": ("居民扫码", "上报")}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert timeline(mine.pk) == {"report": (_name(worker), "Report"), "accept": (_name(manager), "Accept"),
                                 "escalate": ("System", "Escalate")}  # fmt: skip
    assert timeline(public.pk) == {"report": ("Resident (QR code)", "Report")}
    assert [e["action"] for e in client.get(f"/api/v1/concerns/{public.pk}").json()["events"]] == ["report"]
