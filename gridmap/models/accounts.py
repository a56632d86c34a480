"""A user's role and scope: which street, community or grids the user works in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    STREET_ADMIN = "street_admin", _("街道管理员")
    COMMUNITY_STAFF = "community_staff", _("社区工作者")
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_WORKER = "grid_worker", _("网格员")
    PLANNER = "planner", _("规划人员")


class Profile(models.Model):
    """Scope: a street admin has a street, community staff a community, a planner one or more streets;
    grid leaders and workers get their grids from their member's active assignments."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    street = models.ForeignKey(
        "gridmap.Street", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("街道")
    )
    community = models.ForeignKey(
        "gridmap.Community", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("社区")
    )
    planner_streets = models.ManyToManyField(
        "gridmap.Street", blank=True, related_name="planners", verbose_name=_("规划范围")
    )

    class Meta:
        verbose_name = _("账号角色")
        verbose_name_plural = _("账号角色")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="street_admin") | Q(street__isnull=False), name="street_admin_has_street"
            ),
            models.CheckConstraint(
                condition=~Q(role="community_staff") | Q(community__isnull=False), name="community_staff_has_community"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class LoginAttempt(models.Model):
    """One sign-in attempt, kept for the lockout rule (5 failures in 15 minutes per account and address)."""

    username = models.CharField(_("用户名"), max_length=150)
    address = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    succeeded = models.BooleanField(_("成功"))
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        indexes = [models.Index(fields=["username", "address", "at"], name="login_attempt_lookup")]
