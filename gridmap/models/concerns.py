"""Residents' concerns (民情诉求) and small wishes (微心愿): what a grid worker reports, its categories with the
deadline of every stage, and its history, one row per transition (services/concerns/ writes them all)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# The default categories' names (migration 0018 seeds them); shown through gettext, so the English UI names
# them too. A street's own categories are shown as typed.
DEFAULT_CATEGORY_NAMES = (
    gettext_noop("环境卫生"),
    gettext_noop("物业设施"),
    gettext_noop("邻里纠纷"),
    gettext_noop("公共安全"),
    gettext_noop("助老助残"),
    gettext_noop("政策咨询"),
    gettext_noop("微心愿"),
)


class ConcernState(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已立案")
    REJECTED = "rejected", _("不予立案")
    DISPATCHED = "dispatched", _("已派遣")
    IN_PROGRESS = "in_progress", _("处置中")
    HANDLED = "handled", _("已处置")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已结案")
    REOPENED = "reopened", _("已重办")
    PARKED = "parked", _("挂账")
    EXTENDED = "extended", _("已延期")
    RETURNED = "returned", _("已回退")
    VOID = "void", _("已作废")


# Open: somebody still has to act (parked ones wait on purpose); final: nothing more happens.
OPEN_STATES = (
    ConcernState.REPORTED, ConcernState.ACCEPTED, ConcernState.DISPATCHED, ConcernState.IN_PROGRESS, ConcernState.HANDLED,
    ConcernState.VERIFIED, ConcernState.REOPENED, ConcernState.PARKED, ConcernState.EXTENDED, ConcernState.RETURNED,
)  # fmt: skip
FINAL_STATES = (ConcernState.CLOSED, ConcernState.REJECTED, ConcernState.VOID)
# The four stages with a deadline (受理、派遣、处置、核查; services/concerns/states.STAGE maps states to them) and
# each one's bit in Concern.late_stages.
STAGES = ("accept", "dispatch", "handle", "verify")
STAGE_BITS = {stage: 1 << i for i, stage in enumerate(STAGES)}


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class ConcernSource(models.TextChoices):
    PATROL = "patrol", _("网格巡查")
    PHONE = "phone", _("电话")
    WALK_IN = "walk_in", _("来访")
    QR_FORM = "qr_form", _("扫码填报")
    HOTLINE = "hotline_12345", _("12345 转办")


class HandlerLevel(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道科室")
    OUTSIDE = "outside", _("外部单位")


class Feedback(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class ConcernCategory(models.Model):
    """A node of the category tree; the hours of each stage are calendar hours (urgent: half)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级")
    )
    accept_hours = models.PositiveIntegerField(_("立案时限（小时）"), default=24)
    dispatch_hours = models.PositiveIntegerField(_("派遣时限（小时）"), default=24)
    handle_hours = models.PositiveIntegerField(_("处置时限（小时）"), default=72)
    verify_hours = models.PositiveIntegerField(_("核查时限（小时）"), default=24)
    is_wish = models.BooleanField(_("微心愿"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the UI's language (the defaults are in the catalogue; others as typed)."""
        return gettext(self.name) if self.name in DEFAULT_CATEGORY_NAMES else self.name


class StreetDeadline(models.Model):
    """A street's own stage hours for a category (set by its street admin on /concerns/deadlines/), and whether
    they count working days only (weekends and CONCERN_HOLIDAYS skipped, CONCERN_MAKEUP_WORKDAYS counted).
    Without a row the category's calendar hours apply (services/concerns/states.py)."""

    street = models.ForeignKey("gridmap.Street", on_delete=models.CASCADE, related_name="concern_deadlines",
                               verbose_name=_("街道"))  # fmt: skip
    category = models.ForeignKey(ConcernCategory, on_delete=models.CASCADE, related_name="street_deadlines",
                                 verbose_name=_("诉求类别"))  # fmt: skip
    accept_hours = models.PositiveIntegerField(_("立案时限（小时）"))
    dispatch_hours = models.PositiveIntegerField(_("派遣时限（小时）"))
    handle_hours = models.PositiveIntegerField(_("处置时限（小时）"))
    verify_hours = models.PositiveIntegerField(_("核查时限（小时）"))
    working_days = models.BooleanField(_("按工作日计"), default=True)

    class Meta:
        verbose_name = _("街道诉求时限")
        verbose_name_plural = _("街道诉求时限")
        constraints = [models.UniqueConstraint(fields=["street", "category"], name="street_deadline_once")]


class Concern(models.Model):
    uid = models.UUIDField(_("客户端编号"), unique=True, default=uuid.uuid4)  # an offline replay creates one
    category = models.ForeignKey(ConcernCategory, on_delete=models.PROTECT, verbose_name=_("类别"))
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    location = models.PointField(_("位置"), srid=4326)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    description = models.TextField(_("描述"), max_length=2000)
    source = models.CharField(_("来源"), max_length=16, choices=ConcernSource.choices, default=ConcernSource.PATROL)
    household = models.ForeignKey(
        "gridmap.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("住户")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("上报人")
    )
    # Derived from the point by the one home rule (services/grids/rehoming.homes_sql), never typed.
    grid = models.ForeignKey(
        "gridmap.Grid", null=True, on_delete=models.SET_NULL, related_name="concerns", verbose_name=_("网格")
    )
    community = models.ForeignKey("gridmap.Community", on_delete=models.PROTECT, verbose_name=_("社区"))
    state = models.CharField(_("状态"), max_length=16, choices=ConcernState.choices, default=ConcernState.REPORTED)
    version = models.PositiveIntegerField(_("版本"), default=1)
    handler_level = models.CharField(_("处置层级"), max_length=10, choices=HandlerLevel.choices, blank=True)
    handler_name = models.CharField(_("处置单位"), max_length=100, blank=True)
    stage_started_at = models.DateTimeField(_("本环节开始"), db_default=Now())
    due_at = models.DateTimeField(_("本环节时限"), null=True)  # from the category's hours; null when closed
    rework = models.PositiveIntegerField(_("返工次数"), default=0)
    late_steps = models.PositiveIntegerField(_("超期环节数"), default=0)  # steps taken after their deadline
    reopened = models.PositiveIntegerField(_("重办次数"), default=0)
    escalated = models.BooleanField(_("已督办"), default=False)
    # Time per stage (受理、派遣、处置、核查), for the KPIs' mean time and on-time rate per stage: the hours spent in
    # each stage so far (a stage entered again, after rework or a return, adds to it; null: never left), and
    # which stages were left after their deadline (bits of STAGE_BITS). Kept on the row by each transition, so
    # the KPIs read them with the rest from one index instead of walking every concern's history.
    hours_accept = models.FloatField(_("受理用时（小时）"), null=True, blank=True)
    hours_dispatch = models.FloatField(_("派遣用时（小时）"), null=True, blank=True)
    hours_handle = models.FloatField(_("处置用时（小时）"), null=True, blank=True)
    hours_verify = models.FloatField(_("核查用时（小时）"), null=True, blank=True)
    late_stages = models.PositiveSmallIntegerField(_("超期环节"), default=0, db_default=0)
    feedback = models.CharField(_("回访评价"), max_length=12, choices=Feedback.choices, blank=True)
    # Small wishes and service projects (微心愿、服务项目): the member who claimed it (认领), what was given.
    claimed_by = models.ForeignKey(
        "gridmap.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="claims",
        verbose_name=_("认领人"),
    )  # fmt: skip
    service_hours = models.DecimalField(_("服务时长（小时）"), max_digits=7, decimal_places=1, null=True, blank=True)
    beneficiaries = models.PositiveIntegerField(_("受益人数"), null=True, blank=True)
    # A duplicate merged into another concern (合并重复, services/concerns/merge.py) is void and names the one kept.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_in", verbose_name=_("合并到")
    )
    created_at = models.DateTimeField(_("上报时间"), db_default=Now())

    class Meta:
        verbose_name = _("民情诉求")
        verbose_name_plural = _("民情诉求")
        ordering = ["due_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="concern_state_due"),
            models.Index(fields=["grid", "state"], name="concern_grid_state"),
            models.Index(fields=["community", "state"], name="concern_community_state"),
            # The concern map (queries/concern_map.py) and the KPIs (queries/concern_kpis.py) each read a scope's
            # concerns of a period from an index alone (an index-only scan): a street's concerns lie on every page
            # of the table, so reading the rows themselves was a scan of the whole table at a million
            # (bench/results/concerns_heat_1000000.md, concerns_1000000.md). Two narrow indexes, not one wide one:
            # the planner read the table rather than an index of 312 MB (migration 0029).
            models.Index(
                fields=["community", "created_at"],
                include=["category", "state", "due_at", "location"],
                name="concern_community_created",
            ),
            models.Index(
                fields=["community", "created_at"],
                include=[
                    "id",
                    "state",
                    "due_at",
                    "grid",
                    "late_steps",
                    "rework",
                    "reopened",
                    "feedback",
                    "claimed_by",
                    "service_hours",
                    "beneficiaries",
                    "stage_started_at",
                    "hours_accept",
                    "hours_dispatch",
                    "hours_handle",
                    "hours_verify",
                    "late_stages",
                ],
                name="concern_kpis",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.address or self.pk}"


class ConcernEvent(models.Model):
    """One transition: who, when (the database's clock), from, to, note."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="events", verbose_name=_("诉求"))
    at = models.DateTimeField(_("时间"), db_default=Now())
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作人")
    )
    actor = models.CharField(_("操作人姓名"), max_length=150)
    action = models.CharField(_("操作"), max_length=16)
    from_state = models.CharField(_("原状态"), max_length=16, choices=ConcernState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, choices=ConcernState.choices)
    note = models.TextField(_("说明"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("诉求流转记录")
        verbose_name_plural = _("诉求流转记录")
        ordering = ["at", "id"]


class ConcernPhoto(models.Model):
    """A photo of a concern, re-encoded without metadata (services/concerns/photos.py); files under MEDIA_ROOT,
    served only through a view that checks the concern's scope."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="photos", verbose_name=_("诉求"))
    stage = models.CharField(_("环节"), max_length=16, default="report")  # the action it documents
    path = models.CharField(_("文件"), max_length=200)
    thumb_path = models.CharField(_("缩略图"), max_length=200)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    sha256 = models.CharField(_("原文件摘要"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("上传人")
    )
    created_at = models.DateTimeField(_("上传时间"), db_default=Now())

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["id"]
