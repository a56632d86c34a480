"""Pages, set-up and the offline rule, without a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_PASSWORD, ROLE_USERS

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)


def test_the_login_page_is_in_chinese_by_default(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录网格化管理系统" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_english_is_the_second_language(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    body = client.get("/accounts/login/").content.decode()
    assert "Sign in to GridMap" in body


def test_the_map_needs_a_login(client, db):
    response = client.get("/map/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_demo_account_logs_in_with_the_printed_password(client, db):
    response = client.post("/accounts/login/", {"username": "jiedao", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/work/"  # a street admin starts at his work list
    client.logout()
    wrong = client.post("/accounts/login/", {"username": "guihua", "password": "wrong-password"})
    assert wrong.status_code == 200 and "error" in wrong.content.decode()


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_role_gets_the_map_page_with_only_local_assets(client_for, role):
    body = client_for(role).get("/map/").content.decode()
    assert 'id="map-root"' in body
    assert not EXTERNAL.search(body), EXTERNAL.search(body)
    assert ('"layer-households":' in body) == (role != "planner")  # the URL only for roles that see residents


def test_static_assets_are_served_by_the_app(client, db):
    for path in (
        "/static/vendor/markercluster/leaflet.markercluster.js",
        "/static/leaflet/leaflet.js",
        "/static/gridmap/street_map.js",
        "/static/gridmap/app.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 500


def test_our_static_files_name_no_outside_host():
    for path in list((ROOT / "gridmap" / "static" / "gridmap").rglob("*")) + list((ROOT / "map_templates").rglob("*")):
        if path.is_file():
            assert not EXTERNAL.search(path.read_text()), path


def test_the_tile_url_is_configuration():
    """No TILE_URL: no tile layer (plain background). With one, the map uses exactly that URL."""
    import os
    import sys

    def tiles(tile_url: str) -> str:
        env = {**os.environ, "TILE_URL": tile_url, "DJANGO_SETTINGS_MODULE": "gridmap.settings"}
        code = "import django; django.setup(); from leaflet import app_settings; print(app_settings['TILES'])"
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout

    assert tiles("").strip() == "[]"
    assert "/tiles/{z}/{x}/{y}.png" in tiles("/tiles/{z}/{x}/{y}.png")


def test_manage_py_check_is_clean(db):
    call_command("check", fail_level="WARNING")


def test_the_compose_file_validates(tmp_path):
    assert shutil.which("docker-compose"), "docker-compose (Debian package) is installed by make setup"
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "postgis/postgis" in result.stdout and "healthcheck" in result.stdout


def test_healthz_reports_postgis(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["postgis"].startswith("3.")
