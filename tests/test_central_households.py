"""Party-member central households: designate, suggest the nearest unlinked households, link, warn."""

from __future__ import annotations

import pytest
from django.db import connection

from gridmap.models import CentralHousehold, CentralLink, Household
from tests.people_support import etag, leader_grid, post


@pytest.fixture
def grid(user_for):
    return leader_grid(user_for("community_staff"))


@pytest.fixture
def party_household(grid):
    """A party-member household of the grid that is neither central nor linked."""
    return (
        Household.objects.filter(grid=grid, is_party_member=True, central__isnull=True, central_link__isnull=True)
        .order_by("id")
        .first()
    )


def test_only_a_party_member_household_can_be_central(client_for, grid):
    plain = Household.objects.filter(grid=grid, is_party_member=False, central_link__isnull=True).first()
    response = post(client_for("community_staff"), f"/api/v1/households/{plain.pk}/central")
    assert response.status_code == 409 and response.json()["code"] == "not_party_member"


def test_a_grid_leader_may_not_designate(client_for, user_for, party_household):
    leader_household = Household.objects.filter(
        grid=leader_grid(user_for("grid_leader")), is_party_member=True, central_link__isnull=True, central__isnull=True
    ).first()
    assert post(client_for("grid_leader"), f"/api/v1/households/{leader_household.pk}/central").status_code == 403


def test_suggestions_are_the_nearest_unlinked_households_of_the_grid(client_for, grid, party_household):
    client = client_for("community_staff")
    assert post(client, f"/api/v1/households/{party_household.pk}/central").status_code == 201
    suggestions = client.get(f"/api/v1/households/{party_household.pk}/central/suggestions").json()["suggestions"]
    assert len(suggestions) == 10
    distances = [s["distance_m"] for s in suggestions]
    assert distances == sorted(distances)
    ids = [s["household_id"] for s in suggestions]
    assert set(Household.objects.filter(pk__in=ids).values_list("grid_id", flat=True)) == {grid.pk}
    assert not CentralLink.objects.filter(household_id__in=ids).exists()
    # The same ranking computed independently: geodesic distance to every unlinked household of the grid.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT max(d) FROM (SELECT ST_Distance(h.location::geography, c.location::geography) d
              FROM gridmap_household h, gridmap_household c WHERE c.id = %s AND h.grid_id = %s AND h.id <> c.id
               AND h.id NOT IN (SELECT household_id FROM gridmap_centrallink)
               AND h.id NOT IN (SELECT household_id FROM gridmap_centralhousehold WHERE active)
             ORDER BY 1 LIMIT 10) t""",
            [party_household.pk, grid.pk],
        )
        assert abs(cursor.fetchone()[0] - distances[-1]) < 0.1

    response = post(
        client,
        f"/api/v1/households/{party_household.pk}/central/links",
        {"household_ids": ids},
        if_match=etag("central", party_household.pk),
    )
    assert response.status_code == 201 and response.json()["links"] == 10
    assert client.get(f"/api/v1/households/{party_household.pk}/central/suggestions").json()["suggestions"] == []
    again = post(
        client,
        f"/api/v1/households/{party_household.pk}/central/links",
        {"household_ids": ids[:1]},
        if_match=etag("central", party_household.pk),
    )
    assert again.status_code == 409 and again.json()["ids"] == ids[:1]
    page = client.get(f"/api/grids/{grid.pk}/households.json").json()
    assert sum(1 for c, h, d in page["links"] if c == party_household.pk) == 10


def test_overload_and_long_links_are_warnings_not_refusals(client_for, grid, party_household, settings):
    settings.LINK_DISTANCE_MAX_M = 1
    settings.CENTRAL_LINKS_MAX = 2
    client = client_for("community_staff")
    post(client, f"/api/v1/households/{party_household.pk}/central")
    ids = list(
        Household.objects.filter(grid=grid, central_link__isnull=True, central__isnull=True)
        .exclude(pk=party_household.pk)
        .values_list("pk", flat=True)[:3]
    )
    response = post(
        client,
        f"/api/v1/households/{party_household.pk}/central/links",
        {"household_ids": ids},
        if_match=etag("central", party_household.pk),
    )
    assert response.status_code == 201
    codes = {w["code"] for w in response.json()["warnings"]}
    assert {"overloaded", "long_links"} <= codes


def test_links_outside_scope_are_404_and_bad_lists_400(client_for, grid, party_household, small_street):
    client = client_for("community_staff")
    post(client, f"/api/v1/households/{party_household.pk}/central")
    outside = (
        small_street["households"]["a"].pk
        if "a" in small_street["households"]
        else next(iter(small_street["households"].values())).pk
    )
    response = post(
        client,
        f"/api/v1/households/{party_household.pk}/central/links",
        {"household_ids": [outside]},
        if_match=etag("central", party_household.pk),
    )
    assert response.status_code == 404 and response.json()["ids"] == [outside]
    for bad in ([], "1", [True], [-1], list(range(1, 200))):
        assert (
            post(
                client,
                f"/api/v1/households/{party_household.pk}/central/links",
                {"household_ids": bad},
                if_match=etag("central", party_household.pk),
            ).status_code
            == 400
        )


def test_retiring_a_central_household_frees_its_links(client_for, grid, party_household):
    client = client_for("community_staff")
    post(client, f"/api/v1/households/{party_household.pk}/central")
    ids = [
        s["household_id"]
        for s in client.get(f"/api/v1/households/{party_household.pk}/central/suggestions").json()["suggestions"]
    ]
    post(
        client,
        f"/api/v1/households/{party_household.pk}/central/links",
        {"household_ids": ids},
        if_match=etag("central", party_household.pk),
    )
    assert (
        client.delete(
            f"/api/v1/households/{party_household.pk}/central",
            headers={"If-Match": etag("central", party_household.pk)},
        ).json()["removed_links"]
        == 10
    )
    assert not CentralHousehold.objects.get(household=party_household).active
    assert not CentralLink.objects.filter(household_id__in=ids).exists()
