"""What-if station proposals (规划方案): a planner's saved scenario of moved and added service stations.

A proposal changes nothing on the map: it records where stations would go and with which radius, so that
other planners and street admins of the same street can open it and see its figures recomputed."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridmap.rules.fields import STATION_RADIUS_MAX_M


class StationProposal(models.Model):
    name = models.CharField(_("方案名称"), max_length=100)
    street = models.ForeignKey(
        "gridmap.Street", on_delete=models.PROTECT, related_name="proposals", verbose_name=_("街道")
    )
    # PROTECT, like the audit trail: an author's account is disabled, never deleted.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提出人")
    )
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务站规划方案")
        verbose_name_plural = _("服务站规划方案")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name


class ProposedStation(models.Model):
    """One station of a proposal: an existing station moved (``station`` set) or a new one (``station`` null)."""

    proposal = models.ForeignKey(
        StationProposal, on_delete=models.CASCADE, related_name="stations", verbose_name=_("方案")
    )
    station = models.ForeignKey(
        "gridmap.ServiceStation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("原服务站"),
    )
    location = models.PointField(_("位置"), srid=4326)
    radius_m = models.PositiveIntegerField(_("服务半径(米)"))

    class Meta:
        verbose_name = _("方案中的服务站")
        verbose_name_plural = _("方案中的服务站")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_m__gt=0) & Q(radius_m__lte=STATION_RADIUS_MAX_M), name="proposed_station_radius_sane"
            ),
        ]
