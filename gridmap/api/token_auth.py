"""Token authentication for integrations (issue #8) with a lifetime (issue #9).

DRF's ``TokenAuthentication`` keeps a token valid for ever. Here a token older than
``TOKEN_LIFETIME_SECONDS`` (env, default 30 days) is refused with 401; an administrator issues a new one
(delete the old token in the admin). A disabled account's token is refused at once: DRF checks
``user.is_active`` on every request, before the lifetime is looked at."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - timedelta(seconds=settings.TOKEN_LIFETIME_SECONDS):
            raise exceptions.AuthenticationFailed(_("令牌已过期，请向管理员申请新令牌"))
        return user, token
