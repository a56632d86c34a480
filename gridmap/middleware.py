"""Request-wide rules: an absolute session lifetime and a Content-Security-Policy with no outside source."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout

SESSION_STARTED = "gridmap_session_started"


def absolute_session_limit(get_response):
    """End a session SESSION_ABSOLUTE_SECONDS after sign-in, however active it is (the idle limit is
    SESSION_COOKIE_AGE, renewed on every request)."""

    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.setdefault(SESSION_STARTED, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return get_response(request)

    return middleware


def _tile_origin() -> str:
    """The configured tile server as a CSP source; a ``{s}`` subdomain becomes a ``*.`` wildcard."""
    parts = urlsplit(settings.TILE_URL)
    if not parts.netloc:
        return ""  # no tiles, or tiles served by this server (/tiles/...)
    host = parts.netloc
    if "{" in host.split(".", 1)[0]:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(get_response):
    """Scripts only from this server or with the per-request nonce; images also from the tile server."""
    tiles = _tile_origin()

    def middleware(request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = get_response(request)
        if "Content-Security-Policy" not in response:
            # The admin's Leaflet widget renders inline scripts without access to the request's nonce.
            inline = "'unsafe-inline'" if request.path.startswith("/admin/") else f"'nonce-{request.csp_nonce}'"
            response["Content-Security-Policy"] = "; ".join(
                [
                    "default-src 'self'",
                    f"script-src 'self' {inline}",
                    "style-src 'self' 'unsafe-inline'",  # Leaflet and its plugins set inline styles
                    f"img-src 'self' data: blob: {tiles}".strip(),
                    "connect-src 'self'",
                    "font-src 'self'",
                    "object-src 'none'",
                    "base-uri 'self'",
                    "form-action 'self'",
                    "frame-ancestors 'none'",
                ]
            )
        return response

    return middleware


def csp_nonce(request) -> dict:
    """Context processor: ``{{ csp_nonce }}`` for inline scripts (django-leaflet's templates use it)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
