"""The concerns page: grid staff report and work through their grid's concerns on a phone; community and
street staff dispatch them (the board). One page, the actions each user may take come from the server."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import DeliveryStatus
from gridmap.models.concerns import ConcernCategory, ConcernSource, Feedback, HandlerLevel, Urgency
from gridmap.queries.concern_deliveries import delivery_board
from gridmap.services.concerns import deadlines as street_deadlines
from gridmap.services.concerns.outbox import enabled as webhook_enabled
from gridmap.services.refused import Refused


@login_required
def concerns_page(request: HttpRequest) -> HttpResponse:
    level = policy.concerns_page_level(request.user)
    if level is None:
        raise PermissionDenied(_("此角色不处理民情诉求"))
    context = {
        "level": level,
        "categories": ConcernCategory.objects.filter(active=True).order_by("code"),
        "urgencies": Urgency.choices,
        "sources": ConcernSource.choices,
        "handler_levels": HandlerLevel.choices,
        "feedbacks": Feedback.choices,
        "sets_deadlines": policy.deadline_street_of(request.user) is not None,
        "sees_deliveries": policy.sees_concern_deliveries(request.user),
        # The 统计 panel (concern_kpis.js): its presets count back from the site's today; 街道 is a level only
        # for a scope of several streets; the ledger link says why a period is too long before it is asked.
        "today": timezone.localdate().isoformat(),
        "many_streets": policy.streets_for(request.user).count() > 1,
        "ledger_max": settings.CONCERN_LEDGER_MAX_ROWS,
    }
    return render(request, "gridmap/concerns.html", context)


@login_required
def deadlines_page(request: HttpRequest) -> HttpResponse:
    """The street admin's concern deadlines: per category the hours of each stage, his street's own or the
    default, and whether they count working days only. One form; the service checks every value first."""
    try:
        street = street_deadlines.street_for(request.user)
    except Refused as exc:
        raise PermissionDenied(exc.message) from None
    status, error = 200, None
    if request.method == "POST":
        rows = [
            {"category": code, "own": request.POST.get(f"own-{code}") == "on",
             "working_days": request.POST.get(f"wd-{code}") == "on",
             **{f"{s}_hours": request.POST.get(f"{code}-{s}") for s in street_deadlines.STAGES}}
            for code in request.POST.getlist("category")
        ]  # fmt: skip
        try:
            street_deadlines.save_deadlines(request.user, rows, request=request)
            return redirect(request.path + "?saved=1")
        except Refused as exc:
            status, error = exc.status, f"{exc.message}（{exc.field}）" if exc.field else exc.message
    context = {"street": street, "rows": street_deadlines.deadlines(street), "stages": street_deadlines.STAGES,
               "error": error, "saved": request.GET.get("saved") == "1"}  # fmt: skip
    return render(request, "gridmap/concern_deadlines.html", context, status=status)


@login_required
def webhook_page(request: HttpRequest) -> HttpResponse:
    """The concern webhook's deliveries of the user's scope that wait or failed, with attempts, last error and next
    attempt, each failed or pending one with a "retry now" button (api/concern_deliveries.retry)."""
    if not policy.sees_concern_deliveries(request.user):
        raise PermissionDenied(_("只有系统管理员和街道管理员可以查看诉求推送"))
    status = request.GET.get("status", "")
    board = delivery_board(policy.concern_deliveries_for(request.user), status)
    context = {**board, "status": status if status in DeliveryStatus.values else "", "statuses": DeliveryStatus.choices,
               "enabled": webhook_enabled()}  # fmt: skip
    return render(request, "gridmap/concern_webhook.html", context)
