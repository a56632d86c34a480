"""The HTTP toolkit of every JSON endpoint: one decorator (401 anonymous, 403 no role or aggregates only,
``Refused`` → its JSON body), one body parser (415 unless JSON, 413 over the cap, 400 malformed, not an
object or deeper than the validator's one depth cap), field readers, and the one concurrency rule: a
write to an existing object names the object's ETag in ``If-Match`` (428 when missing, 412 when stale).

Every refusal has the one shape ``{"code", "field", "detail", …extra}`` (``Refused.as_json``); the DRF
views answer the same through :func:`drf_exception_handler`. A view that gets here never answers 500 for
anything the client sent.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from rest_framework.parsers import JSONParser

from geodata.validation import GeometryRejected, load_json
from gridmap import policy
from gridmap.services import audit
from gridmap.services.reasons import reason
from gridmap.services.refused import Refused


def reply(data, status: int = 200, *, etag: str | None = None) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    if etag:
        response["ETag"] = etag
    return response


def refusal(exc: Refused) -> JsonResponse:
    return reply(exc.as_json(), exc.status)


def body(request: HttpRequest) -> dict:
    """The request's JSON object; 415 for another content type, 413 over the size cap, 400 for malformed,
    too deep (geodata.validation.MAX_DEPTH, the one cap) or non-object JSON."""
    if request.content_type != "application/json":
        raise Refused(415, "unsupported_media_type", field="body", detail=_("请求内容应为 JSON（application/json）"))
    try:
        raw = request.body
    except RequestDataTooBig:
        raise Refused(413, "too_large", field="body") from None
    try:
        data = load_json(raw or b"{}", field="body")
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, exc.field or "body") from None
    if not isinstance(data, dict):
        raise Refused(400, "not_an_object", field="body", detail=_("请求内容应为 JSON 对象"))
    return data


class BodyParser(JSONParser):
    """DRF's JSON bodies through the one parser (:func:`body`'s caps on size and depth, no NUL or lone
    surrogate), so a REST write refuses what a page write refuses, with the same codes."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return load_json(stream.read() if stream is not None else b"{}", field="body")
        except GeometryRejected as exc:
            raise Refused.from_geometry(exc, exc.field or "body") from None


def upload(request: HttpRequest, max_bytes: int, field: str = "file"):
    """The multipart upload ``field``: 415 unless multipart, 413 over ``max_bytes``, 400 when missing."""
    if not request.content_type.startswith("multipart/form-data"):
        raise Refused(415, "unsupported_media_type", field="body", detail=_("请以 multipart/form-data 上传文件"))
    try:
        found = request.FILES.get(field)
    except RequestDataTooBig:
        raise Refused(413, "too_large", field=field) from None
    if found is None:
        raise Refused(400, "required", field=field, detail=_("请选择文件"))
    if found.size > max_bytes:
        raise Refused(413, "too_large", field=field, detail=_("文件超过大小上限"))
    return found


def date_field(data: dict, key: str, *, required: bool = True) -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise Refused(400, "required", field=key, detail=_("必填"))
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Refused(400, "bad_date", field=key, detail=_("日期格式应为 YYYY-MM-DD")) from None


def int_field(data: dict, key: str) -> int:
    value = data.get(key)
    if value is None:
        raise Refused(400, "required", field=key, detail=_("缺少 %(field)s") % {"field": key})
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise Refused(400, "bad_value", field=key, detail=_("应为正整数"))
    return value


# One client-address rule for the API and the audit trail (REMOTE_ADDR only): services/audit.client_address.
client_ip = audit.client_address


# -- the one concurrency rule ---------------------------------------------------------------------------


def if_match(request: HttpRequest) -> list[str]:
    """The ETags named in ``If-Match`` (several, comma-separated, for a write to several objects such as a
    merge); 428 when the header is missing or empty."""
    raw = request.headers.get("If-Match", "").strip()
    tags = [tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()] if raw else []
    if not tags:
        raise Refused(428, "precondition_required", field="If-Match")
    return tags


def check_etag(given: str, current: str, state: dict | None = None, detail: str = "") -> None:
    """412 with the object's current state (and ETag) when ``given`` is not ``current``."""
    if given != current:
        raise Refused(412, "precondition_failed", field="If-Match", detail=detail, etag=current, **(state or {}))


def grid_version(tag: str) -> int:
    """A grid's ETag ``"<version>"`` as the version number; anything else can never match: 412."""
    value = tag.strip('"')
    if not value.isascii() or not value.isdigit() or int(value) >= 2**31:
        raise Refused(412, "precondition_failed", field="If-Match", detail=_('应为网格的 ETag，例如 "3"'))
    return int(value)


def precondition(request: HttpRequest, current: str, state: dict | None = None) -> None:
    """The one concurrency rule for one object: 428 without ``If-Match``, 412 (with the object's current
    ``state`` and ETag) unless it names ``current``."""
    check_etag(if_match(request)[0], current, state)


def locked(request: HttpRequest, queryset, pk: int, *, field: str, etag, state=None):
    """The object ``pk`` of the scoped ``queryset``, row-locked (call inside a transaction) and held to the
    concurrency rule: 404 out of scope, 412 with ``state(obj)`` unless ``If-Match`` names ``etag(obj)``."""
    obj = queryset.select_for_update().filter(pk=pk).first()
    if obj is None:
        raise Refused(404, "not_found", field=field)
    precondition(request, etag(obj), state(obj) if state else None)
    return obj


SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _check_csrf(request: HttpRequest) -> None:
    """Django's CSRF check for a session write (as DRF's SessionAuthentication runs it), answered as the one
    JSON refusal instead of the HTML failure page. These endpoints know sessions only: always checked."""
    check = CsrfViewMiddleware(lambda r: None)
    check.process_request(request)
    if check.process_view(request, None, (), {}) is not None:
        raise Refused(403, "csrf_failed", field="X-CSRFToken", detail=_("安全校验失败（CSRF），请刷新页面后重试"))


def endpoint(
    *,
    residents: bool = False,
    creates: tuple[str, ...] = (),
    guards: tuple[str, ...] = (),
    reads: tuple[str, ...] = (),
    get: bool = True,
):
    """401 for anonymous users, 403 for accounts without a role (or, with ``residents``, for planners,
    who get aggregates only), and ``Refused`` → its JSON answer. ``creates`` and ``guards`` name the write
    methods (``guards``: writes to an existing object, which the view holds to the concurrency rule with
    :func:`precondition` or :func:`locked` *after* scope and rights, so 403/404 never depend on the header),
    ``reads`` the POSTs that change nothing (a computation, an audited export); those and GET (unless
    ``get`` is false) are the methods allowed, any other is 405 with ``Allow``;
    tests/test_write_api_rules.py walks the URL patterns and holds every view to what it declares."""

    def decorate(view):
        allowed = sorted({*creates, *guards, *reads, *(("GET",) if get else ())})

        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                response = refusal(
                    Refused(
                        405,
                        "method_not_allowed",
                        field="method",
                        detail=reason("method_not_allowed", note=request.method),
                    )
                )
                response["Allow"] = ", ".join(allowed)
                return response
            try:
                if not request.user.is_authenticated:
                    raise Refused(401, "login_required")
                if request.method not in SAFE_METHODS:
                    _check_csrf(request)
                if policy.role_of(request.user) is None:
                    raise Refused(403, "forbidden", detail=_("账号没有角色"))
                if residents and not policy.sees_residents(request.user):
                    raise Refused(403, "forbidden", detail=_("此角色只能查看汇总数据"))
                return view(request, *args, **kwargs)
            except Refused as exc:
                return refusal(exc)

        # The CSRF check runs inside (after the 405 and the 401), so every answer is the one JSON shape.
        wrapped.csrf_exempt = True
        wrapped.creates, wrapped.guards, wrapped.reads = frozenset(creates), frozenset(guards), frozenset(reads)
        wrapped.allowed = frozenset(allowed)
        return wrapped

    return decorate


# -- the same shape for the DRF views (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]) ----------------------

_DRF_CODES = {
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _first_error(data, field: str = "") -> tuple[str, object]:
    """The first (field, error) of DRF's nested error data: ``{"name": ["必填"]}`` → ("name", "必填")."""
    if isinstance(data, dict) and data:
        key, value = next(iter(data.items()))
        return _first_error(value, f"{field}.{key}" if field else str(key))
    if isinstance(data, list) and data:
        return _first_error(data[0], field)
    return field, data


def drf_exception_handler(exc, context):
    """DRF's handler, then the body reshaped to ``{"code", "field", "detail", "errors"?}``: the one shape."""
    from rest_framework.exceptions import ParseError, ValidationError
    from rest_framework.response import Response
    from rest_framework.views import exception_handler

    if isinstance(exc, Refused):
        return Response(exc.as_json(), status=exc.status)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        field, error = _first_error(exc.detail)
        code = "required" if getattr(error, "code", "") == "required" else "bad_value"
        body = {
            "code": code,
            "field": field.removeprefix("non_field_errors"),
            "detail": str(error),
            "errors": response.data,
        }
    else:
        code = "malformed_json" if isinstance(exc, ParseError) else _DRF_CODES.get(response.status_code, "bad_request")
        # Django's Http404 and PermissionDenied reach here too (DRF converts them): they carry no ``detail``.
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = {"code": code, "field": "body" if isinstance(exc, ParseError) else "", "detail": str(detail)}
    response.data = body
    return response
