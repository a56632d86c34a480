"""A grid worker's visit to a household (走访): date, who, note."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Visit(models.Model):
    household = models.ForeignKey(
        "gridmap.Household", on_delete=models.CASCADE, related_name="visits", verbose_name=_("住户")
    )
    visited_on = models.DateField(_("走访日期"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("走访人账号")
    )
    visitor = models.CharField(_("走访人"), max_length=50)  # the name as it was, kept if the account goes
    note = models.TextField(_("情况记录"), max_length=2000)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "-visited_on"], name="visit_household_date")]
