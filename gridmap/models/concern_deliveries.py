"""The outgoing webhook's outbox (issue #17): one row per concern event a 12345 platform should hear of, written
in the event's own transaction (services/concerns/outbox.py) and sent later by ``manage.py concern_webhooks``
(services/concerns/webhook.py), retried with backoff until delivered or failed. The payload holds no personal
data: codes, states, times and the point only."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from gridmap.models.concerns import Concern, ConcernEvent


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


class ConcernDelivery(models.Model):
    """One event for the outside platform. ``next_attempt_at``: when a pending row is due, or until when a
    sender holds a row it is sending (a sender that died gives it back then)."""

    event = models.OneToOneField(ConcernEvent, on_delete=models.CASCADE, related_name="delivery",
                                 verbose_name=_("流转记录"))  # fmt: skip
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("诉求"))
    payload = models.JSONField(_("推送内容"))
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), db_default=Now())
    last_attempt_at = models.DateTimeField(_("上次尝试"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("上次响应码"), null=True, blank=True)
    last_error = models.CharField(_("上次错误"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), db_default=Now())

    class Meta:
        verbose_name = _("诉求推送")
        verbose_name_plural = _("诉求推送")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]),
                         name="concern_delivery_due"),
            models.Index(fields=["status", "concern"], name="concern_delivery_status"),
        ]  # fmt: skip
