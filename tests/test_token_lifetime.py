"""Integration tokens expire (TOKEN_LIFETIME_SECONDS) and die with a disabled account (issue #9, #47)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.authtoken.models import Token


def _get(client, key, path="/api/v1/grids/"):
    return client.get(path, HTTP_AUTHORIZATION=f"Token {key}")


def test_fresh_token_works_and_expired_token_is_401(client, user_for, settings):
    settings.TOKEN_LIFETIME_SECONDS = 3600
    token = Token.objects.create(user=user_for("street_admin"))
    assert _get(client, token.key).status_code == 200
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(seconds=3601))
    response = _get(client, token.key)
    assert response.status_code == 401
    assert "过期" in response.json()["detail"]
    # the OGC API and tiles share the same authentication
    assert _get(client, token.key, "/ogc/collections").status_code == 401


def test_token_just_inside_lifetime_still_works(client, user_for, settings):
    settings.TOKEN_LIFETIME_SECONDS = 3600
    token = Token.objects.create(user=user_for("planner"))
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(seconds=3500))
    assert _get(client, token.key).status_code == 200


def test_default_lifetime_is_thirty_days():
    from django.conf import settings

    assert settings.TOKEN_LIFETIME_SECONDS == 30 * 24 * 3600


def test_disabled_users_token_is_refused_on_the_next_request(client, user_for):
    user = user_for("community_staff")
    token = Token.objects.create(user=user)
    assert _get(client, token.key).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _get(client, token.key).status_code == 401
    assert _get(client, token.key, "/ogc/collections").status_code == 401
