"""Small helpers shared by the people, household and central-household endpoints: a JSON reply that is
never cached, a safe JSON body parser, and a decorator that answers 401/403 and turns ``Refused`` into
its 4xx body. A view that gets here never answers 500 for anything the client sent."""

from __future__ import annotations

import datetime as dt
import json
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.services import audit
from gridmap.services.refused import Refused

MAX_JSON_DEPTH = 20


def reply(data, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


def _depth(value, limit: int) -> int:
    stack, deepest = [(value, 1)], 1
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def body(request: HttpRequest) -> dict:
    """The request's JSON object; 415 for another content type, 400 for malformed or too deep JSON."""
    if request.content_type != "application/json":
        raise Refused(415, "unsupported_media_type", field="body", detail="Content-Type: application/json")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise Refused(413, "too_large", field="body") from None
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise Refused(400, "malformed_json", field="body", detail=_("请求内容不是有效的 JSON")) from None
    if not isinstance(data, dict):
        raise Refused(400, "not_an_object", field="body", detail=_("请求内容应为 JSON 对象"))
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise Refused(400, "too_deep", field="body", detail=_("JSON 嵌套过深"))
    return data


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
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise Refused(400, "bad_value", field=key, detail=_("应为正整数"))
    return value


# One client-address rule for the API and the audit trail (REMOTE_ADDR only): services/audit.client_address.
client_ip = audit.client_address


def endpoint(*, residents: bool = False):
    """401 for anonymous users, 403 for accounts without a role (or, with ``residents``, for planners,
    who get aggregates only), and ``Refused`` → its JSON answer."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return reply({"code": "login_required", "detail": _("需要登录")}, 401)
            if policy.role_of(request.user) is None:
                return reply({"code": "forbidden", "detail": _("账号没有角色")}, 403)
            if residents and not policy.sees_residents(request.user):
                return reply({"code": "forbidden", "detail": _("此角色只能查看汇总数据")}, 403)
            try:
                return view(request, *args, **kwargs)
            except Refused as exc:
                return reply(exc.as_json(), exc.status)

        return wrapped

    return decorate
