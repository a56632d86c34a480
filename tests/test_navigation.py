"""The menu comes from policy.navigation: every role sees exactly its list, and every item opens (200)."""

from __future__ import annotations

import re

import pytest

from gridmap import policy
from tests.conftest import ROLE_USERS

NAVLINK = re.compile(r'<a class="navlink" href="([^"]+)"')


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_the_menu_is_policys_list_and_every_item_opens(client_for, user_for, role):
    client = client_for(role)
    expected = [item["url"] for item in _menu(user_for(role))]
    page = client.get("/data/").content.decode()
    assert NAVLINK.findall(page) == expected
    for url in expected:
        assert client.get(url).status_code == 200, url


def _menu(user):
    from django.urls import reverse

    return [{"url": reverse(name), "label": label} for name, label in policy.navigation(user)]


def test_the_base_template_holds_no_role_list():
    from pathlib import Path

    base = (Path(__file__).resolve().parent.parent / "map_templates" / "gridmap" / "base.html").read_text()
    assert "profile.role" not in base and "street_admin" not in base


def test_field_staff_get_their_grid_and_planners_the_dashboard(user_for):
    assert "my-grid" in dict(policy.navigation(user_for("grid_leader")))
    assert "grid-editor" not in dict(policy.navigation(user_for("grid_leader")))
    assert "planner-dashboard" in dict(policy.navigation(user_for("planner")))
    assert "members-page" not in dict(policy.navigation(user_for("planner")))
