"""Public intake of concerns by QR code (issue #17 item 6): per community a switch (off by default) and an
unguessable token in the public address; the counters of the rate limits; a resident's optional contact phone,
sealed at rest. services/concerns/intake.py reads and writes them all."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from gridmap.models.households import sealed_constraints
from gridmap.storage.sealed_fields import sealed_property


class CommunityIntake(models.Model):
    """A community's public intake: on or off, and the token of its public address (/r/<token>/). A new token
    makes every printed QR code of the old one answer 404."""

    community = models.OneToOneField("gridmap.Community", on_delete=models.CASCADE, related_name="intake",
                                     verbose_name=_("社区"))  # fmt: skip
    enabled = models.BooleanField(_("开放扫码填报"), default=False)
    token = models.CharField(_("公开地址令牌"), max_length=43, unique=True)
    changed_at = models.DateTimeField(_("修改时间"), db_default=Now())

    class Meta:
        verbose_name = _("扫码填报设置")
        verbose_name_plural = _("扫码填报设置")


class IntakeHit(models.Model):
    """One accepted public submission, counted per community and client: ``kind`` "address" or "device", ``key``
    a keyed digest of the address or the device id (never the address itself). Rows older than a day are
    deleted set-based on every submission."""

    community = models.ForeignKey("gridmap.Community", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("社区"))  # fmt: skip
    kind = models.CharField(_("类型"), max_length=8)
    key = models.CharField(_("摘要"), max_length=64)
    at = models.DateTimeField(_("时间"), db_default=Now())

    class Meta:
        verbose_name = _("扫码填报计数")
        verbose_name_plural = _("扫码填报计数")
        indexes = [models.Index(fields=["community", "kind", "key", "at"], name="intake_hit_window")]


class IntakeRefusal(models.Model):
    """Refused public submissions per day and reason (no address, no device, no content): what abuse looks like."""

    community = models.ForeignKey("gridmap.Community", null=True, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("社区"))  # fmt: skip
    day = models.DateField(_("日期"))
    reason = models.CharField(_("原因"), max_length=32)
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("扫码填报拒绝统计")
        verbose_name_plural = _("扫码填报拒绝统计")
        constraints = [models.UniqueConstraint(fields=["community", "day", "reason"], name="intake_refusal_once",
                                               nulls_distinct=False)]  # fmt: skip


class ConcernContact(models.Model):
    """The contact phone a resident left with a public submission, sealed like a household's phone."""

    concern = models.OneToOneField("gridmap.Concern", on_delete=models.CASCADE, related_name="contact",
                                   verbose_name=_("诉求"))  # fmt: skip
    phone_sealed = models.BinaryField(_("电话（密文）"), null=True, editable=False)
    phone_digest = models.BinaryField(_("电话（索引）"), null=True, editable=False)
    phone_masked = models.CharField(_("电话"), max_length=11, blank=True, default="", db_default="", editable=False)

    class Meta:
        verbose_name = _("诉求联系人")
        verbose_name_plural = _("诉求联系人")
        constraints = sealed_constraints("concern_contact", "phone")

    phone = sealed_property("phone")
