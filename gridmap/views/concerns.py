"""The concerns page: grid staff report and work through their grid's concerns on a phone; community and
street staff dispatch them (the board). One page, the actions each user may take come from the server."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models.concerns import ConcernCategory, ConcernSource, Feedback, HandlerLevel, Urgency


@login_required
def concerns_page(request: HttpRequest) -> HttpResponse:
    level = policy.concern_level(request.user)
    if level is None:
        raise PermissionDenied(_("此角色不处理民情诉求"))
    context = {
        "level": level,
        "categories": ConcernCategory.objects.filter(active=True).order_by("code"),
        "urgencies": Urgency.choices,
        "sources": ConcernSource.choices,
        "handler_levels": HandlerLevel.choices,
        "feedbacks": Feedback.choices,
    }
    return render(request, "gridmap/concerns.html", context)
