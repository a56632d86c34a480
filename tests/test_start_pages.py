"""Each role starts at its job (issue #16, item 6), the work list of grid managers, the styled error pages and
the API root (item 10): every link of the README resolves."""

from __future__ import annotations

import re

import pytest

from gridmap import policy
from gridmap.models import CentralHousehold, Grid, GridStatus, Household
from tests.browser_support import DEMO_PASSWORD
from tests.conftest import ROLE_USERS, ROOT
from tests.people_support import leaderless_grid

pytestmark = pytest.mark.django_db

START = {
    "system_admin": "/work/",
    "street_admin": "/work/",
    "community_staff": "/work/",
    "grid_leader": "/my-grid/",
    "grid_worker": "/my-grid/",
    "planner": "/planner/",
}


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_signs_in_to_its_own_start_page_in_one_redirect(client, role):
    response = client.post("/accounts/login/", {"username": ROLE_USERS[role], "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == START[role]
    assert client.get("/")["Location"] == START[role]
    assert client.get(START[role]).status_code == 200


def test_a_sign_in_with_next_still_goes_there(client):
    response = client.post("/accounts/login/?next=/members/", {"username": "jiedao", "password": DEMO_PASSWORD})
    assert response["Location"] == "/members/"


def test_the_root_sends_anonymous_visitors_to_sign_in(client):
    assert client.get("/")["Location"] == "/accounts/login/"


def _sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section class="work-section" id="work-(\w+)">(.*?)</section>', html, re.S))


def test_the_work_list_names_each_problem_with_a_link_to_where_it_is_fixed(client_for, user_for, small_street):
    admin = user_for("street_admin")
    grid = leaderless_grid(admin)
    draft = Grid.objects.create(
        code=grid.code[:-3] + "999",
        name="待办草稿",
        community=grid.community,
        boundary=grid.boundary,
        status=GridStatus.DRAFT,
    )  # fmt: skip  (overlaps its source: a topology problem too)
    central_home = Household.objects.filter(grid=grid).order_by("id").first()
    CentralHousehold.objects.filter(household=central_home).delete()
    CentralHousehold.objects.create(household=central_home)  # no links: below the band
    html = client_for("street_admin").get("/work/").content.decode()
    sections = _sections(html)
    assert f'href="/staffing/?grid={grid.pk}"' in sections["staffing"] and "未配网格长" in sections["staffing"]
    assert f'href="/editor/?community={draft.community_id}"' in sections["drafts"]
    assert f'href="/editor/?community={grid.community_id}"' in sections["topology"]
    assert re.search(r"重叠 [1-9]\d* 处", sections["topology"])  # the draft lies over its source grid
    assert central_home.address in sections["central"] and "联系户不足" in sections["central"]
    # Nothing of the other street (small_street) is listed for him.
    for other in small_street["grids"].values():
        assert f'grid={other.pk}"' not in html and other.name not in html


def test_the_work_list_counts_match_the_staffing_rule(client_for, user_for):
    admin = user_for("street_admin")
    html = client_for("street_admin").get("/work/").content.decode()
    listed = _sections(html).get("staffing", "").count("<li>")
    from gridmap.queries.worklist import staffing_items

    staffing, _size = staffing_items(policy.grids_for(admin))
    assert listed == len(staffing)


@pytest.mark.parametrize("role", ["grid_leader", "grid_worker", "planner"])
def test_roles_without_a_work_list_get_the_styled_403(client_for, role):
    response = client_for(role).get("/work/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="error-panel"' in html and "此角色没有待办清单" in html and 'name="viewport"' in html


def test_a_404_is_the_styled_page_with_the_menu_and_a_phone_viewport(client_for):
    response = client_for("street_admin").get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'name="viewport"' in html and 'class="error-panel"' in html and 'class="topnav"' in html
    assert 'href="/work/"' in html  # the menu of the signed-in user


def test_an_anonymous_404_offers_sign_in(client):
    html = client.get("/no-such-page/").content.decode()
    assert 'href="/accounts/login/"' in html and "error-panel" in html


def test_the_print_pages_403_is_the_styled_page_with_its_reason(client_for):
    response = client_for("grid_leader").get("/planner/print/")
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    assert "此角色无权查看规划看板" in response.content.decode() and "error-panel" in response.content.decode()


def test_a_404_under_the_api_stays_the_one_json_shape(client_for):
    response = client_for("street_admin").get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_server_errors_render_without_the_database(rf, django_assert_num_queries):
    from gridmap.views.errors import server_error

    request = rf.get("/map/")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500 and "error-panel" in html and 'name="viewport"' in html


def test_a_lost_database_is_a_503_page_with_retry_after(rf):
    import sys

    from django.db import OperationalError

    from gridmap.views.errors import server_error

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = server_error(rf.get("/map/"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "error-panel" in response.content.decode() and "5" in response.content.decode()


def test_the_api_root_links_every_collection_and_the_docs(client_for):
    body = client_for("planner").get("/api/v1/").json()
    assert set(body["collections"]) == {"streets", "communities", "grids", "stations", "households", "members",
                                        "assignments"}  # fmt: skip
    client = client_for("street_admin")
    for url in (*body["collections"].values(), body["schema"], body["docs"], body["ogc"]):
        assert client.get(url.replace("http://testserver", "")).status_code == 200, url


def test_every_link_in_the_readme_resolves(client_for):
    readme = (ROOT / "README.md").read_text()
    paths = sorted(set(re.findall(r"`(/[a-z0-9_/\-]*/)`", readme)))
    assert "/api/v1/" in paths and "/map/" in paths
    client = client_for("system_admin")
    for path in paths:
        assert client.get(path).status_code in (200, 302), path


def test_the_work_list_counts_the_concerns_waiting_on_a_manager(client_for, user_for):
    import datetime as dt

    from django.utils import timezone

    from gridmap.models import ConcernCategory
    from gridmap.models.concerns import Concern

    grid = policy.grids_for(user_for("street_admin")).published().order_by("code").first()
    made = [Concern.objects.create(category=ConcernCategory.objects.get(code="safety"), description="路灯不亮",
                                   location=grid.boundary.point_on_surface, grid=grid, community=grid.community)
            for _ in range(3)]  # fmt: skip
    Concern.objects.filter(pk=made[0].pk).update(due_at=timezone.now() - dt.timedelta(hours=1), escalated=True)
    section = _sections(client_for("street_admin").get("/work/").content.decode())["concerns"]
    assert 'href="/concerns/"' in section and "3 件待立案，1 件超期，1 件已督办" in section
