"""The answer when something failed on the server side. A lost or refused database connection (the
server restarting, a backend terminated, the network between app and database down) is an outage, not a
bug: the client gets 503 with a clear message and ``Retry-After``, and the next request reconnects
(``CONN_HEALTH_CHECKS``), so the app recovers without a restart. Anything else is a 500.

JSON paths answer the one error shape ``{"code", "field", "detail"}`` (api/jsonapi.py), also for an
unknown URL (``handler404``) and a refused permission (``handler403``); elsewhere every error is the styled
page map_templates/gridmap/error.html (menu, phone viewport, a way on).

``bad_request`` (``handler400``) names the reason when Django itself refuses a request before any view
runs: too many files or fields in one form, or a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413).

Used as ``handler500`` (gridmap/urls.py): Django calls it inside its ``except`` block for every
uncaught exception, from a view or from a middleware, with DEBUG off. It renders the error page without the
request, so it touches neither the session nor the database, which may be what just failed.
"""

from __future__ import annotations

import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RETRY_AFTER_SECONDS = 5
_JSON_PREFIXES = ("/api/", "/ogc/", "/open311/", "/healthz")


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a connection that is gone or cannot be made (not for bad SQL or data), also
    when another exception was raised while handling one: Django's session middleware turns a failed
    session save into ``SessionInterrupted`` ("session deleted", a 400), which during an outage is a lie."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _unavailable(request: HttpRequest) -> HttpResponse:
    response = answer(request, 503, "database_unavailable", _("数据库暂时不可用，请稍后重试"))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(_JSON_PREFIXES) or "json" in request.headers.get("Accept", "")


def answer(request: HttpRequest, status: int, code: str, detail: str, *, field: str = "") -> HttpResponse:
    """The one error shape for JSON paths, the styled error page elsewhere; no session, no database."""
    if _wants_json(request):
        response = JsonResponse(
            {"code": code, "field": field, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = _page(None, status, detail, field=field, retry=RETRY_AFTER_SECONDS if status == 503 else None)
    response["Cache-Control"] = "no-store"
    return response


HEADINGS = {
    400: gettext_lazy("请求无效"),
    403: gettext_lazy("无权访问"),
    404: gettext_lazy("页面不存在"),
    413: gettext_lazy("请求内容过大"),
    500: gettext_lazy("服务器出错了"),
    503: gettext_lazy("服务暂时不可用"),
}


def _page(
    request: HttpRequest | None, status: int, detail: str, *, field: str = "", retry: int | None = None
) -> HttpResponse:
    """map_templates/gridmap/error.html: with the request (so the menu of the signed-in user) for 403 and 404,
    without it (no context processor, so no session or database) for the server's own failures."""
    signed_in = request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated
    context = {
        "status": status,
        "heading": HEADINGS.get(status, HEADINGS[400]),
        "detail": detail,
        "field": field,
        "home": reverse("home"),
        "login": None if signed_in or status >= 500 else reverse("login"),
        "retry": retry,
    }
    return HttpResponse(render_to_string("gridmap/error.html", context, request=request), status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unavailable(sys.exc_info()[1]):
        return _unavailable(request)
    return answer(request, 500, "server_error", _("服务器内部错误，已记录，请稍后重试"))


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    """Django's own refusals (a ``SuspiciousOperation`` raised while reading the request), with a reason."""
    if database_unavailable(exception):
        return _unavailable(request)
    if isinstance(exception, RequestDataTooBig):
        return answer(request, 413, "too_large", _("请求内容超过大小上限"))
    if isinstance(exception, TooManyFilesSent):
        return answer(request, 400, "too_many_files", _("一次上传的文件过多"))
    if isinstance(exception, TooManyFieldsSent):
        return answer(request, 400, "too_many_fields", _("表单字段过多"))
    return answer(request, 400, "bad_request", _("请求无效"))


def not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    """``handler404``: the one JSON shape under /api/ and /ogc/, the styled page with the menu elsewhere."""
    if _wants_json(request):
        return answer(request, 404, "not_found", _("不存在或不在您的管辖范围内"))
    return _page(request, 404, _("您要找的页面不存在，或不在您的管辖范围内。"))


def forbidden(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    """``handler403``: the one JSON shape under /api/ and /ogc/, the styled page elsewhere. A page refuses
    with ``raise PermissionDenied(reason)``; the reason is shown (Django's own CSRF refusal has none)."""
    if _wants_json(request):
        return answer(request, 403, "forbidden", _("无权执行此操作"))
    reason = str(exception or "") if isinstance(exception, PermissionDenied) and exception.args else ""
    return _page(request, 403, reason or _("您的角色无权打开此页面。"))
