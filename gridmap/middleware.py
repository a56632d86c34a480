"""Request-wide rules: an absolute session lifetime, a Content-Security-Policy with no outside source, and
the input gate (bad input is a 4xx with a reason on every path, never a 500)."""

from __future__ import annotations

import logging
import secrets
import time
import zipfile
import zlib
from urllib.parse import urlsplit

import shapely
from django.conf import settings
from django.contrib.auth import logout

from geodata.validation import unstorable_text

logger = logging.getLogger("gridmap.input")

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


# -- the input gate: bad input is a 4xx with a reason on every path, never a 500 ------------------------

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _bad_input(exc: BaseException) -> tuple[int, str] | None:
    """(status, code) when ``exc`` is a library's reaction to input nothing else refused: text PostgreSQL
    cannot store, nesting past the recursion limit, a damaged archive, a geometry a library cannot read, a
    number out of the database's range. None for everything else (a real fault stays a 500)."""
    from django.contrib.gis.gdal import GDALException
    from django.contrib.gis.geos import GEOSException
    from django.db import DataError

    if isinstance(exc, RecursionError):
        return 400, "too_deep"
    if isinstance(exc, UnicodeError):
        return 400, "lone_surrogate"
    if isinstance(exc, ValueError) and "NUL" in str(exc):  # psycopg2: "A string literal cannot contain NUL"
        return 400, "nul_byte"
    if isinstance(exc, (zlib.error, zipfile.BadZipFile, EOFError)):
        return 400, "unreadable_file"
    if isinstance(exc, (GDALException, GEOSException, shapely.errors.GEOSException)):
        return 400, "invalid_geometry"
    if isinstance(exc, (OverflowError, DataError)):
        return 400, "bad_value"
    return None


class InputGate:
    """One gate in front of every view: a query parameter or form field holding NUL or a lone surrogate is
    refused naming it (JSON bodies are checked by the one parser, geodata.validation.load_json); and an
    exception a library raises on bad input that slipped past the validators becomes a 400 with a reason,
    logged so the validator can be taught, instead of a 500. A view's transaction has rolled back by then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = list(request.GET.lists())
        if request.method == "POST" and request.content_type in _FORM_TYPES:
            fields += list(request.POST.lists())
        for name, values in fields:
            for text in (name, *values):
                code = unstorable_text(text)
                if code:
                    return _refusal(request, code, name)
        return self.get_response(request)

    def process_exception(self, request, exception):
        found = _bad_input(exception)
        if found is None:
            return None
        status, code = found
        logger.warning("bad input reached %s as %r", request.path, exception, exc_info=exception)
        return _refusal(request, code, "", status)


def _refusal(request, code: str, field: str, status: int = 400):
    from gridmap.services.reasons import reason
    from gridmap.views.errors import answer

    return answer(request, status, code, reason(code), field=field)
