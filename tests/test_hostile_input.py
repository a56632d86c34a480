"""Hostile input of security.md (b) not covered elsewhere (the map from item to test is in
docs/security.md): each answer is a 4xx with a reason, never a 500, and no row changes."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from gridmap import policy
from gridmap.models import AuditEvent, Grid, Household, Member, Visit
from gridmap.views import errors

HUGE = "99999999999999999999"


def counts() -> tuple[int, ...]:
    return (
        Household.objects.count(),
        Grid.objects.count(),
        Member.objects.count(),
        Visit.objects.count(),
        AuditEvent.objects.count(),
    )


def own_household(user_for, role: str = "grid_leader") -> Household:
    return policy.households_for(user_for(role)).order_by("pk").first()


def test_101_files_in_one_upload_are_refused_with_a_reason(client_for):  # (b) 35
    client, before = client_for("community_staff"), counts()
    files = {f"file{i}": io.BytesIO(b"x") for i in range(101)}
    response = client.post("/api/v1/member-registry/import", files, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["code"] == "too_many_files"
    assert counts() == before


def test_a_body_over_the_cap_is_413_on_every_kind_of_endpoint(client_for, user_for, settings):  # (b) 35
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client, household = client_for("grid_leader"), own_household(user_for)
    before, big = counts(), json.dumps({"note": "x" * 20_000, "visited_on": "2026-01-01"})
    etag = client.get(f"/api/v1/households/{household.pk}/")["ETag"]
    for method, url, extra in [
        ("post", f"/api/v1/households/{household.pk}/visits", {}),  # page API
        ("patch", f"/api/v1/households/{household.pk}/", {"HTTP_IF_MATCH": etag}),  # DRF
        ("post", "/api/v1/grids/drafts", {}),
    ]:  # grid editor
        response = getattr(client, method)(url, big, content_type="application/json", **extra)
        assert response.status_code == 413 and response.json()["code"] == "too_large", url
    assert counts() == before


def test_an_export_filename_cannot_carry_cr_lf(client_for):  # (b) 36
    client, before = client_for("planner"), counts()
    response = client.get("/planner/report.html", {"metric": "covered_pct\r\nSet-Cookie: x=1"})
    assert response.status_code == 400 and "covered_pct" in response.content.decode()  # names the choices
    assert "Set-Cookie" not in response and "Content-Disposition" not in response
    assert counts() == before  # no export, no audit row
    ok = client.get("/planner/report.html", {"metric": "covered_pct"})
    assert ok.status_code == 200
    assert "\r" not in ok["Content-Disposition"] and "\n" not in ok["Content-Disposition"]


@pytest.mark.parametrize("bbox", ["-1e308,-1e308,1e308,1e308", "1e999,0,1e999,1", "0,0,0"])
def test_extreme_bboxes_are_400_naming_the_parameter(client_for, bbox):  # (b) 37
    response = client_for("street_admin").get("/api/v1/households/", {"in_bbox": bbox})
    assert response.status_code == 400 and response.json()["field"] == "in_bbox"  # the one error shape


def test_no_lookup_by_phone_in_the_query_string(client_for, user_for):  # (b) 39
    client = client_for("grid_leader")
    mine = policy.households_for(user_for("grid_leader")).exclude(phone_masked="").first()
    everything = client.get("/api/v1/households/").json()["count"]
    for key in ("phone", "phone__contains", "search"):
        assert client.get("/api/v1/households/", {key: mine.phone}).json()["count"] == everything, key


@pytest.mark.parametrize(
    "body",
    [
        {"updated_at": "2020-01-01T00:00:00Z"},
        {"created_by": 1},
        {"head_name": "张三", "grid": 2},
        {"location": {"type": "Point", "coordinates": [0, 0]}, "grid": 1},
    ],
)
def test_mass_assignment_is_refused_and_changes_nothing(client_for, user_for, body):  # (b) 40
    client, household = client_for("grid_leader"), own_household(user_for)
    url = f"/api/v1/households/{household.pk}/"
    etag, before = client.get(url)["ETag"], counts()
    response = client.patch(url, body, content_type="application/json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400 and response.json()["field"] in body
    fresh = Household.objects.get(pk=household.pk)
    assert (fresh.updated_at, fresh.grid_id, fresh.location.coords) == (
        household.updated_at,
        household.grid_id,
        household.location.coords,
    )
    assert counts() == before


def test_malformed_json_in_a_rest_patch_is_400(client_for, user_for):  # (b) 41
    client, household = client_for("grid_leader"), own_household(user_for)
    url = f"/api/v1/households/{household.pk}/"
    etag = client.get(url)["ETag"]
    for raw in ("{", '{"residents": 2', "[1, 2]", "\x00"):
        response = client.patch(url, raw, content_type="application/json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400 and response.json(), raw
    assert Household.objects.get(pk=household.pk).updated_at == household.updated_at


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"/api/v1/households/{HUGE}/card"),
        ("post", f"/api/v1/households/{HUGE}/reveal"),
        ("post", f"/api/v1/households/{HUGE}/visits"),
        ("post", f"/api/v1/grids/{HUGE}/boundary"),
        ("get", f"/api/grids/{HUGE}/households.json"),
        ("get", f"/api/grids/{HUGE}/history"),
        ("get", f"/api/v1/grids/{HUGE}/"),
        ("get", f"/ogc/collections/grids/items/{HUGE}"),
        ("get", f"/my-grid/households/{HUGE}/"),
        ("get", "/api/v1/households/-1/"),
    ],
)
def test_ids_beyond_bigint_are_404_never_500(client_for, method, url):  # (b) 43
    client, before = client_for("street_admin"), counts()
    response = (
        getattr(client, method)(
            url,
            json.dumps({"version": 1, "reason": "核对", "visited_on": "2026-01-01"}),
            content_type="application/json",
        )
        if method == "post"
        else client.get(url)
    )
    assert response.status_code == 404, (url, response.status_code)
    assert counts() == before


def test_a_session_post_without_the_csrf_token_is_403(user_for):  # (b) 50
    client = Client(enforce_csrf_checks=True)
    leader = user_for("grid_leader")
    client.force_login(leader)
    household, before = own_household(user_for), counts()
    for url, body in [
        (f"/api/v1/households/{household.pk}/reveal", {"reason": "核对"}),
        (f"/api/v1/households/{household.pk}/visits", {"visited_on": "2026-01-01"}),
    ]:
        assert client.post(url, json.dumps(body), content_type="application/json").status_code == 403, url
    etag = client.get(f"/api/v1/households/{household.pk}/")["ETag"]
    response = client.patch(
        f"/api/v1/households/{household.pk}/", {"residents": 2}, content_type="application/json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert counts() == before


def test_anonymous_admin_and_media_are_redirected_or_refused(client):  # (b) 50
    assert client.get("/admin/").status_code == 302
    assert client.get("/media/anything.csv").status_code in (401, 404)


def test_a_lost_database_connection_is_503_with_a_reason_not_500():
    request = RequestFactory().get("/api/v1/households/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = errors.server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert json.loads(response.content)["code"] == "database_unavailable"
    try:
        raise KeyError("a bug")
    except KeyError:
        assert errors.server_error(RequestFactory().get("/map/")).status_code == 500
    assert sys.exc_info() == (None, None, None)


def test_a_session_save_cut_by_the_outage_is_503_not_a_session_deleted_400():
    """Django raises SessionInterrupted (400) when the session UPDATE fails; measured during a PostgreSQL
    restart under load (docs/reliability.md). With the outage as its context it is a 503."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.exceptions import SessionInterrupted

    def interrupted():
        try:
            try:
                raise OperationalError("terminating connection due to administrator command")
            except OperationalError:
                raise UpdateError()  # noqa: B904  (implicit chaining, as in SessionStore.save())
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted before the request completed.")  # noqa: B904  (as Django raises it)

    request = RequestFactory().get("/api/v1/households/")
    try:
        interrupted()
    except SessionInterrupted as exc:
        response = errors.bad_request(request, exc)
    assert response.status_code == 503 and json.loads(response.content)["code"] == "database_unavailable"
    assert errors.bad_request(request, SessionInterrupted("a real concurrent logout")).status_code == 400
