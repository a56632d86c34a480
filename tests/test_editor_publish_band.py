"""Publishing asks first (#16 item 8): ``{"preview": true}`` runs the publish's own refusals (gaps and
overlaps, nothing pending, a stale community ETag), writes nothing, and names every pending grid the publish
would leave outside the household band, with its count and which way, by the band rule split and merge use."""

from __future__ import annotations

import json

from gridmap.models import Grid, GridVersion, Household, Role
from tests.test_grid_editing import EAST, EAST1, EAST2, box, client, post, street  # noqa: F401


def _state() -> tuple:
    grids = sorted(Grid.objects.values_list("id", "status", "version", "draft_boundary"))
    homes = sorted(Household.objects.values_list("id", "grid_id"))
    return grids, homes, GridVersion.objects.count()


def test_a_publish_preview_names_the_grids_outside_the_band_and_writes_nothing(street, settings):
    settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX = 2, 3
    admin = client(street["users"][Role.STREET_ADMIN])
    community = street["communities"][EAST].pk
    url = f"/api/v1/communities/{community}/publish"
    got, refused = post(admin, url, {"preview": True})
    assert (got, refused["code"]) == (400, "nothing_to_publish")
    assert post(admin, url, {"preview": "yes"})[0] == 400

    east2 = Grid.objects.get(code=EAST2)
    Household.objects.create(location="SRID=4326;POINT(116.408 39.906)", address="x", head_name="赵六")
    line = {"type": "LineString", "coordinates": [[116.404, 39.905], [116.411, 39.905]]}
    got, parts = post(admin, f"/api/v1/grids/{east2.pk}/split", {"line": line, "version": 1})
    assert got == 200
    small = next(p for p in parts if p["households"] == 1)
    before = _state()
    got, preview = post(admin, url, {"preview": True})
    assert got == 200 and preview["preview"] is True and preview["clean"] is True and preview["pending"] == 2
    assert [(w["code"], w["households"], w["band_side"]) for w in preview["band_warnings"]] == [
        (small["code"], 1, "under")
    ]
    # The warning is the split's own (the one rule), word for word.
    assert preview["band_warnings"][0]["band_warning"] == small["band_warning"]
    assert _state() == before  # nothing applied, no version row, no household re-homed

    settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX = 1, 1
    got, preview = post(admin, url, {"preview": True})
    over = [(w["households"], w["band_side"]) for w in preview["band_warnings"]]
    assert got == 200 and over == [(2, "over")]

    # The hard rule still refuses, in the preview and in the publish: a gap.
    east1 = Grid.objects.get(code=EAST1)
    assert (
        post(
            admin, f"/api/v1/grids/{east1.pk}/boundary", {"geometry": box(116.4, 39.9, 116.404, 39.908), "version": 1}
        )[0]
        == 200
    )
    for body in ({"preview": True}, {}):
        got, refused = post(admin, url, body)
        assert (got, refused["code"]) == (409, "topology_not_clean") and refused["report"]["gaps"]
    got, preview = post(admin, url, {"preview": True, "override_reason": "道路施工"})
    assert got == 200 and preview["clean"] is False and len(preview["band_warnings"]) == 1
    assert _state()[2] == before[2]

    # A stale community ETag (read before the last edit) is 412, preview or not.
    etag = admin.get(f"/api/communities/{community}/grids.geojson").json()["etag"]
    east1.refresh_from_db()
    assert (
        post(
            admin,
            f"/api/v1/grids/{east1.pk}/boundary",
            {"geometry": box(116.4, 39.9, 116.405, 39.908), "version": east1.version},
        )[0]
        == 200
    )
    for body in ({"preview": True}, {}):
        response = admin.post(url, json.dumps(body), content_type="application/json", headers={"If-Match": etag})
        assert response.status_code == 412

    got, published = post(admin, url, {})
    assert got == 200 and published["published"] == 3
