"""Classification never collapses to one class (issue #16, item 5): quantiles of tied values fall back to
natural breaks and say so; the planner's legend shows the note (tests/test_readable_maps_browser.py covers the
page)."""

from __future__ import annotations

from geodata.choropleth import classify


def test_quantiles_of_mostly_tied_values_fall_back_to_natural_breaks_and_say_so():
    values = [100.0] * 90 + [20, 50, 60, 70, 80, 90, 95, 97, 98, 99]
    found = classify(values, k=5, scheme="quantiles")
    assert found["scheme"] == "fisher_jenks" and found["fallback"] == "quantiles"
    assert len(set(found["classes"])) >= 3 and len(found["bins"]) == 5


def test_quantiles_that_spread_stay_quantiles():
    found = classify(list(range(100)), k=5, scheme="quantiles")
    assert found["scheme"] == "quantiles" and "fallback" not in found and len(set(found["classes"])) == 5
