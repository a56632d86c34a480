"""Public intake of concerns by QR code (issue #17 item 6). Staff: /concerns/intake/ (the switch per community,
the QR code, the poster), for the street admin of the community's street and the system admin. The public:
/r/<token>/, no account — GET the phone page, POST one concern (JSON answer: a receipt, or the refusal). Every
check lives in services/concerns/intake.py; these views parse and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gridmap import policy
from gridmap.models.concerns import ConcernCategory
from gridmap.rules.fields import plain_number
from gridmap.services.concerns import intake as service
from gridmap.services.refused import Refused


def _staff(request: HttpRequest) -> None:
    if not policy.intake_communities_for(request.user).exists():
        raise PermissionDenied(_("只有街道管理员和系统管理员可以设置扫码填报"))


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Per community: public intake on/off, a new token, the QR code and the poster."""
    _staff(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("on", "off", "regenerate"):
            return HttpResponse(_("未知操作"), status=400, content_type="text/plain; charset=utf-8")
        try:
            service.set_intake(request.user, request.POST.get("community", ""), request=request,
                               enabled=None if action == "regenerate" else action == "on",
                               regenerate=action == "regenerate")  # fmt: skip
        except Refused as exc:
            raise Http404 from exc
        return redirect(request.path + "?saved=1")
    rows = [{**row, "url": request.build_absolute_uri(reverse("intake-public", args=[row["token"]]))
             if row["token"] else ""} for row in service.settings_for(request.user)]  # fmt: skip
    return render(request, "gridmap/concern_intake.html", {"rows": rows, "saved": request.GET.get("saved") == "1"})


def _intake(request: HttpRequest, community_id: int):
    _staff(request)
    try:
        return service.intake_of(request.user, str(community_id))
    except Refused as exc:
        raise Http404 from exc


@login_required
def qr_code(request: HttpRequest, community_id: int) -> HttpResponse:
    """The QR code of a switched-on community's public address, as SVG made on this server."""
    intake = _intake(request, community_id)
    url = request.build_absolute_uri(reverse("intake-public", args=[intake.token]))
    response = HttpResponse(service.qr_svg(url), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


# A wall poster, a notice-board sheet, a card for a service counter: the paper in millimetres (Chromium knows no
# "A6" keyword and drops the whole size then) and the print margin.
POSTER_SIZES = {"a4": ("210mm 297mm", "12mm"), "a5": ("148mm 210mm", "10mm"), "a6": ("105mm 148mm", "6mm")}


@login_required
def poster(request: HttpRequest, community_id: int) -> HttpResponse:
    """A printable poster (``?size=a4|a5|a6``, A4 by default): the community's name, the QR code and the address."""
    intake = _intake(request, community_id)
    size = request.GET.get("size", "a4")
    if size not in POSTER_SIZES:
        return HttpResponseBadRequest(_("size 应为 a4、a5 或 a6"), content_type="text/plain; charset=utf-8")
    url = request.build_absolute_uri(reverse("intake-public", args=[intake.token]))
    return render(request, "gridmap/concern_intake_poster.html",
                  {"community": intake.community, "url": url, "qr": service.qr_svg(url), "size": size,
                   "paper": POSTER_SIZES[size][0], "margin": POSTER_SIZES[size][1], "sizes": POSTER_SIZES})  # fmt: skip


def _refusal(exc: Refused) -> JsonResponse:
    response = JsonResponse({"code": exc.code, "field": exc.field, "detail": exc.detail}, status=exc.status)
    if exc.status == 429:
        response["Retry-After"] = str(exc.extra.get("retry_after", 3600))
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def public_page(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's page (GET) and submission (POST). Wrong, old or switched-off token: 404 either way."""
    try:
        intake = service.open_intake(token)
    except Refused as exc:
        raise Http404 from exc
    if request.method == "GET":
        categories = ConcernCategory.objects.filter(active=True, is_wish=False).order_by("code")
        community = intake.community
        context = {"community": community, "categories": categories, "text_limit": settings.CONCERN_INTAKE_TEXT,
                   "outline": service.community_outline(community), "photos": settings.CONCERN_INTAKE_PHOTOS,
                   "reference": service.community_reference(community)}  # fmt: skip
        response = render(request, "gridmap/public_intake.html", context)
        return response
    length = request.META.get("CONTENT_LENGTH") or ""
    if not plain_number(length) or int(length) > settings.CONCERN_INTAKE_MAX_BODY:  # before reading a byte of it
        service.refuse(intake.community_id, "body_size")
        return _refusal(Refused(413, "too_large", field="", detail=_("提交内容过大")))
    device, new = service.device_id(request.COOKIES.get(service.DEVICE_COOKIE))
    try:
        uploads = request.FILES.getlist("photo")
        number = service.submit(intake, request.POST.dict(), uploads, address=request.META.get("REMOTE_ADDR"),
                                device=device)  # fmt: skip
        response = JsonResponse({"receipt": number, "detail": _("已收到，工作人员会尽快核实处理")}, status=201)
    except Refused as exc:
        response = _refusal(exc)
    if new:
        response.set_cookie(service.DEVICE_COOKIE, service.signed_device(device), max_age=365 * 86400,
                            httponly=True, samesite="Lax", secure=request.is_secure())  # fmt: skip
    return response
