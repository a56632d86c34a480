"""Never a 500 for bad input (Trust finding 10): each of the eight causes the outside tester found, and the
class over every URL: NUL and lone surrogates in any query parameter, form field or JSON string, JSON nested
past the cap, numbers past the database's range, damaged archives and unreadable geometry get a 4xx naming
the reason, and nothing is written.

One gate: the JSON parser (geodata.validation.load_json, also DRF's through jsonapi.BodyParser), the input
gate middleware (query and form fields; a library's exception on bad input that slipped past becomes a 400),
and the one polygon validator for the planner's selection."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.db import connection
from django.urls import reverse

from gridmap import policy
from gridmap.api.schema import json_endpoints, routes
from gridmap.models import Household
from tests.exchange_support import upload, zipped
from tests.people_support import etag, post

DEEP = "[" * 100_000 + "]" * 100_000
SURROGATE = '{"name": "a\\ud800b", "address": "a\\ud800b", "reason": "a\\ud800b", "note": "a\\ud800b"}'
NUL = '{"name": "a\\u0000b", "address": "a\\u0000b", "reason": "a\\u0000b", "note": "a\\u0000b"}'
TABLES = ("gridmap_household", "gridmap_grid", "gridmap_servicestation", "gridmap_member", "gridmap_stationproposal")


def _fingerprint() -> list:
    with connection.cursor() as cursor:
        cursor.execute(  # one array in TABLES' order (a UNION ALL's rows come in no set order)
            "SELECT ARRAY["
            + ", ".join(
                f"(SELECT count(*)::text || coalesce(md5(string_agg(t::text, '' ORDER BY t.id)), '') FROM {t} t)"
                for t in TABLES
            )
            + "]"
        )
        return cursor.fetchone()[0]


def _url(pattern) -> str:
    kwargs = {name: (1 if conv.__class__.__name__ == "IntConverter" else "x")
              for name, conv in pattern.pattern.converters.items()}  # fmt: skip
    return reverse(pattern.name, kwargs=kwargs)


def test_deep_json_to_a_rest_write_is_400_too_deep(client_for, user_for):
    household = policy.households_for(user_for("grid_leader")).exclude(grid=None).order_by("pk").first()
    response = client_for("grid_leader").patch(
        f"/api/v1/households/{household.pk}/", DEEP, content_type="application/json",
        headers={"If-Match": etag("household", household.pk)},
    )  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (400, "too_deep")


@pytest.mark.parametrize(("text", "code"), [("a\ud800b", "lone_surrogate"), ("a\x00b", "nul_byte")])
def test_unstorable_text_in_a_household_edit_is_named_on_both_ways_in(client_for, user_for, text, code):
    client = client_for("grid_leader")
    household = policy.households_for(user_for("grid_leader")).exclude(grid=None).order_by("pk").first()
    before = Household.objects.filter(pk=household.pk).values().get()
    for url in (f"/api/v1/households/{household.pk}/card", f"/api/v1/households/{household.pk}/"):
        response = post(client, url, {"address": text}, "patch", if_match=etag("household", household.pk))
        assert (response.status_code, response.json()["code"], response.json()["field"]) == (400, code, "address")
    assert Household.objects.filter(pk=household.pk).values().get() == before


@pytest.mark.parametrize("text", ["a\ud800b", "a\x00b"])
def test_unstorable_text_in_a_visit_note_a_reveal_reason_and_a_proposal_name_is_refused(client_for, user_for, text):
    leader = client_for("grid_leader")
    household = policy.households_for(user_for("grid_leader")).exclude(grid=None).order_by("pk").first()
    before = _fingerprint()
    answers = [
        post(leader, f"/api/v1/households/{household.pk}/visits", {"visited_on": "2026-12-01", "note": text}),
        post(leader, f"/api/v1/households/{household.pk}/reveal", {"reason": text}),
        post(client_for("planner"), "/api/v1/planner/proposals", {"name": text, "stations": []}),
    ]
    assert [(a.status_code, a.json()["field"]) for a in answers] == [(400, "note"), (400, "reason"), (400, "name")]
    assert _fingerprint() == before


def test_the_member_search_refuses_nul_and_a_page_past_the_range(client_for):
    client = client_for("street_admin")
    nul = client.get("/api/v1/member-registry?q=%00")
    assert (nul.status_code, nul.json()["code"], nul.json()["field"]) == (400, "nul_byte", "q")
    far = client.get(f"/api/v1/member-registry?page={2**63}")
    assert (far.status_code, far.json()["field"]) == (400, "page")


@pytest.mark.parametrize(
    "polygon",
    [
        {"type": "Polygon", "coordinates": [[[1, 2], [3]]]},
        {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.5, 39.9], [116.4, 39.9]]]},
        {"type": "Polygon", "coordinates": "x"},
        {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
        "POLYGON((",
    ],
)
def test_a_malformed_selection_polygon_is_a_400_naming_polygon(client_for, polygon):
    response = post(client_for("planner"), "/api/planner/selection.json", {"polygon": polygon})
    assert response.status_code == 400 and response.json()["field"] == "polygon", response.content


def _damaged_deflate() -> bytes:
    noise = bytes((i * 7919) % 251 for i in range(5000))  # compresses little: no bomb, just damage
    data = bytearray(zipped({"c.shp": noise, "c.shx": noise[:100], "c.dbf": noise[:100]}))
    start = data.index(b"c.shp") + len(b"c.shp")
    data[start + 5 : start + 25] = b"\xff" * 20  # inside the first entry's deflate stream
    return bytes(data)


def _lying_entry() -> bytes:
    """An entry whose header declares 10 bytes but which inflates to a megabyte."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("c.shp", b"\x00" * 1_000_000)
        archive.writestr("c.shx", b"\x00" * 100)
        archive.writestr("c.dbf", b"\x00" * 100)
    data = bytearray(raw.getvalue())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # local and central headers of the first entry
        at = data.index(header)
        size_at = at + (22 if header == b"PK\x03\x04" else 24)
        data[size_at : size_at + 4] = (10).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "codes"), [(_damaged_deflate(), {"unreadable_file"}), (_lying_entry(), {"zip_bomb", "unreadable_file"})]
)
def test_a_damaged_zip_is_refused_by_every_geo_import(client_for, user_for, data, codes):
    admin = client_for("street_admin")
    community = policy.grid_edit_communities_for(user_for("street_admin")).order_by("code").first()
    before = _fingerprint()
    answers = [upload(admin, layer, data, "c.zip", dry_run="0") for layer in ("communities", "stations")]
    answers.append(admin.post(f"/api/v1/communities/{community.pk}/grid-import", {"file": io.BytesIO(data)}))
    for answer in answers:
        assert 400 <= answer.status_code < 500 and answer.json()["code"] in codes, answer.content
    assert _fingerprint() == before


def test_a_nul_in_a_form_field_is_named_before_any_view(client_for):
    answer = upload(client_for("street_admin"), "stations", b"name,lon,lat\n", "s.csv", source_crs="WGS\x0084")
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (400, "nul_byte", "source_crs")


HOSTILE_QUERY = "?q=%00&page=9223372036854775808&bbox=1,2,3,%00&grid=%ED%A0%80&format=%00&id=-1"


@pytest.mark.parametrize("role", ["street_admin", "planner", "grid_leader"])
def test_no_url_answers_a_hostile_query_with_a_5xx(client_for, role):
    client = client_for(role)
    failures = []
    for _route, pattern in routes():
        if pattern.name in ("logout",) or not pattern.name:
            continue
        try:
            url = _url(pattern)
        except Exception:  # a pattern reverse() cannot fill with 1 / "x" (regex routes of the admin)
            continue
        response = client.get(url + HOSTILE_QUERY)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
    assert failures == []


JSON_WRITES = [(route, p) for route, p in json_endpoints() if p.callback.creates or p.callback.reads]


@pytest.mark.parametrize("body", [DEEP, SURROGATE, NUL], ids=["deep", "surrogate", "nul"])
def test_no_json_write_answers_a_hostile_body_with_a_5xx_or_writes(client_for, body):
    client = client_for("street_admin")
    before = _fingerprint()
    failures = []
    for _route, pattern in JSON_WRITES:
        for method in sorted(pattern.callback.creates | pattern.callback.reads):
            response = getattr(client, method.lower())(_url(pattern), body, content_type="application/json")
            if not 400 <= response.status_code < 500:
                failures.append((_url(pattern), method, response.status_code))
    assert failures == [] and _fingerprint() == before
    assert len(JSON_WRITES) >= 10


def test_the_gate_names_the_place_of_unstorable_text_deep_in_a_body():
    from geodata.validation import GeometryRejected, load_json

    with pytest.raises(GeometryRejected) as refused:
        load_json('{"stations": [{"name": "ok"}, {"name": "x\\ud800"}]}')
    assert (refused.value.code, refused.value.field) == ("lone_surrogate", "name")
    assert load_json('{"text": "\\\\u0000 is how JSON spells NUL", "emoji": "\\ud83d\\ude00"}')["emoji"] == "😀"


def test_a_geojson_with_a_linked_crs_is_refused_naming_crs(client_for):
    """Trust finding 11: an external CRS got a generic 400 naming no field (and GDAL may follow the link)."""
    data = (
        b'{"type": "FeatureCollection", "crs": {"type": "link", "properties": {"href": "http://example.com/crs"}},'
        b' "features": [{"type": "Feature", "properties": {"name": "x"},'
        b' "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}]}'
    )
    answer = upload(client_for("street_admin"), "stations", data, "s.geojson", source_crs="WGS84")
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (400, "crs_not_wgs84", "crs")
