"""The concern map's figures (issue #17): heat cells as [lat, lon, count] and the choropleth's areas with their
class and legend. No SQL here (queries/concern_map.py counts); classes come from the project's classifier
(geodata/choropleth.py, Fisher–Jenks with its fallback, as the planner's coverage map), and a planner's small
counts are suppressed by the one helper (planner.metrics.suppress): counts of 1–4 read "<5", their rate is
withheld, and the class breaks come from the figures the planner may see only.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from geodata.choropleth import classify
from gridmap.planner.metrics import suppress

MEASURES = ("count", "per_1000")


def heat_points(cells: list[dict], *, planner: bool) -> tuple[list[list], int]:
    """``concern_cells`` rows → [lat, lon, count], and how many cells were withheld: for planners every cell of
    fewer than SMALL_COUNT_MIN concerns (a cell of 1–4 reports can point at a household)."""
    floor = settings.SMALL_COUNT_MIN if planner else 1
    points = [[round(c["lat"], 6), round(c["lon"], 6), c["count"]] for c in cells if c["count"] >= floor]
    return points, len(cells) - len(points)


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def area_table(rows: list[dict], measure: str, *, planner: bool, k: int = 5) -> dict:
    """``area_counts`` rows → each area with ``value`` (the count, or per 1,000 households) and its class, and the
    legend: one entry per class ("low–high"), plus "<5" for a planner's suppressed areas (class "suppressed")."""
    unit = _("件") if measure == "count" else _("件/千户")
    areas = []
    for row in rows:
        n, households = row["concerns"], row["households"]
        shown = suppress(n, planner)
        rate = round(1000.0 * n / households, 1) if households else None
        if isinstance(shown, str):
            rate = None  # the rate of a suppressed count would give the count away
        areas.append({**row, "concerns": shown, "per_1000": rate,
                      "value": shown if measure == "count" else rate})  # fmt: skip
    numeric = [a for a in areas if isinstance(a["value"], (int, float))]
    found = classify([a["value"] for a in numeric], k=k)
    for area, cls in zip(numeric, found["classes"], strict=True):
        area["class"] = cls
    legend, low = [], min((a["value"] for a in numeric), default=None)
    for i, high in enumerate(found["bins"]):
        unique = found["scheme"] == "unique" or low is None or low == high
        text = _fmt(high) if unique else f"{_fmt(low)}–{_fmt(high)}"
        legend.append({"class": i, "label": f"{text} {unit}"})
        low = high
    suppressed = False
    for area in areas:
        if isinstance(area["concerns"], str):
            area["class"], suppressed = "suppressed", True
        elif "class" not in area:
            area["class"] = None  # no households: no rate
    if suppressed:
        legend.append({"class": "suppressed", "label": _("少于 %(n)s 件（不显示）") % {"n": settings.SMALL_COUNT_MIN}})
    return {
        "measure": measure,
        "unit": str(unit),
        "classification": {
            "scheme": found["scheme"],
            "bins": found["bins"],
            **({"fallback": found["fallback"]} if "fallback" in found else {}),
        },
        "legend": legend,
        "areas": areas,
        "suppressed_below": settings.SMALL_COUNT_MIN if planner else None,
    }
