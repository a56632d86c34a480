"""The planner's per-grid coverage figures, kept between requests (queries/coverage_store.py).

Not domain data: each row is what ``queries.coverage.grid_coverage`` computed for one grid from its
households, central households, links and help pairs at the grid's page revision, and from the stations
as they stood in ``CoverageStation``. The store recomputes a grid only when one of those has changed, so
the planner's first view after a change costs the changed grids, not a pass over a million households."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class GridCoverage(models.Model):
    grid = models.OneToOneField(
        "gridmap.Grid", primary_key=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("网格")
    )
    grid_revision = models.BigIntegerField()  # the grid's page revision (migration 0006) when computed
    basis = models.CharField(max_length=64)  # the settings the figures depend on (central-household band)
    households = models.IntegerField()
    covered = models.IntegerField()
    linked = models.IntegerField()
    central = models.IntegerField()
    central_links = models.IntegerField()
    central_off_band = models.IntegerField()
    vulnerable = models.IntegerField()
    vulnerable_uncovered = models.IntegerField()

    class Meta:
        verbose_name = _("网格覆盖统计")
        verbose_name_plural = _("网格覆盖统计")


class CoverageStation(models.Model):
    """A station as the stored figures last saw it: a station that differs (moved, resized, switched,
    added or deleted) makes the grids within its old and new reach stale. No foreign key: a deleted
    station must still be compared."""

    station_id = models.BigIntegerField(primary_key=True)
    location = models.PointField(srid=4326)
    radius_m = models.IntegerField()
    active = models.BooleanField()

    class Meta:
        verbose_name = _("覆盖统计所见服务站")
        verbose_name_plural = _("覆盖统计所见服务站")
