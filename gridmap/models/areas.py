"""Streets, communities and grids: the areas that tile a county, and a grid's boundary history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import IsValid
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

STREET_CODE = r"^[0-9]{9}$"
COMMUNITY_CODE = r"^[0-9]{12}$"
GRID_CODE = r"^[0-9]{15}$"


def _valid_area(model: str, field: str = "boundary") -> models.CheckConstraint:
    # PostGIS stores invalid polygons happily; the constraint is the last line behind the validator.
    return models.CheckConstraint(condition=IsValid(field), name=f"{model}_{field}_valid")


class Street(models.Model):
    """街道/镇/苏木: 9-digit code (6 county + 3 township)."""

    code = models.CharField(_("代码"), max_length=9, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    boundary = models.MultiPolygonField(_("边界"), srid=4326)

    class Meta:
        verbose_name = _("街道")
        verbose_name_plural = _("街道")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=STREET_CODE), name="street_code_9_digits"),
            _valid_area("street"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Community(models.Model):
    """社区/嘎查村: 12-digit statistical code (street code + 3-digit village part)."""

    class Kind(models.TextChoices):
        URBAN = "urban", _("城市社区")
        RURAL = "rural", _("农村牧区")

    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("街道"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.URBAN)
    boundary = models.MultiPolygonField(_("边界"), srid=4326)

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=COMMUNITY_CODE), name="community_code_12_digits"),
            _valid_area("community"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class GridStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已撤销")


class GridQuerySet(models.QuerySet):
    def published(self) -> GridQuerySet:
        return self.filter(status=GridStatus.PUBLISHED)


class Grid(models.Model):
    """网格: 15-digit code (community code + 3-digit sequence). A retired grid keeps its code forever."""

    code = models.CharField(_("代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("社区"))
    boundary = models.MultiPolygonField(_("边界"), srid=4326)
    status = models.CharField(_("状态"), max_length=10, choices=GridStatus.choices, default=GridStatus.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)  # optimistic concurrency for edits
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    # A pending edit of a published grid: households follow ``boundary`` until a street admin publishes
    # (services.grid_publishing). A draft grid keeps its shape in ``boundary`` and owns no households.
    draft_boundary = models.MultiPolygonField(_("待发布边界"), srid=4326, null=True, blank=True)
    retire_on_publish = models.BooleanField(_("发布时撤销"), default=False, db_default=False)  # raw-SQL loaders omit it

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=GRID_CODE), name="grid_code_15_digits"),
            _valid_area("grid"),
            _valid_area("grid", "draft_boundary"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.code and self.community_id and not self.code.startswith(self.community.code):
            raise ValidationError({"code": _("网格代码必须以所属社区代码开头")})


class GridVersion(models.Model):
    """One published (or restored) boundary of a grid: who, when, what, why."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    boundary = models.MultiPolygonField(_("边界"), srid=4326)
    status = models.CharField(_("状态"), max_length=10, choices=GridStatus.choices)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("网格版本")
        verbose_name_plural = _("网格版本")
        ordering = ["grid", "-number"]
        constraints = [models.UniqueConstraint(fields=["grid", "number"], name="grid_version_unique")]
