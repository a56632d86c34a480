"""The member registry: pinyin initials, search by name/initials/phone, XLSX import all-or-nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from gridmap import policy
from gridmap.models import AuditEvent, Member
from gridmap.rules.pinyin import pinyin_initials
from gridmap.services.people.members import refresh_initials


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "电话", "党员", "工作单位", "居住社区"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "members.xlsx"
    return buffer


@pytest.fixture
def community(user_for):
    return policy.communities_for(user_for("community_staff")).first()


def test_initials_of_chinese_names():
    assert pinyin_initials("张三") == "zs"
    assert pinyin_initials("欧阳娜娜") == "oynn"
    assert pinyin_initials("Li 明") == "lim"


def test_initials_are_kept_on_save_and_filled_set_based_after_loads(db, community):
    member = Member.objects.create(name="王小明", community=community)
    assert member.pinyin_initials == "wxm"
    Member.objects.filter(pk=member.pk).update(pinyin_initials="")
    assert refresh_initials() >= 1
    member.refresh_from_db()
    assert member.pinyin_initials == "wxm"
    assert not Member.objects.filter(pinyin_initials="").exists()  # the demo load filled them too


def test_search_by_name_initials_and_phone_digits(client_for, community):
    Member.objects.create(name="诸葛亮", phone="13911112222", community=community)
    client = client_for("community_staff")
    for q in ("诸葛", "zgl", "ZG", "2222"):
        names = [m["name"] for m in client.get("/api/v1/member-registry", {"q": q}).json()["results"]]
        assert "诸葛亮" in names, q
    body = client.get("/api/v1/member-registry", {"q": "zgl"}).content.decode()
    assert "13911112222" not in body and "139****2222" in body
    assert client.get("/api/v1/member-registry", {"q": "13911112222"}).json()["code"] == "phone_in_url"
    assert client_for("planner").get("/api/v1/member-registry").status_code == 403


def test_an_xlsx_import_adds_every_row(client_for, community):
    upload = _xlsx(
        [["赵六", "13700001234", "是", "区税务局", community.code], ["钱七", None, "否", None, community.name]]
    )
    response = client_for("community_staff").post("/api/v1/member-registry/import", {"file": upload})
    assert response.status_code == 201 and response.json() == {"imported": 2}
    member = Member.objects.get(name="赵六")
    assert member.pinyin_initials == "zl" and member.is_party_member and member.employer == "区税务局"
    assert AuditEvent.objects.filter(action="import", result="ok").exists()


def test_one_bad_row_refuses_the_whole_file_with_row_errors(client_for, community, small_street):
    before = Member.objects.count()
    other = next(iter(small_street["communities"].values()))
    upload = _xlsx(
        [
            ["赵六", "13700001234", "是", "", community.code],
            ["", "123", "也许", "", other.code],
            ["孙八", "13700001234", "否", "", community.code],
        ]
    )
    response = client_for("community_staff").post("/api/v1/member-registry/import", {"file": upload})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} >= {
        (3, "姓名"),
        (3, "电话"),
        (3, "党员"),
        (3, "居住社区"),
        (4, "电话"),
    }
    assert Member.objects.count() == before


def test_not_an_xlsx_is_400(client_for):
    upload = io.BytesIO(b"<html>not a workbook</html>")
    upload.name = "x.xlsx"
    response = client_for("community_staff").post("/api/v1/member-registry/import", {"file": upload})
    assert response.status_code == 400 and response.json()["code"] == "not_xlsx"
    assert client_for("grid_leader").post("/api/v1/member-registry/import", {"file": _xlsx([])}).status_code == 403


def test_a_formula_cell_is_imported_as_its_text_like_every_other_import(client_for, community):
    # The member import used to read formula results (data_only=True) where the other imports keep the text.
    upload = _xlsx([["孙八", None, "否", '=CONCAT("某","单位")', community.code]])
    response = client_for("community_staff").post("/api/v1/member-registry/import", {"file": upload})
    assert response.status_code == 201
    assert Member.objects.get(name="孙八").employer == '=CONCAT("某","单位")'


def test_a_phone_registered_outside_the_importers_scope_neither_clashes_nor_tells(client_for, user_for, community):
    """Trust finding 4: "该电话已登记" told a community worker which phones another scope holds."""
    staff = user_for("community_staff")
    elsewhere = Member.objects.exclude(pk__in=policy.members_for(staff)).exclude(phone_sealed=None).first()
    mine = policy.members_for(staff).exclude(phone_sealed=None).first()
    answers = []
    for phone in (elsewhere.phone, "13700009876"):  # held in another scope, and held nowhere
        upload = _xlsx([["赵六", phone, "是", "", community.code]])
        answers.append(client_for("community_staff").post("/api/v1/member-registry/import", {"file": upload}))
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    clash = client_for("community_staff").post(
        "/api/v1/member-registry/import", {"file": _xlsx([["孙八", mine.phone, "否", "", community.code]])}
    )
    assert clash.status_code == 400 and clash.json()["errors"][0]["code"] == "exists"  # in scope: still refused
