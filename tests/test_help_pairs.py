"""Help pairs (帮扶对子) on the grid leader's household card: pairing with a member of the grid or a unit
through the help-pair endpoint, the card listing the current pairs, and the form in /my-grid/."""

from __future__ import annotations

import os

import pytest

from gridmap import policy
from gridmap.models import GridAssignment, HelpPair, Member
from tests.people_support import etag, household_in, leader_grid, post

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def leader(user_for):
    return user_for("grid_leader")


@pytest.fixture
def own(leader):
    return household_in(leader_grid(leader))


def _grid_member(leader) -> Member:
    """A member serving in the leader's grid (other than himself)."""
    grid = leader_grid(leader)
    ids = GridAssignment.objects.active().filter(grid=grid).exclude(member__user=leader).values("member_id")
    return (
        Member.objects.filter(pk__in=ids).order_by("id").first()
        or policy.members_for(leader).exclude(user=leader).order_by("id").first()
    )


def test_a_leader_pairs_a_household_with_a_member_and_a_unit_and_the_card_lists_both(client_for, leader, own):
    client = client_for("grid_leader")
    member = _grid_member(leader)
    response = post(
        client, f"/api/v1/households/{own.pk}/help-pairs", {"member": member.pk, "start_date": "2026-03-01"}
    )
    assert response.status_code == 201 and response.json()["member"] == member.pk
    assert (
        post(
            client, f"/api/v1/households/{own.pk}/help-pairs", {"unit": "区税务局", "start_date": "2026-03-02"}
        ).status_code
        == 201
    )
    pairs = client.get(f"/api/v1/households/{own.pk}/card").json()["help_pairs"]
    assert {(p["member"], p["unit"]) for p in pairs} >= {(member.name, ""), (None, "区税务局")}
    ended = next(p for p in pairs if p["unit"] == "区税务局")

    def end(date: str):  # as the card ends it: with the pair's current ETag
        url = f"/api/v1/help-pairs/{ended['id']}/end"
        return post(client, url, {"end_date": date}, if_match=etag("help_pair", ended["id"]))

    assert end("2026-03-01").status_code == 400  # before the pair began (2026-03-02)
    assert end("2026-04-01").status_code == 200
    again = end("2026-04-02")
    assert again.status_code == 409 and again.json()["code"] == "already_ended"
    listed = client.get(f"/api/v1/households/{own.pk}/card").json()["help_pairs"]
    assert all(p["id"] != ended["id"] for p in listed)  # the card lists current pairs only


def test_a_member_outside_the_leaders_scope_is_404_and_grid_workers_may_not_pair(client_for, own, small_street):
    stranger = Member.objects.create(name="外街道人员", community=next(iter(small_street["communities"].values())))
    before = HelpPair.objects.count()
    response = post(
        client_for("grid_leader"),
        f"/api/v1/households/{own.pk}/help-pairs",
        {"member": stranger.pk, "start_date": "2026-03-01"},
    )
    assert response.status_code == 404 and response.json()["field"] == "member"
    response = post(
        client_for("grid_worker"),
        f"/api/v1/households/{own.pk}/help-pairs",
        {"unit": "区人民医院", "start_date": "2026-03-01"},
    )
    assert response.status_code == 403
    assert HelpPair.objects.count() == before


@pytest.mark.parametrize("role,flag", [("grid_leader", "1"), ("grid_worker", "0"), ("community_staff", "1")])
def test_the_page_offers_the_form_to_those_who_may_pair(client_for, role, flag):
    body = client_for(role).get("/my-grid/").content.decode()
    assert f'data-can-pair="{flag}"' in body and "gridmap/help_pairs" in body


@pytest.mark.browser
def test_the_leader_pairs_a_household_from_the_card_in_the_browser(browser, live_app, leader, own):
    from tests.test_people_browser import _login, committed_cleanup

    member = _grid_member(leader)
    with committed_cleanup("gridmap_helppair"):
        view = _login(
            browser, live_app, "wanggezhang", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = view.page
        page.goto(live_app + f"/my-grid/households/{own.pk}/")
        page.wait_for_selector("#hh-card .pair-form[data-loaded]")
        page.fill("#hh-card .pair-search", member.pinyin_initials)
        page.wait_for_selector(f"#hh-card .pair-form[data-loaded='{member.pinyin_initials}']")
        page.select_option("#hh-card select[name=member]", str(member.pk))
        page.click("#hh-card .pair-form button[type=submit]")
        page.locator("#hh-card .help-pairs li[data-pair]", has_text=member.name).wait_for()
        page.locator("#hh-card .pair-form").scroll_into_view_if_needed()
        page.screenshot(
            path=str(os.path.join(os.path.dirname(__file__), "..", "test-artifacts", "my_grid_help_pair.png"))
        )
        assert HelpPair.objects.filter(household=own, member=member, end_date=None).count() == 1  # committed
        assert view.outside == [] and view.csp_violations == []
        view.context.close()
