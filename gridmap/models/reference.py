"""Reference layers: roads, water, residential compounds (小区) and buildings, drawn beneath the grids so that
a map shows where things are without any outside tile server, and snapped to while drawing grids. Not
resident data: every signed-in role sees them."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class ReferenceKind(models.TextChoices):
    WATER = "water", _("水系")
    ROAD = "road", _("道路")
    COMPOUND = "compound", _("小区")
    BUILDING = "building", _("建筑")


class ReferenceFeature(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=ReferenceKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    geometry = models.GeometryField(_("几何"), srid=4326)
    street = models.ForeignKey(
        "gridmap.Street",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reference_features",
        verbose_name=_("所属街道"),
        help_text=_("导入者的街道；空为全市"),
    )
    source = models.CharField(_("来源"), max_length=200, blank=True)
    # set by the database: an import's COPY leaves it out (the data exchange page lists each layer's last import)
    imported_at = models.DateTimeField(_("导入时间"), db_default=Now())

    class Meta:
        verbose_name = _("参考要素")
        verbose_name_plural = _("参考要素")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}".strip()
