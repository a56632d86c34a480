"""An append-only record of sensitive access: every full reveal of personal data and every export.

Issue 9 hardens it (INSERT-only database role, retention); here the model refuses updates and deletes so
application code cannot rewrite history by accident.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    REVEAL = "reveal", _("查看完整个人信息")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    ASSIGN = "assign", _("网格分工")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKOUT = "lockout", _("账号锁定")
    LOGOUT = "logout", _("退出")
    PUBLISH = "publish", _("发布网格")
    PROPOSE = "propose", _("保存规划方案")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    PASSWORD_RESET = "password_reset", _("管理员重置密码")
    ACCOUNT_DISABLE = "account_disable", _("停用账号")
    ACCOUNT_ENABLE = "account_enable", _("启用账号")
    ROLE_CHANGE = "role_change", _("角色变更")
    CONCERN = "concern", _("诉求流转")


class AuditEvent(models.Model):
    """Who, when, what (action + object), why (reason), from where (ip), with what result."""

    # PROTECT: an account with an audit trail is disabled, never deleted (the trail cannot be rewritten).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("用户")
    )
    username = models.CharField(_("用户名"), max_length=150)  # also for attempts with an unknown name
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    action = models.CharField(_("操作"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=40)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    fields = models.CharField(_("字段"), max_length=200, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    result = models.CharField(_("结果"), max_length=16, default="ok")

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")
