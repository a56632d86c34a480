"""Import jobs (households, streets, communities, stations, grids, reference layers): one row per upload, its
dry-run preview, its progress and its outcome.

The uploaded bytes stay in the row between the preview and the commit (and are dropped once the job is
done), so a worker process started by the upload view reads them from the database, not from a file
that another server could not see. ``sha256`` remembers which files were imported already. ``kind`` says
which import runs (services/imports/jobs.py dispatches by it), ``target_id`` its object (the community of
a grid import), ``options`` what the upload declared beside the file, ``result`` the answer of a layer or
grid import as its endpoint gives it inline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("处理中")
    PREVIEWED = "previewed", _("预检完成")
    REFUSED = "refused", _("有错误")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")


class ImportKind(models.TextChoices):
    HOUSEHOLDS = "households", _("住户")
    STREETS = "streets", _("街道")
    COMMUNITIES = "communities", _("社区")
    STATIONS = "stations", _("服务站点")
    GRIDS = "grids", _("网格")
    REFERENCE = "reference", _("参考图层")


class ImportJob(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("用户"),
    )
    kind = models.CharField(_("导入类型"), max_length=12, choices=ImportKind.choices, default=ImportKind.HOUSEHOLDS)
    target_id = models.IntegerField(_("导入对象"), null=True, blank=True)
    options = models.JSONField(_("导入选项"), default=dict, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    sha256 = models.CharField(_("文件哈希"), max_length=64, db_index=True)
    source_crs = models.CharField(_("坐标系"), max_length=20)
    dry_run = models.BooleanField(_("仅预检"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    stage = models.CharField(_("步骤"), max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    data = models.BinaryField(_("文件内容"), null=True, blank=True)
    worker_pid = models.IntegerField(_("进程号"), null=True, blank=True)
    backend_pid = models.IntegerField(_("数据库会话"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    heartbeat = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    counts = models.JSONField(_("计数"), default=dict, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    points = models.JSONField(_("预览点位"), default=list, blank=True)
    result = models.JSONField(_("导入结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        indexes = [models.Index(fields=["user", "created_at"], name="importjob_user_created")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"
