"""Accounts and sessions: lockout, idle and absolute timeouts, CSP, production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model

from gridmap.middleware import SESSION_STARTED
from gridmap.models import LoginAttempt
from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_account_from_that_address_with_the_same_message(client, db):
    wrong = [sign_in(client, "guihua", "not-the-password") for _ in range(5)]
    assert all(r.status_code == 200 for r in wrong)
    message = re.search(r'<p class="error"[^>]*>(.*?)</p>', wrong[0].content.decode()).group(1)
    locked = sign_in(client, "guihua", DEMO_PASSWORD)
    assert locked.status_code == 200 and message in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address can still sign in to the same account, and another account from this address.
    assert sign_in(client, "guihua", DEMO_PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    assert sign_in(client, "jiedao", DEMO_PASSWORD).status_code == 302
    assert LoginAttempt.objects.filter(username="guihua", succeeded=False).count() == 6


def test_four_failures_do_not_lock(client, db):
    for _ in range(4):
        sign_in(client, "shequ", "not-the-password")
    assert sign_in(client, "shequ", DEMO_PASSWORD).status_code == 302


def test_the_idle_timeout_is_thirty_minutes_and_renewed_by_activity(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST


def test_a_session_ends_after_the_absolute_limit_however_active(client_for):
    client = client_for("street_admin")
    assert client.get("/map/").status_code == 200
    session = client.session
    session[SESSION_STARTED] = time.time() - 8 * 3600 - 1
    session.save()
    response = client.get("/map/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_logout_and_a_password_change_end_sessions(client_for, user_for):
    client = client_for("community_staff")
    assert client.get("/map/").status_code == 200
    user = user_for("community_staff")
    user.set_password("a-brand-new-passphrase")
    user.save()
    assert client.get("/map/").status_code == 302  # the session's auth hash no longer matches
    other = client_for("grid_worker")
    other.post("/accounts/logout/")
    assert other.get("/map/").status_code == 302


def test_pages_carry_a_content_security_policy_with_no_outside_source(client_for):
    response = client_for("street_admin").get("/map/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no TILE_URL configured: no outside host at all
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    body = response.content.decode()
    inline = [a for a in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body) if "application/json" not in a]
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert not re.search(r"\son[a-z]+\s*=", body), "inline event handlers are blocked by the CSP"


def test_a_configured_tile_server_is_the_only_outside_image_source():
    env = {
        **os.environ,
        "TILE_URL": "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}",
        "DJANGO_SETTINGS_MODULE": "gridmap.settings",
    }
    code = "import django; django.setup(); from gridmap.middleware import _tile_origin; print(_tile_origin())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "https://*.tianditu.gov.cn"


def test_production_settings_pass_the_deploy_check():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEMO_MODE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }  # the browser tests set the last
    env.update(
        SECRET_KEY="x" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="grid.example.gov.cn",
        SECURE_COOKIES="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_PRELOAD="true",
        DEBUG="false",
        GRIDMAP_DATA_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )  # a production data key
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_demo_accounts_exist_only_in_demo_mode():
    env = {key: value for key, value in os.environ.items() if key != "DEMO_MODE"}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEMO_MODE="false",
        DATABASE_URL=os.environ.get("DATABASE_URL", ""),
        GRIDMAP_DATA_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    env = {k: v for k, v in env.items() if v}
    result = subprocess.run(
        [sys.executable, "manage.py", "load_demo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "demo mode" in result.stderr


def test_an_inactive_account_cannot_sign_in(client, db):
    get_user_model().objects.filter(username="wanggeyuan").update(is_active=False)
    assert sign_in(client, "wanggeyuan", DEMO_PASSWORD).status_code == 200
