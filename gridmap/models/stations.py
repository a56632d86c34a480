"""Service stations (党群服务中心/站, 便民服务站) with a service radius in metres."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridmap.rules.fields import STATION_RADIUS_MAX_M


class StationKind(models.TextChoices):
    CENTER = "center", _("党群服务中心")
    STATION = "station", _("党群服务站")
    CONVENIENCE = "convenience", _("便民服务站")


class ServiceStation(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=StationKind.choices, default=StationKind.STATION)
    location = models.PointField(_("位置"), srid=4326)
    radius_m = models.PositiveIntegerField(_("服务半径(米)"), default=500)  # geodesic metres
    community = models.ForeignKey(
        "gridmap.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stations",
        verbose_name=_("社区"),
    )
    opening_hours = models.CharField(_("开放时间"), max_length=100, blank=True)
    services = models.CharField(_("服务项目"), max_length=500, blank=True)
    active = models.BooleanField(_("运行中"), default=True)

    class Meta:
        verbose_name = _("服务站")
        verbose_name_plural = _("服务站")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_m__gt=0) & Q(radius_m__lte=STATION_RADIUS_MAX_M), name="station_radius_sane"
            ),
        ]

    def __str__(self) -> str:
        return self.name
