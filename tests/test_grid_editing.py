"""Grid editing through the JSON API on the hand-made small street: validator, drafts, 412s, split/merge,
publishing with re-homing, history and restore, and who may do what."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from gridmap.models import AuditEvent, Grid, GridStatus, GridVersion, Household, Profile, Role
from gridmap.services.grids.rehoming import rehome_households

EAST, EAST1, EAST2, WEST1 = "110105001001", "110105001001001", "110105001001002", "110105001002001"


def box(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def street(small_street, django_user_model):
    """The small street with a street admin and an 东社区 staff member, households homed."""
    rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
    users = {}
    for name, role, scope in [
        ("jd_small", Role.STREET_ADMIN, {"street": small_street["street"]}),
        ("sq_small", Role.COMMUNITY_STAFF, {"community": small_street["communities"][EAST]}),
        ("gh_small", Role.PLANNER, {"street": small_street["street"]}),
    ]:
        user = django_user_model.objects.create_user(name, password="x")
        Profile.objects.create(user=user, role=role, **scope)
        users[role] = user
    small_street["users"] = users
    return small_street


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(c: Client, url: str, body) -> tuple[int, dict]:
    """POST as the editor does: the grid's ``version`` as read (or both of a merge) go in ``If-Match``; a
    community's publish or sliver fix sends the ETag of the community's grid layer, read just before."""
    body, headers = dict(body), {}
    if "version" in body:
        headers["If-Match"] = f'"{body.pop("version")}"'
    if "versions" in body:
        versions = body.pop("versions")
        headers["If-Match"] = ", ".join(f'"{versions[str(g)]}"' for g in body["grids"])
    community = re.fullmatch(r"/api/v1/communities/(\d+)/(publish|topology/fix-sliver)", url)
    if community:
        headers["If-Match"] = c.get(f"/api/communities/{community[1]}/grids.geojson").json()["etag"]
    response = c.post(url, json.dumps(body), content_type="application/json", headers=headers)
    return response.status_code, response.json()


def counts() -> tuple[int, int, int]:
    return Grid.objects.count(), GridVersion.objects.count(), Household.objects.exclude(grid=None).count()


@pytest.mark.parametrize(
    ("geometry", "status", "code"),
    [
        (
            box(116.401, 39.901, 116.402, 39.902)
            | {
                "coordinates": [
                    [[116.401, 39.901], [116.402, 39.902], [116.402, 39.901], [116.401, 39.902], [116.401, 39.901]]
                ]
            },
            400,
            "self_intersection",
        ),
        ({"type": "Point", "coordinates": [116.401, 39.901]}, 400, "geometry_type"),
        ({"type": "GeometryCollection", "geometries": []}, 400, "geometry_type"),
        ({"type": "Polygon", "coordinates": []}, 400, "empty"),
        (box(200, 39.901, 201, 39.902), 400, "out_of_range"),
        (box(500000, 4400000, 500100, 4400100), 400, "looks_projected"),
        (box(116.5, 39.95, 116.51, 39.96), 400, "far_from_street"),
        (box(116.409, 39.901, 116.412, 39.902), 400, "outside_community"),
        (
            {"type": "Polygon", "coordinates": [[[116.401, 39.901], [116.402, 39.901], [116.401, 39.901]]]},
            400,
            "ring_too_few_positions",
        ),
        (
            {"type": "Polygon", "coordinates": [[[116.401 + i * 1e-9, 39.901] for i in range(1_000_000)]]},
            413,
            "too_large",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.401, 39.901], [116.402, 39.901], [116.402, 39.902], [116.401, 39.902]]],
            },
            400,
            "ring_not_closed",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[116.401, 39.901], [116.402, 39.901], [116.402, 39.902], [116.401, 39.901]],
                    [[116.403, 39.903], [116.404, 39.903], [116.404, 39.904], [116.403, 39.903]],
                ],
            },
            400,
            "hole_lies_outside_shell",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.401, 39.901], [116.402, 39.901], [116.403, 39.901], [116.401, 39.901]]],
            },
            400,
            "zero_area",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.401, 39.901], [116.402, 39.901], [116.402, "1e400"], [116.401, 39.901]]],
            },
            400,
            "not_a_number",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[116.401, 39.901, 5], [116.402, 39.901, 5], [116.402, 39.902, 5], [116.401, 39.901, 5]]]
                ],
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
            },
            400,
            "crs_not_wgs84",
        ),
    ],
)
def test_hostile_geometries_get_a_4xx_naming_the_reason_and_change_nothing(street, geometry, status, code):
    before = counts()
    got, body = post(
        client(street["users"][Role.STREET_ADMIN]),
        "/api/v1/grids/drafts",
        {"community": street["communities"][EAST].pk, "geometry": geometry},
    )
    assert (got, body["code"]) == (status, code)
    assert body["detail"] and body["field"] in ("geometry", "body")
    assert counts() == before


def test_a_reason_names_the_location(street):
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[116.401, 39.901], [116.402, 39.902], [116.402, 39.901], [116.401, 39.902], [116.401, 39.901]]
        ],
    }
    _, body = post(
        client(street["users"][Role.STREET_ADMIN]),
        "/api/v1/grids/check",
        {"community": street["communities"][EAST].pk, "geometry": bow_tie},
    )
    assert body["detail"] == "自相交，位置 116.401500 39.901500"
    assert body["location"] == pytest.approx([116.4015, 39.9015])


def test_malformed_bodies_are_400_415_or_428_never_500(street):
    c = client(street["users"][Role.STREET_ADMIN])
    grid = street["grids"][EAST1]
    current = {"If-Match": '"1"'}
    assert (
        c.post(f"/api/v1/grids/{grid.pk}/boundary", "{", content_type="application/json", headers=current).status_code
        == 400
    )
    assert (
        c.post(f"/api/v1/grids/{grid.pk}/boundary", "a=b", content_type="text/plain", headers=current).status_code
        == 415
    )
    got, body = post(c, f"/api/v1/grids/{grid.pk}/boundary", {"geometry": box(116.4, 39.9, 116.405, 39.908)})
    assert (got, body["code"], body["field"]) == (428, "precondition_required", "If-Match")
    assert post(c, "/api/v1/grids/99999999/boundary", {"version": 1})[0] == 404


def test_an_overlapping_grid_is_refused_with_the_overlap_on_the_map_then_clipped_on_request(street):
    c = client(street["users"][Role.STREET_ADMIN])
    body = {"community": street["communities"][EAST].pk, "geometry": box(116.404, 39.9, 116.406, 39.902)}
    got, refused = post(c, "/api/v1/grids/drafts", body)
    assert got == 409 and refused["code"] == "overlaps_siblings"
    assert {o["code"] for o in refused["overlaps"]} == {EAST1, EAST2}
    assert all(o["area_m2"] > 1 for o in refused["overlaps"]) and refused["geometry"]["type"] in (
        "Polygon",
        "MultiPolygon",
    )
    got, created = post(c, "/api/v1/grids/drafts", body | {"clip": True})
    assert (got, created["code"]) == (400, "clip_leaves_nothing")  # wholly inside the neighbours: nothing left
    assert "不勾选裁剪" in created["detail"]
    assert Grid.objects.filter(status=GridStatus.DRAFT).count() == 0
    east2 = street["grids"][EAST2]
    assert (
        post(c, f"/api/v1/grids/{east2.pk}/boundary", {"geometry": box(116.4055, 39.9, 116.41, 39.908), "version": 1})[
            0
        ]
        == 200
    )
    got, created = post(c, "/api/v1/grids/drafts", body | {"clip": True})
    assert got == 201 and created["clipped_m2"] > 1
    assert Grid.objects.get(pk=created["id"]).boundary.extent == pytest.approx((116.405, 39.9, 116.4055, 39.902))


def test_a_second_saver_of_the_same_version_gets_412_and_the_first_edit_is_kept(street):
    grid = street["grids"][EAST1]
    first = client(street["users"][Role.STREET_ADMIN])
    second = client(street["users"][Role.COMMUNITY_STAFF])
    shrunk = box(116.4, 39.9, 116.404, 39.908)
    assert post(first, f"/api/v1/grids/{grid.pk}/boundary", {"geometry": shrunk, "version": 1})[0] == 200
    got, body = post(
        second, f"/api/v1/grids/{grid.pk}/boundary", {"geometry": box(116.4, 39.9, 116.403, 39.908), "version": 1}
    )
    assert got == 412 and body["code"] == "precondition_failed" and body["etag"] == '"2"'
    assert "jd_small" in body["detail"] and "第 2 版" in body["detail"] and "没有丢失" in body["detail"]
    assert body["current"]["version"] == 2
    grid.refresh_from_db()
    assert grid.version == 2 and grid.draft_boundary.extent == pytest.approx((116.4, 39.9, 116.404, 39.908))
    assert grid.boundary.extent == pytest.approx((116.4, 39.9, 116.405, 39.908))  # published shape untouched


def test_split_then_merge_gives_the_original_grid_back_with_the_same_households(street):
    c = client(street["users"][Role.STREET_ADMIN])
    grid = street["grids"][EAST2]
    Household.objects.create(location="SRID=4326;POINT(116.408 39.906)", address="x", head_name="赵六")
    original = Household.objects.filter(location__intersects=grid.boundary).count()
    line = {"type": "LineString", "coordinates": [[116.404, 39.905], [116.411, 39.905]]}
    got, parts = post(c, f"/api/v1/grids/{grid.pk}/split", {"line": line, "version": 1})
    assert got == 200 and len(parts) == 2
    assert parts[0]["households"] + parts[1]["households"] == original == 3
    new = Grid.objects.get(pk=parts[1]["id"])
    assert new.status == GridStatus.DRAFT and new.code == "110105001001003"
    got, merged = post(
        c, "/api/v1/grids/merge", {"grids": [grid.pk, new.pk], "versions": {str(grid.pk): 2, str(new.pk): 1}}
    )
    assert got == 200 and merged["households"] == original
    grid.refresh_from_db()
    assert grid.draft_boundary.sym_difference(grid.boundary).area < 1e-12
    new.refresh_from_db()
    assert new.status == GridStatus.RETIRED


def test_publishing_applies_drafts_rehomes_only_the_changed_area_and_writes_history(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    east1, east2 = street["grids"][EAST1], street["grids"][EAST2]
    west_household = street["households"]["west"]  # at 116.402: moves from EAST1 to EAST2
    moved_edge = 116.401
    assert (
        post(
            admin,
            f"/api/v1/grids/{east1.pk}/boundary",
            {"geometry": box(116.4, 39.9, moved_edge, 39.908), "version": 1},
        )[0]
        == 200
    )
    got, body = post(admin, f"/api/v1/communities/{street['communities'][EAST].pk}/publish", {})
    assert got == 409 and body["code"] == "topology_not_clean" and body["report"]["gaps"]
    assert Household.objects.get(pk=west_household.pk).grid_id == east1.pk  # nothing applied
    assert (
        post(
            admin,
            f"/api/v1/grids/{east2.pk}/boundary",
            {"geometry": box(moved_edge, 39.9, 116.41, 39.908), "version": 1},
        )[0]
        == 200
    )
    got, body = post(admin, f"/api/v1/communities/{street['communities'][EAST].pk}/publish", {"reason": "调整"})
    assert got == 200 and body["published"] == 2 and body["rehomed"] == 2  # "west" and "edge"
    assert Household.objects.get(pk=west_household.pk).grid_id == east2.pk
    east1.refresh_from_db()
    assert east1.draft_boundary is None and east1.version == 3
    numbers = list(GridVersion.objects.filter(grid=east1).values_list("number", "created_by__username"))
    assert numbers == [(3, "jd_small"), (1, None)]  # baseline of the pre-history shape, then the publish
    got, diff = (
        admin.get(f"/api/grids/{east1.pk}/versions/3/diff").status_code,
        admin.get(f"/api/grids/{east1.pk}/versions/3/diff").json(),
    )
    assert got == 200 and {h["change"] for h in diff["households"]} == {"left"}
    assert {h["address"] for h in diff["households"]} >= {"东社区一号"}
    assert diff["old"]["number"] == 1 and diff["households"][0]["head_name"].endswith("*")


def test_publishing_with_an_override_keeps_the_reason_and_restore_brings_an_old_boundary_back(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    east1 = street["grids"][EAST1]
    community = street["communities"][EAST].pk
    post(admin, f"/api/v1/grids/{east1.pk}/boundary", {"geometry": box(116.4, 39.9, 116.404, 39.908), "version": 1})
    got, body = post(admin, f"/api/v1/communities/{community}/publish", {"override_reason": "道路施工，暂留缝隙"})
    assert got == 200 and body["clean"] is False
    assert "道路施工" in GridVersion.objects.get(grid=east1, number=3).reason
    event = AuditEvent.objects.get(action="publish", object_type="community", object_id=str(community))
    assert event.username == "jd_small" and "道路施工" in event.reason
    got, restored = post(admin, f"/api/v1/grids/{east1.pk}/versions/1/restore", {"version": 3})
    assert got == 200 and restored["version"] == 4
    assert post(admin, f"/api/v1/communities/{community}/publish", {})[0] == 200  # clean again
    east1.refresh_from_db()
    assert east1.boundary.extent == pytest.approx((116.4, 39.9, 116.405, 39.908))
    assert [v["number"] for v in admin.get(f"/api/grids/{east1.pk}/history").json()["versions"]] == [5, 3, 1]


def test_community_staff_edit_drafts_but_cannot_publish_and_readers_cannot_write(street):
    staff = client(street["users"][Role.COMMUNITY_STAFF])
    planner = client(street["users"][Role.PLANNER])
    east = street["communities"][EAST].pk
    new = box(116.4, 39.9, 116.401, 39.901)
    post(
        client(street["users"][Role.STREET_ADMIN]),
        f"/api/v1/grids/{street['grids'][EAST1].pk}/boundary",
        {
            "geometry": box(116.401, 39.9, 116.405, 39.908)
            | {
                "coordinates": [
                    [
                        [116.401, 39.9],
                        [116.405, 39.9],
                        [116.405, 39.908],
                        [116.4, 39.908],
                        [116.4, 39.901],
                        [116.401, 39.901],
                        [116.401, 39.9],
                    ]
                ]
            },
            "version": 1,
        },
    )
    got, created = post(staff, "/api/v1/grids/drafts", {"community": east, "geometry": new})
    assert got == 201 and created["status"] == "draft"
    assert post(staff, f"/api/v1/communities/{east}/publish", {})[0] == 403
    assert post(planner, "/api/v1/grids/drafts", {"community": east, "geometry": new})[0] == 403
    assert post(planner, f"/api/v1/grids/{created['id']}/retire", {"version": 1})[0] == 403  # sees it, may not write
    west_grid = street["grids"][WEST1]
    assert post(staff, f"/api/v1/grids/{west_grid.pk}/retire", {"version": 1})[0] == 404  # other community
    assert (
        post(staff, "/api/v1/grids/drafts", {"community": street["communities"][WEST1[:12]].pk, "geometry": new})[0]
        == 404
    )
    assert Client().post("/api/v1/grids/drafts", "{}", content_type="application/json").status_code == 401


@pytest.mark.parametrize("role", ["grid_leader", "grid_worker", "planner"])
def test_demo_readers_get_403_on_writes(client_for, role):
    from django.contrib.auth import get_user_model

    from gridmap import policy

    user = get_user_model().objects.get(
        username={"grid_leader": "wanggezhang", "grid_worker": "wanggeyuan", "planner": "guihua"}[role]
    )
    community = policy.communities_for(user).first()
    got, body = post(client_for(role), "/api/v1/grids/drafts", {"community": community.pk, "geometry": box(0, 0, 1, 1)})
    assert got == 403 and body["code"] == "forbidden"
    assert post(client_for(role), f"/api/v1/communities/{community.pk}/publish", {})[0] == 403


def test_retiring_a_published_grid_waits_for_publishing(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    west = street["grids"][WEST1]
    got, body = post(admin, f"/api/v1/grids/{west.pk}/retire", {"version": 1})
    assert got == 200 and body["retire_on_publish"] and body["status"] == "published"
    got, body = post(admin, f"/api/v1/communities/{west.community_id}/publish", {"override_reason": "撤销网格"})
    assert got == 200
    west.refresh_from_db()
    assert west.status == GridStatus.RETIRED
    assert Household.objects.get(pk=street["households"]["other"].pk).grid is None


def test_a_planner_sees_the_boundary_diff_without_resident_rows(street):
    admin = client(street["users"][Role.STREET_ADMIN])
    east1 = street["grids"][EAST1]
    post(admin, f"/api/v1/grids/{east1.pk}/boundary", {"geometry": box(116.4, 39.9, 116.404, 39.908), "version": 1})
    assert post(admin, f"/api/v1/communities/{east1.community_id}/publish", {"override_reason": "测试"})[0] == 200
    response = client(street["users"][Role.PLANNER]).get(f"/api/grids/{east1.pk}/versions/3/diff")
    assert response.status_code == 200 and response.json()["households"] == []
    assert response.json()["old"]["number"] == 1


def test_the_editor_page_loads_geoman_locally_and_speaks_english_second(street, settings):
    c = client(street["users"][Role.STREET_ADMIN])
    body = c.get("/editor/").content.decode()
    assert "vendor/geoman/leaflet-geoman.min.js" in body and "画新网格" in body and "https://" not in body
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Draw a grid" in c.get("/editor/").content.decode()
    got, body = post(
        c,
        "/api/v1/grids/drafts",
        {"community": street["communities"][EAST].pk, "geometry": {"type": "Point", "coordinates": [116.401, 39.901]}},
    )
    assert got == 400 and body["detail"].startswith("Only Polygon or MultiPolygon")
    assert client(street["users"][Role.PLANNER]).get("/editor/").status_code == 403


def test_the_admin_form_uses_the_same_validator(street):
    from gridmap.admin import GridAdminForm

    grid = street["grids"][EAST1]
    base = {"code": grid.code, "name": grid.name, "community": grid.community_id, "status": grid.status}
    bow_tie = "SRID=4326;MULTIPOLYGON(((116.401 39.901,116.402 39.902,116.402 39.901,116.401 39.902,116.401 39.901)))"
    form = GridAdminForm(data={**base, "boundary": bow_tie}, instance=grid)
    assert not form.is_valid() and "自相交" in form.errors["boundary"][0]
    overlap = "SRID=4326;MULTIPOLYGON(((116.4 39.9,116.406 39.9,116.406 39.908,116.4 39.908,116.4 39.9)))"
    form = GridAdminForm(data={**base, "boundary": overlap}, instance=grid)
    assert not form.is_valid() and "与相邻网格重叠" in form.errors["boundary"][0]
    same = "SRID=4326;MULTIPOLYGON(((116.4 39.9,116.405 39.9,116.405 39.908,116.4 39.908,116.4 39.9)))"
    assert GridAdminForm(data={**base, "boundary": same}, instance=grid).is_valid()


def test_z_coordinates_are_dropped_and_the_shape_saved_in_2d(street):
    c = client(street["users"][Role.STREET_ADMIN])
    grid = street["grids"][EAST1]
    with_z = {
        "type": "Polygon",
        "coordinates": [
            [
                [x, y, 1500.0]
                for x, y in [(116.4, 39.9), (116.405, 39.9), (116.405, 39.908), (116.4, 39.908), (116.4, 39.9)]
            ]
        ],
    }
    got, body = post(c, f"/api/v1/grids/{grid.pk}/boundary", {"geometry": with_z, "version": 1})
    assert got == 200
    grid.refresh_from_db()
    assert not grid.draft_boundary.hasz and grid.draft_boundary.valid


def test_an_unknown_geos_reason_is_shown_translated_with_its_words_and_place(street, monkeypatch):
    # GEOS 3.14 words a nested hole "Holes are nested"; the catalogue has no such code: a generic reason.
    import geodata.validation

    monkeypatch.setattr(
        geodata.validation.shapely, "is_valid_reason", lambda geom: "Holes are nested[116.4015 39.9015]"
    )
    body = {"community": street["communities"][EAST].pk, "geometry": box(116.401, 39.901, 116.402, 39.902)}
    got, refused = post(client(street["users"][Role.STREET_ADMIN]), "/api/v1/grids/check", body)
    assert (got, refused["code"], refused["geos_reason"]) == (400, "invalid_geometry", "holes_are_nested")
    assert refused["detail"] == "几何无效，位置 116.401500 39.901500（Holes are nested）"
    english = client(street["users"][Role.STREET_ADMIN])
    english.cookies["django_language"] = "en"
    response = english.post(
        "/api/v1/grids/check", json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["detail"].startswith("Invalid geometry at 116.401500 39.901500")
