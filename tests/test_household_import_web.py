"""Household import through the web path: upload → dry-run preview → commit, jobs scoped to their user,
hostile files answered 4xx with row, column and reason, the template, re-import by external id."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from gridmap import policy
from gridmap.models import AuditEvent, Household, ImportJob
from tests.household_files_support import IDS, csv_bytes, hostile_cases, xlsx_bytes
from tests.test_household_files import checksum

UPLOAD = reverse("household-import-upload")


def status_url(pk: int) -> str:
    return reverse("household-import-status", kwargs={"pk": pk})


def commit_url(pk: int) -> str:
    return reverse("household-import-commit", kwargs={"pk": pk})


def commit(client, pk: int):
    """Commit the job as the upload page does: with the ETag of the job status it last read."""
    etag = client.get(status_url(pk))["ETag"]
    return client.post(commit_url(pk), headers={"If-Match": etag})


def upload(client, data: bytes, name: str = "households.csv", crs: str = "WGS84"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(UPLOAD, {"file": file, "source_crs": crs})


def home_point(user) -> tuple[float, float]:
    """A point inside the user's scope: where one of the user's households lives."""
    household = policy.households_for(user).filter(grid__isnull=False).order_by("id").first()
    return household.location.x, household.location.y


def good_rows(user, n: int = 3, prefix: str = "W") -> list[list]:
    lon, lat = home_point(user)
    return [
        [lon, lat, f"和平街{i + 1}号", "周敏", "13912345678", IDS[i % 4] if i < 4 else "", 2, f"{prefix}-{i}"]
        for i in range(n)
    ]


def test_a_preview_counts_and_maps_the_file_then_commit_imports_it(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    before = checksum()
    response = upload(client, csv_bytes(good_rows(user)))
    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["status"] == "previewed" and preview["errors"] == []
    assert preview["counts"]["rows"] == 3 and preview["counts"]["new"] == 3 and preview["counts"]["in_grid"] == 3
    assert len(preview["points"]) == 3 and checksum() == before
    response = commit(client, preview["id"])
    assert response.status_code == 201 and response.json()["status"] == "done"
    assert Household.objects.filter(external_id__startswith="W-", address__startswith="和平街").count() == 3
    assert AuditEvent.objects.filter(action="import", object_type="household", object_id=str(preview["id"])).exists()
    assert ImportJob.objects.get(pk=preview["id"]).data is None  # the bytes are not kept after the import


def test_a_bad_row_is_answered_400_with_row_column_and_reason(client_for, user_for):
    client, user = client_for("community_staff"), user_for("community_staff")
    rows = good_rows(user)
    rows[1][4] = "1381234567"
    before = checksum()
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "refused" and body["error_count"] == 1
    assert (body["errors"][0]["row"], body["errors"][0]["column"]) == (3, "电话") and "手机" in body["errors"][0][
        "reason"
    ]
    assert commit(client, body["id"]).status_code == 409 and checksum() == before


def test_a_point_outside_the_community_of_its_staff_is_refused(client_for, user_for):
    client = client_for("community_staff")
    other = (
        policy.households_for(user_for("street_admin"))
        .exclude(community__in=policy.communities_for(user_for("community_staff")))
        .order_by("id")
        .first()
    )
    rows = good_rows(user_for("community_staff"), 1)
    rows[0][:2] = [other.location.x, other.location.y]
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 400
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [(2, "经度", "out_of_scope")]


def test_an_xlsx_upload_with_a_crs_column_needs_no_declared_crs(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    header = ["经度", "纬度", "坐标系", "地址", "户主", "外部编号"]
    lon, lat = home_point(user)
    response = upload(
        client,
        xlsx_bytes([[lon, lat, "WGS84", "和平街9号", "钱七", "X-9"]], header=header),
        name="households.xlsx",
        crs="",
    )
    assert response.status_code == 200 and response.json()["counts"]["new"] == 1


def test_an_undeclared_crs_is_answered_400(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    response = upload(client, csv_bytes(good_rows(user)), crs="")
    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "坐标系/source_crs"


def test_an_unknown_declared_crs_is_answered_400_naming_the_field(client_for):
    response = upload(client_for("street_admin"), b"x", crs="EPSG:3857")
    assert response.status_code == 400 and response.json()["field"] == "source_crs"


def test_a_missing_file_is_answered_400(client_for):
    response = client_for("street_admin").post(UPLOAD, {"source_crs": "WGS84"})
    assert response.status_code == 400 and response.json()["field"] == "file"


def test_the_same_file_twice_updates_and_remembers_its_hash(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    data = csv_bytes(good_rows(user, 3, prefix="R"))
    first = upload(client, data).json()
    assert commit(client, first["id"]).status_code == 201
    count = Household.objects.count()
    second = upload(client, data).json()
    assert second["counts"]["new"] == 0 and second["counts"]["updated"] == 3
    assert second["imported_before"] is not None
    assert commit(client, second["id"]).status_code == 201
    assert Household.objects.count() == count and Household.objects.filter(external_id__startswith="R-").count() == 3
    assert ImportJob.objects.get(pk=first["id"]).sha256 == ImportJob.objects.get(pk=second["id"]).sha256


def test_another_users_job_is_404(client_for, user_for):
    client = client_for("street_admin")
    job = upload(client, csv_bytes(good_rows(user_for("street_admin")))).json()
    other = client_for("community_staff")
    assert other.get(status_url(job["id"])).status_code == 404
    assert other.post(commit_url(job["id"])).status_code == 404
    assert Household.objects.filter(external_id__startswith="W-").count() == 0


def test_the_template_downloads_as_xlsx(client_for):
    response = client_for("community_staff").get(reverse("household-import-template"))
    assert response.status_code == 200 and response.content.startswith(b"PK\x03\x04")
    assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "private, no-store"


def test_the_page_loads_nothing_from_outside(client_for):
    response = client_for("street_admin").get(reverse("household-import-page"))
    html = response.content.decode()
    assert response.status_code == 200 and "import-root" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


@pytest.mark.parametrize("case", hostile_cases(116.4, 39.9), ids=lambda c: c.name)
def test_a_hostile_file_through_the_web_is_a_4xx_naming_row_column_and_reason(client_for, case):
    client = client_for("system_admin")
    before = checksum()
    response = upload(client, case.data, name=case.filename)
    assert 400 <= response.status_code < 500
    first = response.json()["errors"][0]
    assert (first["row"], first["column"]) == (case.row, case.column) and case.reason in first["reason"]
    assert checksum() == before


def test_an_uncommitted_preview_loses_its_file_after_a_day(client_for, user_for):
    import datetime as dt

    from django.utils import timezone

    client, user = client_for("street_admin"), user_for("street_admin")
    old = upload(client, csv_bytes(good_rows(user))).json()
    ImportJob.objects.filter(pk=old["id"]).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    fresh = upload(client, csv_bytes(good_rows(user, prefix="N"))).json()
    assert ImportJob.objects.get(pk=old["id"]).data is None and ImportJob.objects.get(pk=fresh["id"]).data
    assert commit(client, old["id"]).status_code == 409
