"""The data exchange page (数据导入导出): what each role finds there, and nothing loaded from outside."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    ("role", "layers", "imports"),
    [
        ("system_admin", 7, ["streets", "communities", "stations"]),
        ("street_admin", 7, ["communities", "stations"]),
        ("community_staff", 7, []),
        ("grid_leader", 7, []),
        ("planner", 4, []),
    ],
)
def test_each_role_finds_the_exports_and_imports_it_may_use(client_for, role, layers, imports):
    response = client_for(role).get("/data/")
    assert response.status_code == 200
    html = response.content.decode()
    exported = sorted(set(re.findall(r'href="/api/exports/(\w+)\.\w+"', html)))
    assert len(exported) == layers
    assert ("households" in exported) == (role != "planner")
    assert (
        re.findall(r'<option value="(\w+)">[^<]*</option>', html.split('id="import-layer"')[1].split("</select>")[0])
        == imports
        if imports
        else 'id="import-layer"' not in html
    )
    assert 'href="/data/"' in html  # the menu link every role sees
    assert ('href="/households/import/"' in html) == (role in ("system_admin", "street_admin", "community_staff"))


def test_the_page_has_no_inline_script_and_nothing_from_outside(client_for):
    html = client_for("street_admin").get("/data/").content.decode()
    inline = [a for a in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html) if 'type="application/json"' not in a]
    assert not inline  # data blocks (the page's URLs, gm-urls) are not scripts
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert not re.search(r"\son\w+=", html)


def test_a_full_export_form_is_offered_to_resident_roles_only(client_for):
    assert 'name="reason"' in client_for("community_staff").get("/data/").content.decode()
    assert 'name="reason"' not in client_for("planner").get("/data/").content.decode()
