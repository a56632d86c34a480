"""The member registry page in a real browser (Debian's chromium, every outside request blocked, CSP
enforced): search by 拼音首字母 finds the member; a file with a bad row shows the row error."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from openpyxl import Workbook

from gridmap import policy
from tests.browser_support import OfflinePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_search_by_pinyin_initials_finds_the_member_and_a_bad_file_shows_its_row_error(browser, live_app, user_for):
    admin = user_for("street_admin")
    member = policy.members_for(admin).exclude(pinyin_initials="").order_by("name", "id").last()
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
    view.login("jiedao")
    page = view.page
    page.click("a.navlink[href='/members/']")
    page.wait_for_url("**/members/")
    page.fill("#member-q", member.pinyin_initials.upper())
    page.wait_for_selector(f"#members-root[data-searched='{member.pinyin_initials.upper()}']")
    row = page.locator(f"#member-rows tr[data-member='{member.pk}']")
    assert row.count() == 1 and member.name in row.inner_text()
    if member.phone:
        assert member.phone not in page.inner_text("#member-rows")  # masked: 138****5678
    # An import with a bad phone in row 2: the row error is listed and nothing is imported.
    book = Workbook()
    book.active.append(["姓名", "电话", "党员", "工作单位", "居住社区"])
    book.active.append(["测试浏览器", "123", "否", "", "不存在的社区"])
    buffer = io.BytesIO()
    book.save(buffer)
    page.set_input_files(
        "#import-file",
        {
            "name": "bad.xlsx",
            "buffer": buffer.getvalue(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    page.click("#member-import button[type=submit]")
    page.wait_for_selector("#import-errors:not([hidden]) tbody tr")
    errors = page.inner_text("#import-errors tbody")
    assert "电话" in errors and "居住社区" in errors and "2" in errors
    assert "未导入任何行" in page.inner_text("#import-msg")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "members_page.png"), full_page=True)
    assert view.outside == [] and view.csp_violations == []
    view.context.close()
