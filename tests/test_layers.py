"""GeoJSON layers for every role, on the demo street: scope, masking, status codes, bad parameters."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model

from gridmap import policy
from gridmap.models import Community, Grid, Household

LAYERS = ["grids", "communities", "stations", "households", "links"]
RESIDENT_LAYERS = {"households", "links"}
UNMASKED_ID = re.compile(r"\d{17}[\dXx]")
UNMASKED_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def layer(client, name, **params):
    return client.get(f"/api/layers/{name}.geojson", params)


@pytest.mark.parametrize("name", LAYERS)
def test_anonymous_users_get_401(client, name):
    response = layer(client, name)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "role", ["system_admin", "street_admin", "community_staff", "grid_leader", "grid_worker", "planner"]
)
@pytest.mark.parametrize("name", LAYERS)
def test_each_role_gets_its_scope_and_never_unmasked_personal_data(client_for, user_for, role, name):
    client, user = client_for(role), user_for(role)
    response = layer(client, name)
    if role == "planner" and name in RESIDENT_LAYERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.content.decode()
    assert not UNMASKED_ID.search(body) and not UNMASKED_PHONE.search(body)
    ids = {f["id"] for f in json.loads(body)["features"]}
    expected = {
        "grids": policy.grids_for(user).published(),
        "communities": policy.communities_for(user),
        "stations": policy.stations_for(user),
        "households": policy.households_for(user),
    }
    if name in expected:
        assert ids == set(expected[name].values_list("id", flat=True))
        assert ids, f"{role} should see some {name} on the demo street"


def test_a_grid_leader_sees_only_the_households_of_his_grid(client_for, user_for):
    leader = user_for("grid_leader")
    features = json.loads(layer(client_for("grid_leader"), "households").content)["features"]
    his_grids = set(
        Grid.objects.filter(assignments__member__user=leader, assignments__end_date__isnull=True).values_list(
            "id", flat=True
        )
    )
    assert len(his_grids) == 1
    assert {f["properties"]["grid_id"] for f in features} == his_grids
    assert len(features) == Household.objects.filter(grid__in=his_grids).count()
    assert len(features) < Household.objects.count() / 10


def test_community_staff_see_their_community_only(client_for, user_for):
    staff = user_for("community_staff")
    grids = json.loads(layer(client_for("community_staff"), "grids").content)["features"]
    codes = {f["properties"]["community_code"] for f in grids}
    assert codes == {staff.profile.community.code}
    assert len(grids) < Grid.objects.count()


def test_grid_properties_carry_staff_and_counts(client_for):
    features = json.loads(layer(client_for("street_admin"), "grids").content)["features"]
    assert len(features) == Grid.objects.published().filter(community__street__code="152922100").count()
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    grid = Grid.objects.published().filter(community__street__code="152922100").order_by("code").first()
    props = by_code[grid.code]
    assert props["households"] == Household.objects.filter(grid=grid).count()
    assert props["name"] == grid.name
    assert sum(1 for p in by_code.values() if p["leader"] is None) == 3
    assert {p["status"] for p in by_code.values()} == {"published"}


def test_links_join_central_households_to_their_neighbours(client_for):
    features = json.loads(layer(client_for("street_admin"), "links").content)["features"]
    assert len(features) >= 5000
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    lengths = sorted(f["properties"]["length_m"] for f in features)
    assert 0 < lengths[len(lengths) // 2] < 300  # neighbours: the median link is short


def test_a_bbox_limits_the_features(client_for):
    client = client_for("street_admin")
    everything = json.loads(layer(client, "households").content)["features"]
    lon, lat = everything[0]["geometry"]["coordinates"]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    some = json.loads(layer(client, "households", bbox=box).content)["features"]
    assert 0 < len(some) < len(everything)
    assert all(
        abs(x - lon) <= 0.001 + 1e-6 and abs(y - lat) <= 0.001 + 1e-6
        for x, y in (f["geometry"]["coordinates"] for f in some)
    )


@pytest.mark.parametrize("bbox", ["NaN,NaN,NaN,NaN", "1,2,3", "a,b,c,d", "10,10,5,5", "-1e308,0,1e308,1", "inf,0,1,1"])
def test_a_malformed_bbox_is_a_400_naming_the_field(client_for, bbox):
    response = layer(client_for("street_admin"), "grids", bbox=bbox)
    assert response.status_code == 400
    assert response.json()["field"] == "bbox"


def test_a_user_without_a_role_sees_nothing(client, db):
    user = get_user_model().objects.create_user("norole", password="x-very-long-pass")
    client.force_login(user)
    assert layer(client, "grids").status_code == 403
    assert client.get("/map/").status_code == 403


def test_a_disabled_user_is_logged_out(client_for, user_for):
    client = client_for("street_admin")
    get_user_model().objects.filter(username="jiedao").update(is_active=False)
    assert layer(client, "grids").status_code == 401


def test_community_and_street_counts_match_the_demo(client_for):
    communities = json.loads(layer(client_for("street_admin"), "communities").content)["features"]
    assert len(communities) == Community.objects.filter(street__code="152922100").count() == 5
    assert sum(f["properties"]["grids"] for f in communities) == 44


def test_every_grid_carries_its_counts_and_staff_and_the_whole_scope_answer_follows_changes(client_for):
    """The grid layer's grouped counts equal the ORM's for every grid, and the whole-scope answer (served from the
    revision-checked cache) shows a new leader and a new central household on the next request."""
    import datetime

    from gridmap.models import AssignmentRole, CentralHousehold, GridAssignment, Member

    client = client_for("street_admin")

    def by_code():
        return {
            f["properties"]["code"]: f["properties"] for f in json.loads(layer(client, "grids").content)["features"]
        }

    before = by_code()
    for grid in Grid.objects.published().filter(code__in=before):
        props = before[grid.code]
        assert props["households"] == grid.households.count()
        assert props["central_households"] == CentralHousehold.objects.filter(household__grid=grid, active=True).count()
        staff = GridAssignment.objects.filter(grid=grid, end_date__isnull=True)
        leaders = sorted(staff.filter(role=AssignmentRole.LEADER).values_list("member__name", flat=True))
        assert props["leader"] == (leaders[0] if leaders else None)
        assert props["workers"] == sorted(
            staff.filter(role=AssignmentRole.FULLTIME).values_list("member__name", flat=True)
        )
    grid = Grid.objects.published().filter(code__in=[c for c, p in before.items() if p["leader"] is None]).first()
    member = Member.objects.create(name="新任网格长", community=grid.community)
    GridAssignment.objects.create(
        member=member, grid=grid, role=AssignmentRole.LEADER, start_date=datetime.date.today()
    )
    household = grid.households.exclude(central__isnull=False).first()
    CentralHousehold.objects.create(household=household)
    after = by_code()[grid.code]
    assert after["leader"] == "新任网格长"
    assert after["central_households"] == before[grid.code]["central_households"] + 1
