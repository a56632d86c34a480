"""The planner dashboard's figures: one metric per grid from ``grid_coverage`` rows, classed, ranked and
explained. No SQL here: the per-grid figures come only from ``gridmap.queries.coverage.grid_coverage``.

Small counts of sensitive categories (vulnerable households) are shown to planners as "<5"
(``SMALL_COUNT_MIN``): the number never leaves the server, and the class breaks are computed from the
figures the planner may see, so a break cannot betray a suppressed value either.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.choropleth import classify


@dataclass(frozen=True)
class Metric:
    key: str
    label: object  # lazy translation
    unit: object
    worse: str  # "high": larger is worse; "low": smaller is worse; "band": outside the size band
    sensitive: bool = False


METRICS = {
    m.key: m
    for m in (
        Metric("households", gettext_lazy("住户数"), gettext_lazy("户"), "band"),
        Metric("covered_pct", gettext_lazy("服务站覆盖率"), "%", "low"),
        Metric("linked_pct", gettext_lazy("中心户联系率"), "%", "low"),
        Metric("per_fulltime", gettext_lazy("每名专职网格员服务户数"), gettext_lazy("户"), "high"),
        Metric("vulnerable_uncovered", gettext_lazy("未覆盖困难户"), gettext_lazy("户"), "high", sensitive=True),
        Metric("size_band", gettext_lazy("网格规模"), "", "band"),
    )
}
SENSITIVE_FIELDS = ("vulnerable", "vulnerable_uncovered")
SIZE_CLASSES = ("under", "ok", "over")


def suppress(value: int | None, planner: bool):
    """A sensitive count as a planner may see it: ``"<5"`` for 1–4 (0 is no person and stays 0)."""
    if planner and value is not None and 0 < value < settings.SMALL_COUNT_MIN:
        return f"<{settings.SMALL_COUNT_MIN}"
    return value


def problems(row: dict) -> list[dict]:
    """Which of docs/domain.md's rules a grid breaks, each with a code and a sentence for the panel."""
    out = []
    if row["leaders"] == 0:
        out.append({"code": "no_leader", "text": _("未配备网格长")})
    elif row["leaders"] > 1:
        out.append({"code": "many_leaders", "text": _("网格长多于一名")})
    if row["fulltime"] == 0:
        out.append({"code": "no_fulltime", "text": _("未配备专职网格员")})
    elif row["per_fulltime"] > settings.HOUSEHOLDS_PER_FULLTIME_MAX:
        out.append(
            {
                "code": "fulltime_overloaded",
                "text": _("每名专职网格员服务 %(n).0f 户，超过 %(max)s 户")
                % {"n": row["per_fulltime"], "max": settings.HOUSEHOLDS_PER_FULLTIME_MAX},
            }
        )
    if row["size_status"] != "ok":
        out.append(
            {
                "code": "size_" + row["size_status"],
                "text": _("住户 %(n)s 户，不在 %(min)s–%(max)s 户之间")
                % {"n": row["households"], "min": settings.GRID_HOUSEHOLDS_MIN, "max": settings.GRID_HOUSEHOLDS_MAX},
            }
        )
    if row["covered_pct"] is not None and row["covered_pct"] < settings.STATION_COVERAGE_MIN_PCT:
        out.append(
            {
                "code": "low_coverage",
                "text": _("服务站覆盖率 %(pct).1f%%，低于 %(min)s%%")
                % {"pct": row["covered_pct"], "min": settings.STATION_COVERAGE_MIN_PCT},
            }
        )
    return out


def _band_distance(households: int) -> int:
    return max(settings.GRID_HOUSEHOLDS_MIN - households, households - settings.GRID_HOUSEHOLDS_MAX, 0)


def _badness(metric: Metric, value) -> float:
    """Sort key, larger = worse. A grid without the figure (no households, no full-time worker) is worst."""
    if metric.key == "per_fulltime" and value is None:
        return float("inf")
    if value is None:
        return float("-inf")
    if isinstance(value, str):  # suppressed "<5": between 0 and 5, so just above the grids with none
        return 0.5
    if metric.worse == "band":
        return float(_band_distance(value))
    return float(value) if metric.worse == "high" else -float(value)


def _size_legend() -> list[dict]:
    lo, hi = settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX
    return [
        {"class": 0, "label": _("少于 %(min)s 户") % {"min": lo}},
        {"class": 1, "label": _("%(min)s–%(max)s 户") % {"min": lo, "max": hi}},
        {"class": 2, "label": _("多于 %(max)s 户") % {"max": hi}},
    ]


def _legend(bins: list[float], lowest: float | None, unit, *, unique: bool = False) -> list[dict]:
    """One entry per class: "low–high" (the class holds values above low up to high), or the value itself."""

    def fmt(x):
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"

    out, low = [], lowest
    for i, high in enumerate(bins):
        text = fmt(high) if unique or low is None or low == high else f"{fmt(low)}–{fmt(high)}"
        out.append({"class": i, "label": f"{text} {unit}".strip()})
        low = high
    return out


def metric_table(rows: list[dict], metric_key: str, *, planner: bool, scheme: str = "fisher_jenks", k: int = 5) -> dict:
    """``grid_coverage`` rows → the dashboard's JSON: legend, classes, a worst-first ranking, reasons."""
    metric = METRICS[metric_key]
    grids = []
    for row in rows:
        value = row["households"] if metric.key == "size_band" else row[metric.key]
        item = {
            k_: row[k_]
            for k_ in (
                "grid_id",
                "code",
                "name",
                "households",
                "covered",
                "covered_pct",
                "linked",
                "linked_pct",
                "leaders",
                "fulltime",
                "per_fulltime",
                "size_status",
                "central",
                "central_load",
            )
        }
        for field in SENSITIVE_FIELDS:
            item[field] = suppress(row[field], planner)
        item["value"] = suppress(value, planner) if metric.sensitive else value
        item["problems"] = problems(row)
        grids.append(item)

    if metric.key == "size_band":
        for item in grids:
            item["class"] = SIZE_CLASSES.index(item["size_status"])
        legend, classification = (
            _size_legend(),
            {"scheme": "band", "bins": [settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX]},
        )
    else:
        shown = [g for g in grids if isinstance(g["value"], (int, float))]
        classification = classify([g["value"] for g in shown], k=k, scheme=scheme)
        for g, cls in zip(shown, classification["classes"]):
            g["class"] = cls
        legend = _legend(
            classification["bins"],
            min((g["value"] for g in shown), default=None),
            metric.unit,
            unique=classification["scheme"] == "unique",
        )
        if any(isinstance(g["value"], str) for g in grids):
            # Suppressed counts ("<5") get their own class, in order: after the classes of 0, before the rest.
            at = sum(1 for b in classification["bins"] if b < settings.SMALL_COUNT_MIN)
            legend = (
                legend[:at]
                + [{"class": at, "label": f"<{settings.SMALL_COUNT_MIN} {metric.unit}".strip()}]
                + [{**entry, "class": entry["class"] + 1} for entry in legend[at:]]
            )
        else:
            at = None
        for g in grids:
            if isinstance(g["value"], str):
                g["class"] = at
            elif "class" in g:
                g["class"] += 1 if at is not None and g["class"] >= at else 0
            else:
                g["class"] = None  # no figure: drawn as "no data"
        classification = {"scheme": classification["scheme"], "bins": classification["bins"]}

    ranking = sorted(grids, key=lambda g: (-_badness(metric, g["value"]), g["code"]))
    return {
        "metric": metric.key,
        "label": str(metric.label),
        "unit": str(metric.unit),
        "worse": metric.worse,
        "classification": classification,
        "legend": legend,
        "classes": len(legend),
        "grids": ranking,
        "suppressed_below": settings.SMALL_COUNT_MIN if planner else None,
        "metrics": [{"key": m.key, "label": str(m.label)} for m in METRICS.values()],
    }


def heat_points(cells: list[dict], layer: str, *, planner: bool) -> tuple[list[list], int]:
    """``heat_cells`` rows → [lat, lon, count] for one layer, and how many cells were withheld: for planners no
    cell of fewer than SMALL_COUNT_MIN households and no small count of vulnerable households."""
    floor = settings.SMALL_COUNT_MIN if planner else 1
    points, suppressed = [], 0
    for cell in cells:
        count = cell[layer]
        if count == 0:
            continue
        if cell["households"] < floor or (layer == "vulnerable_uncovered" and count < floor):
            suppressed += 1
            continue
        points.append([round(cell["lat"], 6), round(cell["lon"], 6), count])
    return points, suppressed
