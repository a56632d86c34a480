"""The member registry page (/members/): access per role, the XLSX template, and imports through it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gridmap import policy
from gridmap.models import AuditEvent, Member
from gridmap.services.people.members import HEADERS
from gridmap.storage import sealed_fields

MANAGERS = ("system_admin", "street_admin", "community_staff")


@pytest.mark.parametrize(
    "role,status", [*((r, 200) for r in MANAGERS), ("grid_leader", 403), ("grid_worker", 403), ("planner", 403)]
)
def test_page_and_template_access_per_role(client_for, role, status):
    client = client_for(role)
    page = client.get("/members/")
    assert page.status_code == status
    assert client.get("/members/template.xlsx").status_code == status
    nav = 'href="/members/"' in page.content.decode()
    assert nav is (status == 200)  # the header links it for the roles that may open it
    if status == 200:
        body = page.content.decode()
        assert "人员库" in body and 'id="member-q"' in body and "下载导入模板" in body


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get("/members/").status_code == 302
    assert client.get("/members/template.xlsx").status_code == 302


def _template(client) -> tuple:
    response = client.get("/members/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    return book, book.active


def test_the_template_has_chinese_headers_an_example_row_and_text_cells(client_for, user_for):
    book, sheet = _template(client_for("community_staff"))
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(HEADERS) == ["姓名", "电话", "党员", "工作单位", "居住社区"]
    name, phone, party, employer, community = rows[1]
    assert isinstance(phone, str) and len(phone) == 11 and party == "是"
    assert community == policy.member_communities_for(user_for("community_staff")).order_by("code").first().name
    assert sheet["B2"].number_format == "@" and sheet["E2"].number_format == "@" and sheet["B50"].number_format == "@"


def _upload(client, book) -> object:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "members.xlsx"
    return client.post("/api/v1/member-registry/import", {"file": buffer})


def test_a_filled_template_imports_every_row(client_for):
    client = client_for("community_staff")
    book, sheet = _template(client)
    community = sheet["E2"].value
    sheet.delete_rows(2)  # the example row goes; three real rows come
    for name, phone in (("欧阳修", "13700002001"), ("苏轼", "13700002002"), ("李清照", "")):
        sheet.append([name, phone, "否", "区文化馆", community])
    before = Member.objects.count()
    response = _upload(client, book)
    assert response.status_code == 201 and response.json() == {"imported": 3}
    assert Member.objects.count() == before + 3
    assert Member.objects.get(name="欧阳修").pinyin_initials == "oyx"


def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_saved(client_for):
    client = client_for("street_admin")
    book, sheet = _template(client)
    community = sheet["E2"].value
    sheet.append(["王安石", "12345", "否", "", community])  # row 3: phone
    sheet.append(["曾巩", "13700002003", "否", "", "不存在的社区"])  # row 4: community
    before = Member.objects.count()
    response = _upload(client, book)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "row_errors"
    assert {(e["row"], e["column"]) for e in data["errors"]} == {(3, "电话"), (4, "居住社区")}
    assert all(e["detail"] for e in data["errors"])
    assert Member.objects.count() == before  # the good example row was not saved either
    assert not Member.objects.filter(name="张三", phone_digest=sealed_fields.digest("phone", "13800138000")).exists()
    assert AuditEvent.objects.filter(object_type="member", result="refused").exists()
