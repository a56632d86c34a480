"""People who serve (人员), their grid assignments with history, and help pairs (帮扶对子)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridmap.models.households import sealed_constraints
from gridmap.storage.sealed_fields import sealed_property


class Member(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    # 拼音首字母 of the name ("张三" → "zs"), for search; maintained by services.members (set-based on
    # import and after bulk loads). db_default so raw-SQL loaders that omit it stay valid.
    pinyin_initials = models.CharField(
        _("拼音首字母"), max_length=50, blank=True, default="", db_default="", db_index=True
    )
    # Sealed at rest like a household's phone (gridmap.storage.sealed_fields).
    phone_sealed = models.BinaryField(_("电话（密文）"), null=True, editable=False)
    phone_digest = models.BinaryField(_("电话（索引）"), null=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("电话"), max_length=11, blank=True, default="", db_default="", editable=False)
    is_party_member = models.BooleanField(_("党员"), default=False)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)  # in-service party members (在职党员)
    community = models.ForeignKey(
        "gridmap.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("居住社区"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
        verbose_name=_("登录账号"),
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["name"]
        constraints = sealed_constraints("member", "phone")

    phone = sealed_property("phone")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from gridmap.rules.pinyin import pinyin_initials  # pypinyin stays out of model import time

        self.pinyin_initials = pinyin_initials(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "pinyin_initials"}
        super().save(*args, **kwargs)


class AssignmentRole(models.TextChoices):
    LEADER = "leader", _("网格长")
    FULLTIME = "fulltime", _("专职网格员")
    PARTTIME = "parttime", _("兼职网格员")
    BUILDING = "building", _("楼栋长")
    VOLUNTEER = "volunteer", _("党员志愿者")


class ActiveAssignments(models.QuerySet):
    def active(self):
        return self.filter(end_date__isnull=True)


class GridAssignment(models.Model):
    """A member's role in a grid from start to end; an ended assignment stays as history."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="assignments")
    grid = models.ForeignKey("gridmap.Grid", on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("角色"), max_length=10, choices=AssignmentRole.choices)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)

    objects = ActiveAssignments.as_manager()

    class Meta:
        verbose_name = _("网格分工")
        verbose_name_plural = _("网格分工")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"], condition=Q(role="leader", end_date__isnull=True), name="one_active_leader_per_grid"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_ends_after_start",
            ),
        ]


class HelpPair(models.Model):
    """A household in difficulty paired with a member or a unit that helps it."""

    household = models.ForeignKey("gridmap.Household", on_delete=models.CASCADE, related_name="help_pairs")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE, related_name="help_pairs")
    unit = models.CharField(_("帮扶单位"), max_length=100, blank=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("帮扶对子")
        verbose_name_plural = _("帮扶对子")
        constraints = [
            models.CheckConstraint(condition=Q(member__isnull=False) | ~Q(unit=""), name="help_pair_has_helper"),
        ]
